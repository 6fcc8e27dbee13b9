"""``attnviz eval-thumos``: read ground truth and detections, score them, compare protocols.

Library use without files: build a :class:`~attnviz.types.TemporalGroundTruth` and
:class:`~attnviz.types.TemporalDetections` (labels index the ground truth's class names) and call
:func:`attnviz.evaluate.thumos.evaluate_thumos`; :func:`relabel` maps detections whose labels
index another class list (a model's) onto the ground truth's by name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.evaluate.params import parse_thresholds
from attnviz.evaluate.thumos import (
    DEFAULT_TIOU,
    FP,
    IGNORED,
    PROTOCOLS,
    TP,
    ThumosParams,
    evaluate_thumos,
)
from attnviz.io.thumos import read_detections, read_thumos_gt, write_thumos_gt
from attnviz.ops.segments import intersecting_pairs, segment_iou_pairs, thumos_overlap_pairs
from attnviz.types import EvalResult, TemporalDetections, TemporalGroundTruth

__all__ = [
    "REASONS",
    "ProtocolDiff",
    "compare_thumos",
    "convert_thumos_gt",
    "eval_thumos",
    "load_inputs",
    "relabel",
]


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


def _thresholds(tiou: str | Sequence[float]) -> tuple[float, ...]:
    return parse_thresholds(tiou if isinstance(tiou, str) else list(tiou))


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
    """Score the detection file ``pred`` against ``gt`` under ``protocol``.

    Raises:
        AttnvizError: unknown protocol, unreadable or malformed inputs (the message names the
            file, line and field).
    """
    if protocol not in PROTOCOLS:
        raise AttnvizError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    thresholds = _thresholds(tiou)
    truth, dets = load_inputs(gt, pred, subset=subset, classes=classes, pred_format=pred_format)
    return evaluate_thumos(truth, dets, protocol=protocol, tiou=thresholds)


def convert_thumos_gt(
    gt: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    to: str,
    subset: str = "test",
    classes: str | os.PathLike[str] | None = None,
) -> Path:
    """Read temporal ground truth (any layout of :func:`~attnviz.io.thumos.read_thumos_gt`) and
    write it as ``to`` (one of :data:`~attnviz.io.thumos.TEMPORAL_GT_FORMATS`)."""
    write_thumos_gt(read_thumos_gt(gt, subset=subset, classes=classes), out, to)
    return Path(out)


def relabel(
    dets: TemporalDetections, from_names: Sequence[str], to_names: Sequence[str]
) -> TemporalDetections:
    """Detections whose labels index ``from_names`` (e.g. a model's classes), re-indexed into
    ``to_names`` (the ground truth's) by class name.

    Raises:
        AttnvizError: a detected class that ``to_names`` does not have.
    """
    lookup = {n: k for k, n in enumerate(to_names)}
    mapping = np.full(len(from_names), -1, dtype=np.int64)
    for k, name in enumerate(from_names):
        mapping[k] = lookup.get(name, -1)
    label = mapping[dets.label] if len(dets) else dets.label
    if len(dets) and (label < 0).any():
        bad = from_names[int(dets.label[np.flatnonzero(label < 0)[0]])]
        raise AttnvizError(f"detected class {bad!r} is not a class of the ground truth")
    return TemporalDetections(
        dets.video, dets.start, dets.end, label, dets.score, dets.line, dets.source
    )


#: why a detection's status differs between two protocols (the categories of ``--compare``)
REASONS = {
    "ambiguous": "overlaps an Ambiguous segment (dropped under the THUMOS14 kits, a false "
    "positive under activitynet)",
    "video_name": "video name with .mp4 / .mpeg (each kit strips only its own suffix)",
    "reversed": "reversed segment (the THUMOS14 kits put the ends in order, activitynet does not)",
    "at_threshold": "overlap exactly equal to the threshold (the THUMOS14 kits need > threshold, "
    "activitynet >=)",
    "matching_order": "greedy matching order (the THUMOS14 kits let ground truths in file order "
    "pick detections, activitynet lets detections in score order pick ground truths)",
    "knock_on": "another detection of its video changed (e.g. a renamed one) and took or freed "
    "its ground truth",
}


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
        fp_to_ignored (int): a false positive under ``a``, dropped under ``b``.
        tp_to_ignored (int), ignored_to_tp (int): true positive under one, dropped under the
            other; the six transitions add up to :attr:`changed`.
        reasons (dict[str, int]): changed detections per cause (keys of :data:`REASONS`).
        examples (tuple[int, ...]): file line numbers of a few changed detections.
        map_a (float), map_b (float): the mAP of each protocol at this threshold.
    """

    a: str
    b: str
    tiou: float
    tp_to_fp: int
    fp_to_tp: int
    ignored_a: int
    ignored_b: int
    ignored_to_fp: int
    fp_to_ignored: int = 0
    tp_to_ignored: int = 0
    ignored_to_tp: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: tuple[int, ...] = ()
    map_a: float = 0.0
    map_b: float = 0.0

    @property
    def changed(self) -> int:
        """Detections whose status differs."""
        return sum(self.reasons.values())

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "tiou": self.tiou,
            "mAP": [self.map_a, self.map_b],
            "changed": self.changed,
            "tp_to_fp": self.tp_to_fp,
            "fp_to_tp": self.fp_to_tp,
            "ignored_to_fp": self.ignored_to_fp,
            "fp_to_ignored": self.fp_to_ignored,
            "tp_to_ignored": self.tp_to_ignored,
            "ignored_to_tp": self.ignored_to_tp,
            "reasons": dict(self.reasons),
            "examples": list(self.examples),
        }


def _status_table(result: EvalResult, n: int) -> np.ndarray:
    out = np.full((len(result.thresholds), n), FP, dtype=np.int8)
    for m in result.extra["matches"].values():
        out[:, m.det_index] = m.status
    return out


def _at_threshold(
    truth: TemporalGroundTruth, dets: TemporalDetections, idx: np.ndarray, thr: float
) -> np.ndarray:
    """``ndarray[len(idx)] bool``: the detection's overlap (either definition) with some ground
    truth of its class and video equals ``thr`` exactly."""
    out = np.zeros(len(idx), dtype=bool)
    if len(idx) == 0 or len(truth) == 0:
        return out
    names = {v: i for i, v in enumerate(sorted(set(truth.video.tolist())))}
    k = len(truth.class_names)
    g_key = np.asarray([names[v] for v in truth.video.tolist()], dtype=np.int64) * k + truth.label
    d_vid = np.asarray([names.get(v, -1) for v in dets.video[idx].tolist()], dtype=np.int64)
    d_key = np.where(d_vid >= 0, d_vid * k + dets.label[idx], -1)
    d_seg = np.stack([dets.start[idx], dets.end[idx]], axis=1)
    g_seg = np.stack([truth.start, truth.end], axis=1)
    d_lo, d_hi = d_seg.min(axis=1), d_seg.max(axis=1)
    i, j = intersecting_pairs(d_key, d_lo, d_hi, g_key, g_seg.min(axis=1), g_seg.max(axis=1))
    hit = (thumos_overlap_pairs(d_seg[i], g_seg[j]) == thr) | (
        segment_iou_pairs(d_seg[i], g_seg[j]) == thr
    )
    out[i[hit]] = True
    return out


def compare_thumos(
    truth: TemporalGroundTruth,
    dets: TemporalDetections,
    protocols: Sequence[str],
    *,
    tiou: Sequence[float] | str = DEFAULT_TIOU,
) -> tuple[list[EvalResult], list[ProtocolDiff]]:
    """Score one detection set under several protocols and list, for each protocol against the
    first, which detections changed status at each threshold and why (:data:`REASONS`).

    Raises:
        AttnvizError: fewer than two protocols, or an unknown one.
    """
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad or len(protocols) < 2:
        raise AttnvizError(
            f"compare needs two or more of {', '.join(PROTOCOLS)}, got {', '.join(protocols)}"
        )
    thresholds = _thresholds(tiou)
    results = [
        evaluate_thumos(truth, dets, protocol=p, tiou=thresholds, keep_matches=True)
        for p in protocols
    ]
    n = len(dets)
    tables = [_status_table(r, n) for r in results]
    strip = {p: ThumosParams.for_protocol(p, thresholds).strip for p in protocols}
    names = dets.video.tolist()
    reversed_ = dets.start > dets.end
    diffs: list[ProtocolDiff] = []
    base, pa = tables[0], protocols[0]
    for r, tab, pb in zip(results[1:], tables[1:], protocols[1:], strict=True):
        renamed = np.zeros(n, dtype=bool)
        if strip[pa] != strip[pb]:
            renamed[:] = [
                (v.replace(strip[pa], "") if strip[pa] else v)
                != (v.replace(strip[pb], "") if strip[pb] else v)
                for v in names
            ]
        one_is_anet = "activitynet" in (pa, pb)
        for i, t in enumerate(r.thresholds):
            a, b = base[i], tab[i]
            changed = np.flatnonzero(a != b)
            reason = np.full(len(changed), "", dtype=object)
            amb = (a[changed] == IGNORED) | (b[changed] == IGNORED)
            reason[amb] = "ambiguous"
            left = reason == ""
            reason[left & renamed[changed]] = "video_name"
            if one_is_anet:
                left = reason == ""
                reason[left & reversed_[changed]] = "reversed"
                left = reason == ""
                exact = _at_threshold(truth, dets, changed[left], float(t))
                sub = np.flatnonzero(left)
                reason[sub[exact]] = "at_threshold"
            reason[reason == ""] = "matching_order" if one_is_anet else "knock_on"
            counts = {key: int((reason == key).sum()) for key in REASONS}
            diffs.append(
                ProtocolDiff(
                    a=pa,
                    b=pb,
                    tiou=float(t),
                    tp_to_fp=int(((a == TP) & (b == FP)).sum()),
                    fp_to_tp=int(((a == FP) & (b == TP)).sum()),
                    ignored_a=int((a == IGNORED).sum()),
                    ignored_b=int((b == IGNORED).sum()),
                    ignored_to_fp=int(((a == IGNORED) & (b == FP)).sum()),
                    fp_to_ignored=int(((a == FP) & (b == IGNORED)).sum()),
                    tp_to_ignored=int(((a == TP) & (b == IGNORED)).sum()),
                    ignored_to_tp=int(((a == IGNORED) & (b == TP)).sum()),
                    reasons={k: v for k, v in counts.items() if v},
                    examples=tuple(int(dets.line[j]) for j in changed[:5]),
                    map_a=float(results[0].mAP[i]),
                    map_b=float(r.mAP[i]),
                )
            )
    for r in results:
        r.extra.pop("matches", None)
    return results, diffs
