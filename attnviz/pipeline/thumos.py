"""``attnviz eval-thumos``: read ground truth and detections, score them, compare protocols."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attnviz.evaluate.params import parse_thresholds
from attnviz.evaluate.thumos import DEFAULT_TIOU, FP, IGNORED, PROTOCOLS, TP, evaluate_thumos
from attnviz.io.thumos import read_detections, read_thumos_gt
from attnviz.types import EvalResult, TemporalDetections, TemporalGroundTruth

__all__ = ["ProtocolDiff", "compare_thumos", "eval_thumos", "load_inputs"]


def load_inputs(
    gt: str | os.PathLike[str],
    pred: str | os.PathLike[str],
    *,
    subset: str = "test",
    classes: str | os.PathLike[str] | None = None,
    pred_format: str | None = None,
) -> tuple[TemporalGroundTruth, TemporalDetections]:
    """Read the ground truth and the detections (formats as in :mod:`attnviz.io.thumos`)."""
    truth = read_thumos_gt(gt, subset=subset, classes=classes)
    dets = read_detections(
        pred, class_ids=truth.class_ids, class_names=truth.class_names, fmt=pred_format
    )
    return truth, dets


def eval_thumos(
    gt: str | os.PathLike[str],
    pred: str | os.PathLike[str],
    *,
    protocol: str = "thumos14",
    tiou: str | Sequence[float] = DEFAULT_TIOU,
    subset: str = "test",
    classes: str | os.PathLike[str] | None = None,
    pred_format: str | None = None,
) -> EvalResult:
    """Score the detection file ``pred`` against ``gt`` under ``protocol``."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    thresholds = parse_thresholds(tiou) if isinstance(tiou, str) else tuple(tiou)
    truth, dets = load_inputs(gt, pred, subset=subset, classes=classes, pred_format=pred_format)
    return evaluate_thumos(truth, dets, protocol=protocol, tiou=thresholds)


@dataclass(frozen=True)
class ProtocolDiff:
    """How two protocols judged the same detections at one threshold.

    Attributes:
        a, b (str): the protocols.
        tiou (float): the threshold.
        tp_to_fp (int): true positive under ``a``, false positive under ``b``.
        fp_to_tp (int): false positive under ``a``, true positive under ``b``.
        ignored_a (int), ignored_b (int): detections dropped (Ambiguous) under each.
        ignored_to_fp (int): dropped under ``a`` but a false positive under ``b``.
        examples (tuple[int, ...]): a few file line numbers of changed detections.
    """

    a: str
    b: str
    tiou: float
    tp_to_fp: int
    fp_to_tp: int
    ignored_a: int
    ignored_b: int
    ignored_to_fp: int
    examples: tuple[int, ...]


def _status_table(result: EvalResult, n: int) -> np.ndarray:
    out = np.full((len(result.thresholds), n), FP, dtype=np.int8)
    for m in result.extra["matches"].values():
        out[:, m.det_index] = m.status
    return out


def compare_thumos(
    truth: TemporalGroundTruth,
    dets: TemporalDetections,
    protocols: Sequence[str],
    *,
    tiou: Sequence[float] = DEFAULT_TIOU,
) -> tuple[list[EvalResult], list[ProtocolDiff]]:
    """Score one detection set under several protocols and list, for each protocol against the
    first, which detections changed status at each threshold."""
    results = [
        evaluate_thumos(truth, dets, protocol=p, tiou=tuple(tiou), keep_matches=True)
        for p in protocols
    ]
    n = len(dets)
    tables = [_status_table(r, n) for r in results]
    diffs: list[ProtocolDiff] = []
    base = tables[0]
    for r, tab in zip(results[1:], tables[1:], strict=True):
        for i, t in enumerate(r.thresholds):
            a, b = base[i], tab[i]
            changed = np.flatnonzero(a != b)
            diffs.append(
                ProtocolDiff(
                    a=results[0].protocol,
                    b=r.protocol,
                    tiou=float(t),
                    tp_to_fp=int(((a == TP) & (b == FP)).sum()),
                    fp_to_tp=int(((a == FP) & (b == TP)).sum()),
                    ignored_a=int((a == IGNORED).sum()),
                    ignored_b=int((b == IGNORED).sum()),
                    ignored_to_fp=int(((a == IGNORED) & (b == FP)).sum()),
                    examples=tuple(int(dets.line[j]) for j in changed[:5]),
                )
            )
    for r in results:
        r.extra.pop("matches", None) if isinstance(r.extra, dict) else None
    return results, diffs
