"""``attnviz eval-multisports``: read the ground truth and the detections, score, format."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from attnviz.errors import InputError, ParameterError
from attnviz.evaluate.multisports import NAMED_RANGES, MultiSportsParams, evaluate, parse_iou
from attnviz.io.multisports import (
    read_multisports_frames,
    read_multisports_gt,
    read_multisports_tubes,
)
from attnviz.io.spatial_gt import read_spatial_gt
from attnviz.report import format_result
from attnviz.types import EvalResult, SpatialGroundTruth

__all__ = ["eval_multisports", "format_multisports"]


def eval_multisports(
    gt: str | os.PathLike[str] | SpatialGroundTruth,
    pred: str | os.PathLike[str],
    *,
    metric: str = "frame",
    iou: str | Sequence[float] | None = None,
) -> EvalResult:
    """Frame-AP (``metric="frame"``) or video-AP (``"video"``) of a MultiSports detection file
    against the ground-truth pickle, as ``evaluate_multisports.py`` computes them.

    Args:
        gt: ``multisports_GT.pkl`` (the ACT layout; any file
            :func:`~attnviz.io.spatial_gt.read_spatial_gt` reads) or the record.
        pred: frame detections (official ``[N, 8]`` pickle, or CSV with video names) or video
            detections (official ``{label: [(video, score, tube)]}`` pickle, or ``tubes.json``).
        iou: thresholds (default: frame 0.5; video 0.2 and 0.5); ranges as ``videoAP_all``.
    """
    if metric not in ("frame", "video"):
        raise ParameterError("metric", f"must be frame or video, got {metric!r}")
    params = MultiSportsParams.for_metric(metric, iou)
    if isinstance(gt, SpatialGroundTruth):
        truth = gt
    else:  # frame-AP reads ground-truth boxes as float64 whatever their type; video-AP does not
        truth = read_multisports_gt(gt) if metric == "video" else read_spatial_gt(gt)
    if not truth.test_videos:
        raise InputError(f"{truth.source}: the ground truth has no test_videos")
    if metric == "frame":
        dets = read_multisports_frames(pred, truth)
    else:
        dets = read_multisports_tubes(pred, truth)
    return evaluate(truth, dets, params)


def _notes(result: EvalResult) -> list[str]:
    lines = []
    got = {float(t).hex(): j for j, t in enumerate(result.thresholds)}
    for spec in NAMED_RANGES:
        idx = [got.get(t.hex()) for t in parse_iou(spec)]
        if all(i is not None for i in idx):
            mean = float(np.mean(result.mAP[idx]))
            lines.append(f"{result.metric}-mAP {spec} (mean of {len(idx)}): {100 * mean:.2f}")
    ex = result.extra.get("excluded") or []
    if ex:
        lines.append("not scored (left out by the official script): " + ", ".join(ex))
    empty = result.extra.get("no_ground_truth") or []
    if empty:
        lines.append("absent (no ground truth in the test videos): " + ", ".join(empty))
    return lines


def format_multisports(result: EvalResult, fmt: str = "table") -> str:
    """``table`` / ``markdown``: AP of every scored label, the mAP, the mean over each official
    range present, and the labels left out; ``json`` / ``csv``: the documented layouts."""
    text = format_result(result, fmt, per_class=True)
    if fmt in ("table", "markdown"):
        notes = _notes(result)
        if notes:
            text += "\n" + "\n".join(notes) + "\n"
    return text
