"""One call per benchmark: ground truth and detections as files or as attnviz records.

These wrap :func:`attnviz.evaluate.thumos.evaluate_thumos`,
:func:`attnviz.evaluate.ucf24.frame_map` and :func:`attnviz.evaluate.ucf24.video_map`; files are
read by :mod:`attnviz.io` (imported only when a path is given). They return data and print
nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from attnviz.evaluate.thumos import DEFAULT_TIOU, evaluate_thumos
from attnviz.evaluate.ucf24 import DEFAULT_IOU, frame_map, video_map
from attnviz.types import (
    Box,
    EvalResult,
    FrameDetections,
    Segment,
    SpatialGroundTruth,
    TemporalDetections,
    TemporalGroundTruth,
    Tube,
)

__all__ = ["segments_to_detections", "boxes_to_detections", "thumos14", "ucf24"]

PathLike = str | os.PathLike[str]


def segments_to_detections(
    segments: Sequence[Segment],
    *,
    class_names: Sequence[str] | None = None,
    gt_class_names: Sequence[str] | None = None,
) -> TemporalDetections:
    """``Segment`` records -> :class:`~attnviz.types.TemporalDetections`.

    Args:
        segments: e.g. from :func:`attnviz.localize.segments_from_attention`.
        class_names: the names the segments' ``label`` indexes (the model's classes).
        gt_class_names: the ground truth's classes; with ``class_names``, labels are mapped by
            name (a class the ground truth lacks raises ``ValueError``).
    """
    labels = [s.label for s in segments]
    if class_names is not None and gt_class_names is not None:
        index = {n: i for i, n in enumerate(gt_class_names)}
        missing = sorted({class_names[k] for k in labels} - set(index))
        if missing:
            raise ValueError(f"classes not in the ground truth: {', '.join(missing)}")
        labels = [index[class_names[k]] for k in labels]
    return TemporalDetections.from_arrays(
        [s.video for s in segments], [s.start for s in segments], [s.end for s in segments],
        labels, [s.score for s in segments],
    )  # fmt: skip


def boxes_to_detections(boxes: Sequence[Box]) -> FrameDetections:
    """``Box`` records -> :class:`~attnviz.types.FrameDetections` (boxes ``[N, 4]`` pixels)."""
    xyxy = np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], dtype=np.float64).reshape(-1, 4)
    return FrameDetections.from_arrays(
        [b.video for b in boxes], [b.frame for b in boxes], [b.label for b in boxes],
        [b.score for b in boxes], xyxy,
    )  # fmt: skip


def thumos14(
    gt: PathLike | TemporalGroundTruth,
    detections: PathLike | TemporalDetections | Sequence[Segment],
    *,
    protocol: str = "thumos14",
    tiou: Sequence[float] | str = DEFAULT_TIOU,
    subset: str = "test",
    classes: PathLike | None = None,
    class_names: Sequence[str] | None = None,
) -> EvalResult:
    """Temporal detection mAP (the paper's Table 6).

    Args:
        gt: a THUMOS14 annotation folder, GT ``.json`` / ``.csv``, a name (``thumos14``,
            ``thumos14-val``: the ground truth shipped with attnviz), or a
            :class:`~attnviz.types.TemporalGroundTruth`.
        detections: a run file / ``.json`` / ``.csv``, :class:`~attnviz.types.TemporalDetections`
            (labels index the ground truth's classes), or ``Segment`` records.
        protocol: ``thumos14`` (2015 kit), ``thumos14-2014`` or ``activitynet``.
        tiou: thresholds (default 0.1-0.5).
        subset, classes: for reading ``gt`` (see :func:`attnviz.io.thumos.read_thumos_gt`).
        class_names: the class names ``Segment.label`` indexes (the model's), mapped to the
            ground truth's by name; default: labels already index the ground truth's classes.

    Returns:
        EvalResult: ``ap [K, T]``, ``mAP [T]`` (over the classes with ground truth).
    """
    if not isinstance(gt, TemporalGroundTruth):
        from attnviz.io.datasets import resolve_gt
        from attnviz.io.thumos import read_thumos_gt

        ref = resolve_gt(gt)  # a path, or a name such as ``thumos14`` with its class list
        gt = read_thumos_gt(ref.path, subset=ref.subset or subset, classes=classes or ref.classes)
    if isinstance(detections, str | os.PathLike):
        from attnviz.io.thumos import read_detections

        detections = read_detections(detections, class_ids=gt.class_ids, class_names=gt.class_names)
    elif not isinstance(detections, TemporalDetections):
        detections = segments_to_detections(
            list(detections), class_names=class_names, gt_class_names=gt.class_names
        )
    return evaluate_thumos(gt, detections, protocol=protocol, tiou=tiou)


def ucf24(
    gt: PathLike | SpatialGroundTruth,
    detections: PathLike | FrameDetections | Sequence[Box] | Sequence[Tube],
    *,
    metric: str | None = None,
    protocol: str = "act",
    iou: Sequence[float] | str = DEFAULT_IOU,
    split: str = "test",
) -> EvalResult:
    """Frame-mAP or video-mAP on UCF101-24 / JHMDB-21 style ground truth (Table 5).

    Args:
        gt: ground truth in any layout :func:`attnviz.io.spatial_gt.read_spatial_gt` reads, a
            name (``ucf101-24``, ``jhmdb21``), or a :class:`~attnviz.types.SpatialGroundTruth`.
        detections: per-frame detections (CSV path, ``FrameDetections`` or ``Box`` records;
            frame-mAP) or tubes (tubes ``.json`` path or ``Tube`` records; video-mAP).
        metric: ``frame`` or ``video``; default from ``detections`` (a path: ``.json`` is
            tubes).
        protocol: frame: ``act``, ``voc``, ``coco``; video: ``act``, ``voc``, ``ucf24-matlab``.
        iou, split: thresholds and the split scored.
    """
    if not isinstance(gt, SpatialGroundTruth):
        from attnviz.io.datasets import resolve_gt
        from attnviz.io.spatial_gt import read_spatial_gt

        gt = read_spatial_gt(resolve_gt(gt).path)  # a path, or a name such as ``ucf101-24``
    if isinstance(detections, str | os.PathLike):
        from attnviz.io.detections import read_frame_detections, read_tubes

        path = str(detections).lower()
        metric = metric or ("video" if path.endswith((".json", ".json.gz")) else "frame")
        detections = (read_tubes if metric == "video" else read_frame_detections)(detections, gt)
    elif not isinstance(detections, FrameDetections):
        items = list(detections)
        kind = "video" if items and isinstance(items[0], Tube) else "frame"
        metric = metric or kind
        if kind == "frame":
            detections = boxes_to_detections(items)
        else:
            detections = items
    metric = metric or "frame"
    if metric == "frame":
        return frame_map(gt, detections, protocol=protocol, iou=iou, split=split)
    if metric == "video":
        return video_map(gt, detections, protocol=protocol, iou=iou, split=split)
    raise ValueError(f"metric must be frame or video, got {metric!r}")
