"""From attention maps to scores: the one path every command takes.

Two steps, each callable alone (``explain``, ``figures``, ``compare-explanations`` and
``detect`` all call them):

* :func:`detections_from_maps` -- :class:`~attnviz.types.AttentionOutput` records -> frame
  detections, tubes and temporal detections (:class:`MapDetections`) by the rules of
  :mod:`attnviz.localize`, labels re-indexed into a ground truth's class list by name;
* :func:`score_maps` -- the same detections scored against ground truth by
  :mod:`attnviz.evaluate` (frame-mAP, video-mAP, temporal mAP) under the protocols of a
  :class:`ScoreProtocols`, optionally with precision-recall curves.

Conventions:

=================  ===========================================================================
video names        a map's ``video`` matches a ground-truth key equal to it, equal to the key's
                   part after the last ``/`` (UCF101-24 keys are ``Class/v_Class_g01_c01``), or
                   equal to that part without an extension (:func:`match_video_key`)
class names        a map's classes match the ground truth's by name; detections of a class the
                   ground truth does not know are dropped
scored videos      with ``only_covered`` (default) only the ground-truth videos that have maps
                   (:meth:`~attnviz.types.SpatialGroundTruth.restrict`,
                   :meth:`~attnviz.types.TemporalGroundTruth.restrict`); a warning in each
                   result says so
sampled frames     with ``sampled_frames`` the frame-mAP ground truth keeps only the frames the
                   maps were computed on (:func:`sampled_gt`: the frames the model saw)
=================  ===========================================================================

This module imports numpy and attnviz only (no torch, cv2 or matplotlib).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.localize import (
    LocalizeParams,
    boxes_from_attention,
    segments_from_attention,
    tubes_from_attention,
)
from attnviz.types import (
    AttentionOutput,
    EvalResult,
    FrameDetections,
    GTTube,
    SpatialGroundTruth,
    TemporalDetections,
    TemporalGroundTruth,
    Tube,
    VideoAnnotation,
)

__all__ = [
    "KINDS",
    "SPATIAL_IOU",
    "TEMPORAL_TIOU",
    "MapDetections",
    "ScoreProtocols",
    "detections_from_maps",
    "match_video_key",
    "sampled_gt",
    "score_maps",
]

#: What :func:`detections_from_maps` can compute: per-frame boxes, tubes, temporal segments.
KINDS = ("frame", "tube", "temporal")
#: The IoU thresholds of the paper's Table 5 (spatial).
SPATIAL_IOU = (0.05, 0.1, 0.2, 0.3, 0.5)
#: The tIoU thresholds of the paper's Table 6 (temporal).
TEMPORAL_TIOU = (0.1, 0.2, 0.3, 0.4, 0.5)


# --------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class MapDetections:
    """Detections localized from attention maps, in map order.

    Attributes:
        frames (FrameDetections): one box per sampled frame with a localized region
            (1-based source frames, ``x1, y1, x2, y2`` pixels).
        tubes (tuple[Tube, ...]): one tube per run of consecutive frames with boxes.
        temporal (TemporalDetections): segments in seconds.

    ``label`` everywhere indexes the ``class_names`` given to :func:`detections_from_maps` (the
    maps' own classes when none is given); ``video`` is each map's ``video`` (or the key it was
    matched to).
    """

    frames: FrameDetections
    tubes: tuple[Tube, ...]
    temporal: TemporalDetections


@dataclass(frozen=True)
class ScoreProtocols:
    """Which results :func:`score_maps` computes and by which protocol; frozen, never mutated.

    Attributes:
        temporal (str or None): THUMOS14-style protocol of the temporal mAP
            (:data:`attnviz.evaluate.thumos.PROTOCOLS`), ``None`` skips it.
        frame (str or None): frame-mAP protocol (``act``, ``voc``, ``coco``), ``None`` skips it.
        video (str or None): video-mAP protocol (``act``, ``voc``, ``ucf24-matlab``), ``None``
            skips it.
        tiou (tuple[float, ...]): temporal thresholds.
        iou (tuple[float, ...]): spatial thresholds (frame and video).
        only_covered (bool): score only the ground-truth videos that have maps (the others
            would count as missed).
        sampled_frames (bool): frame-mAP against the ground-truth boxes of the sampled frames
            only (:func:`sampled_gt`).
        pr (bool): keep precision-recall curves in ``extra["pr"]`` of the temporal and frame
            results: ``{class: [(recall [D], precision [D]) per threshold]}``.
    """

    temporal: str | None = "thumos14"
    frame: str | None = "act"
    video: str | None = "act"
    tiou: tuple[float, ...] = TEMPORAL_TIOU
    iou: tuple[float, ...] = SPATIAL_IOU
    only_covered: bool = True
    sampled_frames: bool = False
    pr: bool = False

    def replace(self, **changes) -> ScoreProtocols:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------------- helpers
def match_video_key(keys: Sequence[str], name: str) -> str | None:
    """The ground-truth key of video ``name`` among ``keys``: equal, or equal after the last
    ``/`` (UCF101-24 keys are ``Class/v_Class_g01_c01``), or equal without an extension;
    ``None`` when none matches."""
    if name in keys:
        return name
    for k in keys:
        base = k.rsplit("/", 1)[-1]
        if base == name or os.path.splitext(base)[0] == name:
            return k
    return None


def _label_lookup(model_names: Sequence[str], names: Sequence[str] | None) -> dict[int, int]:
    """Model class index -> index into ``names`` (by name); identity when ``names`` is None."""
    if names is None:
        return {k: k for k in range(len(model_names))}
    index = {n: i for i, n in enumerate(names)}
    return {k: index[n] for k, n in enumerate(model_names) if n in index}


def sampled_gt(gt: SpatialGroundTruth, frames: Mapping[str, np.ndarray]) -> SpatialGroundTruth:
    """The ground truth with only the boxes on ``frames[key]`` (1-based frame numbers) of each
    video (a video not in ``frames`` keeps no box): frame-mAP on the frames the model saw. Every
    video of ``gt`` stays, all of them in the ``test`` split."""
    vids = {}
    for key, ann in gt.videos.items():
        keep = sorted(set(int(f) for f in frames.get(key, ())))
        tubes = []
        for t in ann.tubes:
            b = np.asarray(t.boxes, dtype=np.float64)
            b = b[np.isin(b[:, 0].astype(np.int64), keep)] if len(b) else b
            if len(b):
                tubes.append(GTTube(t.label, b))
        vids[key] = VideoAnnotation(ann.label, ann.nframes, tuple(tubes), ann.resolution)
    return SpatialGroundTruth(gt.labels, vids, (), tuple(vids), gt.source)


def _pr_curve(hits: np.ndarray, npos: int) -> tuple[np.ndarray, np.ndarray]:
    """``(recall [D], precision [D])`` after each ranked detection (``hits [D]`` bool)."""
    from attnviz.ops.ap import precision_recall

    hits = np.asarray(hits, dtype=bool)
    if len(hits) == 0 or npos == 0:
        return np.zeros(0), np.zeros(0)
    prec, rec = precision_recall(hits, ~hits, npos)
    return rec, prec


def temporal_pr(result: EvalResult) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """PR curves ``{class: [(recall, precision) per threshold]}`` of a THUMOS14-style result
    computed with ``keep_matches=True`` (its ``extra["matches"]``)."""
    from attnviz.evaluate.thumos import IGNORED, TP

    out = {}
    for name, m in result.extra["matches"].items():
        rank = np.argsort(-np.asarray(m.score), kind="stable")
        curves = []
        for i in range(m.status.shape[0]):
            st = m.status[i, rank]
            curves.append(_pr_curve(st[st != IGNORED] == TP, m.npos))
        out[name] = curves
    return out


# --------------------------------------------------------------------------------- detections
def detections_from_maps(
    outputs: Iterable[AttentionOutput],
    params: LocalizeParams | None = None,
    class_names: Sequence[str] | None = None,
    *,
    kinds: Sequence[str] = KINDS,
) -> MapDetections:
    """Localize ``outputs`` (:mod:`attnviz.localize`, the paper's rules by default).

    Args:
        outputs: attention of each video (their ``video`` names the detections).
        params: localization parameters (default: the paper's).
        class_names: the class list the labels should index (a ground truth's): each map's
            classes are matched to it by name and detections of other classes are dropped.
            ``None`` keeps each map's own class indices.
        kinds: which of ``frame``, ``tube``, ``temporal`` to compute (the others stay empty).

    Returns:
        MapDetections: frame detections, tubes and temporal detections, in map order.
    """
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"kinds must be among {KINDS}, got {unknown[0]!r}")
    params = params or LocalizeParams()
    boxes, tubes, segs = [], [], []
    for o in outputs:
        lookup = _label_lookup(o.class_names, class_names)
        own = boxes_from_attention(o, params) if "frame" in kinds or "tube" in kinds else []
        if "frame" in kinds:
            boxes += [
                dataclasses.replace(b, label=lookup[b.label]) for b in own if b.label in lookup
            ]
        if "tube" in kinds:
            tubes += [
                dataclasses.replace(t, label=lookup[t.label])
                for t in tubes_from_attention(o, params, boxes=own)
                if t.label in lookup
            ]
        if "temporal" in kinds:
            segs += [
                dataclasses.replace(s, label=lookup[s.label])
                for s in segments_from_attention(o, params)
                if s.label in lookup
            ]
    return MapDetections(
        FrameDetections.from_boxes(boxes), tuple(tubes), TemporalDetections.from_segments(segs)
    )


# --------------------------------------------------------------------------------- scores
def _keyed(outputs: Sequence[AttentionOutput], keys: Sequence[str]):
    """``(outputs renamed to their ground-truth key, covered keys sorted)``; maps with no key
    are dropped."""
    renamed, covered = [], set()
    for o in outputs:
        key = match_video_key(keys, o.video)
        if key is None:
            continue
        covered.add(key)
        renamed.append(o if key == o.video else dataclasses.replace(o, video=key))
    return renamed, sorted(covered)


def _score_temporal(outputs, gt: TemporalGroundTruth, params, protocols) -> EvalResult:
    from attnviz.evaluate.thumos import evaluate_thumos

    keys = sorted(set(map(str, gt.video)) | set(gt.videos))
    renamed = []  # a map with no ground-truth video keeps its name: the evaluator reports it
    for o in outputs:
        key = match_video_key(keys, o.video) or o.video
        renamed.append(o if key == o.video else dataclasses.replace(o, video=key))
    note: tuple[str, ...] = ()
    if protocols.only_covered:
        covered = {o.video for o in renamed} & set(keys)
        gt = gt.restrict(covered)
        note = (f"scored on the {len(covered)} videos that have maps",)
    dets = detections_from_maps(renamed, params, gt.class_names, kinds=("temporal",)).temporal
    r = evaluate_thumos(
        gt, dets, protocol=protocols.temporal, tiou=protocols.tiou, keep_matches=protocols.pr
    )
    extra = dict(r.extra)
    if protocols.pr:
        extra["pr"] = temporal_pr(r)
        del extra["matches"]
    return dataclasses.replace(r, extra=extra, warnings=note + r.warnings)


def _score_spatial(outputs, gt: SpatialGroundTruth, params, protocols) -> dict[str, EvalResult]:
    from attnviz.evaluate.ucf24 import frame_map, match_frames, video_map

    renamed, covered = _keyed(outputs, list(gt.videos))
    if not covered:
        raise AttnvizError(
            f"none of the maps' videos ({', '.join(o.video for o in outputs[:3])}, ...) is in "
            f"the spatial ground truth {gt.source}"
        )
    note: tuple[str, ...] = ()
    split = "all"
    if protocols.only_covered:
        gt = dataclasses.replace(gt, test_videos=tuple(covered))
        note = (f"scored on the {len(covered)} videos that have maps",)
        split = "test"
    kinds = [k for k, p in (("frame", protocols.frame), ("tube", protocols.video)) if p]
    # against the sampled frames' boxes only, boxes interpolated in between would count as
    # false positives on frames whose ground truth was left out
    pick = params.replace(frame_boxes="sampled") if protocols.sampled_frames else params
    dets = detections_from_maps(renamed, pick, gt.labels, kinds=kinds)
    results: dict[str, EvalResult] = {}
    if protocols.frame is not None:
        fgt = gt
        if protocols.sampled_frames:
            fgt = sampled_gt(gt, {o.video: o.frame_indices for o in renamed})
            fgt = dataclasses.replace(fgt, test_videos=gt.split(split))
        fsplit = "test" if protocols.sampled_frames else split
        r = frame_map(fgt, dets.frames, protocol=protocols.frame, iou=protocols.iou, split=fsplit)
        extra = dict(r.extra)
        if protocols.pr:
            thr = np.asarray(r.thresholds)
            videos = list(fgt.split(fsplit))
            pr = {}
            for c, name in enumerate(fgt.labels):
                _, tp, n = match_frames(fgt, dets.frames, c, thr, protocols.frame, videos)
                pr[name] = [_pr_curve(tp[i], n) for i in range(len(thr))]
            extra["pr"] = pr
        results["frame"] = dataclasses.replace(r, extra=extra, warnings=note + r.warnings)
    if protocols.video is not None:
        v = video_map(
            gt, list(dets.tubes), protocol=protocols.video, iou=protocols.iou, split=split
        )
        results["video"] = dataclasses.replace(v, warnings=note + v.warnings)
    return results


def score_maps(
    outputs: Sequence[AttentionOutput],
    ground_truth: TemporalGroundTruth
    | SpatialGroundTruth
    | Sequence[TemporalGroundTruth | SpatialGroundTruth],
    params: LocalizeParams | None = None,
    protocols: ScoreProtocols | None = None,
) -> dict[str, EvalResult]:
    """Localize ``outputs`` (:func:`detections_from_maps`) and score them against
    ``ground_truth`` (conventions in the module docstring).

    Args:
        outputs: attention of each video.
        ground_truth: a temporal ground truth (gives the ``temporal`` result), a spatial one
            (gives ``frame`` and ``video``), or both in a sequence.
        params: localization parameters (default: the paper's).
        protocols: which results, by which protocols, at which thresholds (default:
            :class:`ScoreProtocols`: THUMOS14, ACT frame- and video-mAP, the paper's
            thresholds, only the videos that have maps).

    Returns:
        ``{"temporal" | "frame" | "video": EvalResult}``, the ones the ground truth and
        ``protocols`` ask for.

    Raises:
        AttnvizError: no maps, no ground truth, or no map's video in a spatial ground truth.
    """
    outputs = list(outputs)
    gts = list(ground_truth) if isinstance(ground_truth, list | tuple) else [ground_truth]
    gts = [g for g in gts if g is not None]
    if not outputs:
        raise AttnvizError("no attention maps to evaluate")
    if not gts:
        raise AttnvizError("no ground truth given: nothing to evaluate against")
    params = params or LocalizeParams()
    protocols = protocols or ScoreProtocols()
    results: dict[str, EvalResult] = {}
    for gt in gts:
        if isinstance(gt, TemporalGroundTruth):
            if protocols.temporal is not None:
                results["temporal"] = _score_temporal(outputs, gt, params, protocols)
        elif protocols.frame is not None or protocols.video is not None:
            results.update(_score_spatial(outputs, gt, params, protocols))
    return results
