"""``attnviz eval-ucf24`` and ``attnviz convert-gt``: read, score, compare, convert."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError, InputError, ParameterError
from attnviz.evaluate.params import parse_thresholds
from attnviz.evaluate.ucf24 import (
    DEFAULT_IOU,
    FRAME_PROTOCOLS,
    VIDEO_PROTOCOLS,
    frame_map,
    frame_status,
    tube_status,
    video_map,
)
from attnviz.io.detections import read_coco_results, read_frame_detections, read_tubes
from attnviz.io.spatial_gt import GT_FORMATS, read_spatial_gt, write_spatial_gt
from attnviz.types import EvalResult, FrameDetections, SpatialGroundTruth, Tube

__all__ = [
    "PROTOCOL_NOTES",
    "Comparison",
    "compare_ucf24",
    "convert_gt",
    "eval_ucf24",
    "load_predictions",
    "protocol_differences",
]

PROTOCOL_NOTES = {
    ("frame", "act"): "IoU with +1 pixels; best still-unmatched GT of the frame, IoU >= t; "
    "trapezoidal AP from (0, 1) on float32 precision/recall; mAP over all classes",
    ("frame", "voc"): "IoU with +1 pixels, 0 for boxes apart by any gap; best GT of the frame "
    "even if taken (then a false positive); every-point interpolated AP; classes without GT "
    "left out of the mAP",
    ("frame", "coco"): "IoU without +1; top 100 per frame and class; best unmatched GT with "
    "IoU >= t (the later one on equal IoU); 101-point interpolated AP; classes without GT left "
    "out of the mAP",
    ("video", "act"): "3D NMS at 0.3 first; +1 pixels; tubes sharing one frame overlap; "
    "IoU >= t; trapezoidal AP",
    ("video", "voc"): "no NMS; +1 pixels; tubes must share two frames; IoU >= t; recall "
    "tp/(npos + 1e-5); every-point AP",
    ("video", "ucf24-matlab"): "no NMS; detection box [x y w h] + 1; tubes must share two "
    "frames; IoU > t (strict); scores as single precision; every-point AP",
}

_FRAME_REASONS = {
    frozenset({"act", "voc"}): "voc lets a detection take a ground-truth box that is already "
    "matched (and then counts it a false positive) where act moves on to the next best free "
    "box; voc's IoU is 0 for boxes apart by a fraction of a pixel; act's AP is the trapezoidal "
    "area under the raw curve, voc's the interpolated envelope, and voc leaves classes without "
    "ground truth out of the mean",
    frozenset({"act", "coco"}): "coco measures boxes without the +1 pixel (smaller IoU for "
    "small boxes), keeps 100 detections per frame and class, and samples the interpolated "
    "curve at 101 recall points; act integrates the raw curve",
    frozenset({"voc", "coco"}): "voc adds +1 pixel and never re-assigns a taken ground truth; "
    "coco takes the best free one above the threshold and samples 101 recall points",
}
_VIDEO_REASONS = {
    frozenset({"act", "voc"}): "act runs 3D NMS (0.3) first and counts tubes sharing a single "
    "frame as overlapping; voc (YOWO) keeps every tube, needs two shared frames, divides "
    "recall by npos + 1e-5 and interpolates precision",
    frozenset({"act", "ucf24-matlab"}): "ucf24-matlab keeps every tube, adds 1 to the "
    "detection's x, y, w and h, needs IoU strictly above the threshold and two shared frames, "
    "and interpolates precision; act runs NMS and integrates the raw curve",
    frozenset({"voc", "ucf24-matlab"}): "ucf24-matlab adds 1 to the detection's x, y, w and h "
    "(no +1 pixel in the area), needs IoU strictly above the threshold and ranks single-"
    "precision scores; voc divides recall by npos + 1e-5",
}


def load_predictions(
    truth: SpatialGroundTruth,
    pred: str | os.PathLike[str],
    *,
    metric: str,
    coco_gt: str | os.PathLike[str] | None = None,
) -> FrameDetections | list[Tube]:
    """Frame detections (CSV, or COCO results with ``coco_gt``) or tubes (JSON), checked
    against ``truth``."""
    p = Path(pred)
    if metric == "frame":
        name = p.name.lower()
        if name.endswith(".json") or name.endswith(".json.gz"):
            if coco_gt is None:
                raise ParameterError(
                    "coco_gt",
                    f"is needed: {p} holds COCO results, which refer to the COCO ground truth "
                    "(written by attnviz convert-gt --to coco)",
                )
            return read_coco_results(p, coco_gt, truth)
        return read_frame_detections(p, truth)
    if metric == "video":
        return read_tubes(p, truth)
    raise ParameterError("metric", f"must be frame or video, got {metric!r}")


def _check_protocol(metric: str, protocol: str) -> None:
    if metric == "frame" and protocol not in FRAME_PROTOCOLS:
        raise AttnvizError(f"frame protocols are {', '.join(FRAME_PROTOCOLS)}, got {protocol!r}")
    if metric == "video" and protocol not in VIDEO_PROTOCOLS:
        raise AttnvizError(f"video protocols are {', '.join(VIDEO_PROTOCOLS)}, got {protocol!r}")
    if metric not in ("frame", "video"):
        raise ParameterError("metric", f"must be frame or video, got {metric!r}")


def _check_split(truth: SpatialGroundTruth, split: str) -> None:
    if split not in ("train", "test", "all"):
        raise ParameterError("split", f"must be train, test or all, got {split!r}")
    if not truth.split(split):
        raise InputError(
            f"{truth.source}: the ground truth has no {split} split (for pyannot.pkl or "
            "finalAnnots.mat put testlist01.txt beside it, or use {split} all)",
            params=("split",),
        )


def _score(truth, preds, metric, protocol, thresholds, split, tube_nms) -> EvalResult:
    if metric == "frame":
        return frame_map(truth, preds, protocol=protocol, iou=thresholds, split=split)
    return video_map(
        truth, preds, protocol=protocol, iou=thresholds, split=split, tube_nms=tube_nms
    )


def eval_ucf24(
    gt: str | os.PathLike[str] | SpatialGroundTruth,
    pred: str | os.PathLike[str],
    *,
    metric: str = "frame",
    protocol: str = "act",
    iou: str | Sequence[float] = DEFAULT_IOU,
    split: str = "test",
    coco_gt: str | os.PathLike[str] | None = None,
    tube_nms: float | None = 0.3,
) -> EvalResult:
    """Score per-frame detections (``metric="frame"``; CSV or COCO results with ``coco_gt``)
    or tubes (``metric="video"``; tubes JSON) against spatial ground truth (a file in any
    layout :func:`~attnviz.io.spatial_gt.read_spatial_gt` reads, or the record)."""
    _check_protocol(metric, protocol)
    thresholds = parse_thresholds(iou if isinstance(iou, str) else list(iou))
    truth = gt if isinstance(gt, SpatialGroundTruth) else read_spatial_gt(gt)
    _check_split(truth, split)
    preds = load_predictions(truth, pred, metric=metric, coco_gt=coco_gt)
    return _score(truth, preds, metric, protocol, thresholds, split, tube_nms)


@dataclass(frozen=True)
class Comparison:
    """Several protocols on one input.

    Attributes:
        results (tuple[EvalResult, ...]): one per protocol, in the order asked for.
        changed (dict): ``{(protocol a, protocol b): [T] pairs (n, m)}``: at each threshold,
            ``n`` detections that are true positives under ``a`` but not under ``b``, ``m`` the
            reverse (ACT's NMS or COCO's 100 per frame may drop a detection: it is then
            counted as not a true positive).
        reasons (dict): ``{(a, b): why the rules differ}``.
    """

    results: tuple[EvalResult, ...]
    changed: dict
    reasons: dict


def _tp_by_detection(truth, preds, metric, protocol, thr, split, tube_nms) -> np.ndarray:
    """``[T, N]`` bool: detection ``i`` is a true positive at threshold ``t``."""
    if metric == "frame":
        return frame_status(truth, preds, protocol=protocol, iou=thr.tolist(), split=split)
    return tube_status(
        truth, preds, protocol=protocol, iou=thr.tolist(), split=split, tube_nms=tube_nms
    )


def compare_ucf24(
    gt: str | os.PathLike[str] | SpatialGroundTruth,
    pred: str | os.PathLike[str],
    protocols: Sequence[str],
    *,
    metric: str = "frame",
    iou: str | Sequence[float] = DEFAULT_IOU,
    split: str = "test",
    coco_gt: str | os.PathLike[str] | None = None,
    tube_nms: float | None = 0.3,
) -> Comparison:
    """Score one input under several protocols and count, for each pair, the detections whose
    status differs at each threshold (reading the files once)."""
    protocols = [p.strip() for p in protocols if p.strip()]
    if len(protocols) < 2:
        raise ParameterError("compare", "needs at least two protocols, e.g. act,voc,coco")
    for p in protocols:
        _check_protocol(metric, p)
    thresholds = parse_thresholds(iou if isinstance(iou, str) else list(iou))
    truth = gt if isinstance(gt, SpatialGroundTruth) else read_spatial_gt(gt)
    _check_split(truth, split)
    preds = load_predictions(truth, pred, metric=metric, coco_gt=coco_gt)
    results = tuple(_score(truth, preds, metric, p, thresholds, split, tube_nms) for p in protocols)
    thr = np.asarray(thresholds)
    tp = {p: _tp_by_detection(truth, preds, metric, p, thr, split, tube_nms) for p in protocols}
    changed, reasons = {}, {}
    table = _FRAME_REASONS if metric == "frame" else _VIDEO_REASONS
    for i, a in enumerate(protocols):
        for b in protocols[i + 1 :]:
            ab = (tp[a] & ~tp[b]).sum(axis=1)
            ba = (tp[b] & ~tp[a]).sum(axis=1)
            changed[(a, b)] = [(int(x), int(y)) for x, y in zip(ab, ba, strict=True)]
            reasons[(a, b)] = table.get(frozenset({a, b}), "same protocol")
    return Comparison(results, changed, reasons)


def protocol_differences(comparison: Comparison) -> list[str]:
    """The comparison as lines of text: mAP gap, status changes, and why, for each pair."""
    by = {r.protocol: r for r in comparison.results}
    lines = []
    for (a, b), counts in comparison.changed.items():
        ra, rb = by[a], by[b]
        gaps = ", ".join(
            f"IoU={t:g}: {100 * (y - x):+.2f}"
            for t, x, y in zip(ra.thresholds, ra.mAP, rb.mAP, strict=True)
        )
        moved = ", ".join(
            f"IoU={t:g}: {x} TP only under {a}, {y} only under {b}"
            for t, (x, y) in zip(ra.thresholds, counts, strict=True)
        )
        lines.append(f"{b} vs {a}: mAP {gaps} points")
        lines.append(f"  detections that change status: {moved}")
        lines.append(f"  why: {comparison.reasons[(a, b)]}")
    return lines


def convert_gt(
    gt: str | os.PathLike[str], out: str | os.PathLike[str], *, to: str, split: str = "test"
) -> Path:
    """Read ground truth in any supported layout and write it as ``to`` (one of
    :data:`~attnviz.io.spatial_gt.GT_FORMATS`)."""
    if to not in GT_FORMATS:
        raise ParameterError("to", f"must be one of {', '.join(GT_FORMATS)}, got {to!r}")
    truth = read_spatial_gt(gt)
    if to in ("coco", "yowo-zip"):
        _check_split(truth, split)
    write_spatial_gt(truth, out, to, split=split)
    return Path(out)
