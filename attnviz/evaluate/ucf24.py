"""Frame-mAP and video-mAP for spatio-temporal action detection (UCF101-24, JHMDB-21) under the
protocols published tables use, each equal to its reference code.

Frame-mAP (:func:`frame_map`), ``protocol=``:

``act`` (default)
    ACT's ``frameAP`` (act-detector-scripts, MOC-Detector): per class, detections by descending
    score; each is compared with the still-unmatched ground-truth boxes of its own video, frame
    and class, takes the one with the highest IoU (the first among equals), and is a true
    positive if that IoU >= the threshold. IoU with +1 pixels
    (:func:`~attnviz.ops.boxes.iou_plus_one`). AP: the trapezoidal area under the raw
    precision-recall curve from (recall 0, precision 1) on ACT's float32 ``pr`` array
    (:func:`~attnviz.ops.ap.ap_act`). mAP over all labels (a label without ground truth has AP 0).
``voc``
    YOWO's frame-mAP (its copy of Object-Detection-Metrics): a detection takes the ground truth
    of its frame and class with the highest IoU (the first among equals; IoUs of 0 never), taken
    or not; if that one is already taken, or the IoU is below the threshold, the detection is a
    false positive. IoU with +1 pixels and 0 for boxes apart by any gap
    (:func:`~attnviz.ops.boxes.iou_odm`). Every-point interpolated AP. mAP over the labels that
    have ground truth.
``coco``
    pycocotools' ``COCOeval`` (bbox, area "all", at most 100 detections per frame and class)
    with the frames as images: a detection takes the still-unmatched ground truth with the
    highest IoU >= threshold (the later one among equals); 101-point interpolated AP; mAP over
    the labels that have ground truth.

Video-mAP (:func:`video_map`), spatio-temporal IoU (:mod:`attnviz.ops.tubes`):

``act`` (default)
    ACT's ``videoAP``: 3D NMS at 0.3 per video and class first (``tube_nms=None`` skips it), then
    per class by descending score each tube takes the still-unmatched ground-truth tube of its
    video with the highest ``iou3dt`` and is a true positive if it is >= the threshold; ACT's AP;
    mAP over all labels.
``voc``
    YOWO's ``video_ap_one_class``: no NMS, YOWO's ``iou3dt`` (tubes must share two frames),
    matching as ``act``, recall ``tp / (npos + 1e-5)``, float32 precision-recall, ``voc_ap``;
    mAP over all labels.
``ucf24-matlab``
    ``get_PR_curve.m`` of the corrected UCF101-24 annotations: videos in split order; in each,
    tubes by descending score take the uncovered ground-truth tube of their class with the
    highest ``compute_spatio_temporal_iou`` if that IoU is strictly greater than the threshold;
    scores stored as single precision and sorted per class; positives are the ground-truth tubes
    of every video of the split; ``xVOCap``; NaN AP counts 0; mAP over all labels.

Ties (equal scores), the order used:

* ``act`` frame and video, ``voc`` video: file order. The references sort with numpy's default,
  unstable sort, so their order among equal scores is unspecified.
* ``voc`` frame: image name (``<video with / as _>_<frame:05d>``, the file names YOWO's
  evaluation reads in sorted order), then file order, as its stable sort does.
* ``coco``: image id (videos sorted, then frames; :func:`attnviz.io.spatial_gt.coco_image_ids`),
  then file order, as pycocotools' mergesort does.
* ``ucf24-matlab``: single-precision score, then split order of the video, then the double
  score, then file order, as MATLAB's stable ``sort`` does.
* ACT's 3D NMS: the earlier tube first.

Shape of the code (that of :mod:`attnviz.evaluate.thumos`): each protocol's constants sit in
one frozen params object (:class:`FrameParams`, :class:`VideoParams`, ``for_protocol``) that
the evaluation never mutates; :func:`match_frames` / :func:`match_tubes` mark one class's
detections at every threshold in one vectorised pass (a :class:`Match`); :func:`accumulate`
turns a match into AP; :func:`frame_map` / :func:`video_map` do every class, sharing the work
that does not depend on the class. Nothing is printed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from attnviz.errors import InputError
from attnviz.evaluate.params import parse_thresholds
from attnviz.ops.ap import ap_act, ap_all_points_sequential, ap_coco_101, ap_yowo_video
from attnviz.ops.boxes import iou_coco, iou_odm, iou_plus_one, xyxy_to_xywh
from attnviz.ops.tubes import _Packed, nms_tubes_grouped, tube_iou_pairs
from attnviz.types import EvalResult, FrameDetections, SpatialGroundTruth, Tube

__all__ = [
    "DEFAULT_IOU",
    "FRAME_PROTOCOLS",
    "VIDEO_PROTOCOLS",
    "FrameParams",
    "Match",
    "VideoParams",
    "accumulate",
    "frame_map",
    "frame_status",
    "tube_status",
    "match_frames",
    "match_tubes",
    "video_map",
]

DEFAULT_IOU = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75)
FRAME_PROTOCOLS = ("act", "voc", "coco")
VIDEO_PROTOCOLS = ("act", "voc", "ucf24-matlab")
COCO_MAX_DETS = 100
COCO_AREA_MAX = 1e5**2  # area range "all" of COCOeval
_ODM_MIN = np.finfo(np.float64).tiny  # sys.float_info.min, Object-Detection-Metrics' start


@dataclass(frozen=True)
class FrameParams:
    """Constants of one frame-mAP protocol (never mutated by the evaluation).

    Attributes:
        protocol (str): ``act``, ``voc`` or ``coco``.
        iou (tuple[float, ...]): thresholds, in the order asked for.
        overlap (str): box IoU: ``plus_one`` (:func:`~attnviz.ops.boxes.iou_plus_one`),
            ``odm`` (:func:`~attnviz.ops.boxes.iou_odm`) or ``coco``
            (:func:`~attnviz.ops.boxes.iou_coco`).
        rule (str): the greedy matching: ``first_ge`` (best still-unmatched, first among
            equals, IoU >= t), ``best_any`` (best of all, a false positive if taken) or ``coco``
            (best still-unmatched with IoU >= t, the last among equals).
        ties (str): order of equal scores: ``file``, ``image_name`` (YOWO's image file names)
            or ``image_id`` (COCO's image ids).
        max_dets (int or None): detections kept per frame and class (COCO: 100).
        ap (str): ``act`` (:func:`~attnviz.ops.ap.ap_act`), ``all_points``
            (:func:`~attnviz.ops.ap.ap_all_points_sequential`) or ``coco_101``.
        skip_empty (bool): classes without ground truth are left out of the mAP (else AP 0).
    """

    protocol: str = "act"
    iou: tuple[float, ...] = DEFAULT_IOU
    overlap: str = "plus_one"
    rule: str = "first_ge"
    ties: str = "file"
    max_dets: int | None = None
    ap: str = "act"
    skip_empty: bool = False

    @staticmethod
    def for_protocol(protocol: str, iou: Sequence[float] | str = DEFAULT_IOU) -> FrameParams:
        """The constants of a named frame protocol with thresholds ``iou`` (floats or a string
        such as ``"0.1:0.5:0.1"``)."""
        if protocol not in FRAME_PROTOCOLS:
            raise ValueError(f"unknown frame protocol {protocol!r}: expected {FRAME_PROTOCOLS}")
        thr = tuple(float(t) for t in _thresholds(iou))
        if protocol == "voc":
            return FrameParams(
                protocol, thr, overlap="odm", rule="best_any", ties="image_name",
                ap="all_points", skip_empty=True,
            )  # fmt: skip
        if protocol == "coco":
            return FrameParams(
                protocol, thr, overlap="coco", rule="coco", ties="image_id",
                max_dets=COCO_MAX_DETS, ap="coco_101", skip_empty=True,
            )  # fmt: skip
        return FrameParams(protocol, thr)


@dataclass(frozen=True)
class VideoParams:
    """Constants of one video-mAP protocol (never mutated by the evaluation).

    Attributes:
        protocol (str): ``act``, ``voc`` or ``ucf24-matlab``.
        iou (tuple[float, ...]): thresholds, in the order asked for.
        tube_nms (float or None): overlap of the 3D NMS per video and class run first
            (``act`` only; ``None``: none).
        overlap (str): the spatio-temporal IoU convention of
            :func:`~attnviz.ops.tubes.tube_iou_pairs` (``act``, ``yowo``, ``matlab``).
        rule (str): ``first_ge`` (IoU >= t) or ``first_gt`` (IoU > t); the best still-unmatched
            ground-truth tube, the first among equals.
        ties (str): order of equal scores: ``file``, or ``matlab`` (single-precision score, then
            split order of the video, then the double score, then file order).
        ap (str): ``act``, ``yowo`` (:func:`~attnviz.ops.ap.ap_yowo_video`) or ``all_points``
            (``xVOCap``; no detection or no ground truth: 0).
    """

    protocol: str = "act"
    iou: tuple[float, ...] = DEFAULT_IOU
    tube_nms: float | None = 0.3
    overlap: str = "act"
    rule: str = "first_ge"
    ties: str = "file"
    ap: str = "act"

    @staticmethod
    def for_protocol(
        protocol: str, iou: Sequence[float] | str = DEFAULT_IOU, tube_nms: float | None = 0.3
    ) -> VideoParams:
        """The constants of a named video protocol with thresholds ``iou``; ``tube_nms`` is
        ACT's NMS overlap (ignored by the other protocols)."""
        if protocol not in VIDEO_PROTOCOLS:
            raise ValueError(f"unknown video protocol {protocol!r}: expected {VIDEO_PROTOCOLS}")
        thr = tuple(float(t) for t in _thresholds(iou))
        if protocol == "voc":
            return VideoParams(protocol, thr, None, overlap="yowo", ap="yowo")
        if protocol == "ucf24-matlab":
            return VideoParams(
                protocol, thr, None, overlap="matlab", rule="first_gt", ties="matlab",
                ap="all_points",
            )  # fmt: skip
        return VideoParams(protocol, thr, tube_nms)


class Match(NamedTuple):
    """Matching of one class's detections (or tubes) at every threshold.

    Attributes:
        order (ndarray[D] int64): indices into the detections (file order) that the protocol
            ranks, in its ranked order (``coco``: without those beyond 100 per frame, and
            without those COCO ignores for their area at every threshold; ``act`` video: after
            the 3D NMS).
        tp (ndarray[T, D] bool): true positive at each threshold (every other detection in
            ``order`` is a false positive).
        npos (int): ground-truth boxes (frame) or tubes (video) of the class in the split.
    """

    order: np.ndarray
    tp: np.ndarray
    npos: int


def _frame_params(protocol: str | FrameParams) -> FrameParams:
    if isinstance(protocol, FrameParams):
        return protocol
    return FrameParams.for_protocol(protocol)


def _video_params(protocol: str | VideoParams, tube_nms: float | None = 0.3) -> VideoParams:
    if isinstance(protocol, VideoParams):
        return protocol
    return VideoParams.for_protocol(protocol, DEFAULT_IOU, tube_nms)


# --------------------------------------------------------------------------- greedy matching
def _greedy(group: np.ndarray, iou: np.ndarray, thr: np.ndarray, rule: str) -> np.ndarray:
    """Greedy one-to-one matching inside independent groups, all thresholds at once.

    Args:
        group (ndarray[D] int): group (frame or video) of each ranked detection; -1: the group
            has no ground truth, the detection is a false positive.
        iou (ndarray[D, G] float): IoU with each ground-truth slot of its group (``-inf`` for
            padding), slots in ground-truth order.
        thr (ndarray[T]): thresholds.
        rule: ``first_ge`` (best unmatched, first among equals, IoU >= t), ``first_gt`` (the
            same with IoU > t), ``best_any`` (best of all, then a false positive if taken),
            ``coco`` (best unmatched with IoU >= t, the last among equals).

    Returns:
        tp [T, D] bool. Step ``j`` handles the ``j``-th detection of every group together, so
        the loop runs as often as the largest group has detections.
    """
    t, d = len(thr), len(group)
    tp = np.zeros((t, d), dtype=bool)
    idx = np.flatnonzero(group >= 0)
    if len(idx) == 0:
        return tp
    g = group[idx]
    srt = np.argsort(g, kind="stable")
    idx, g = idx[srt], g[srt]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    counts = np.diff(np.r_[starts, len(g)])
    gmax = iou.shape[1]
    valid = np.isfinite(iou)
    free = np.ones((t, len(starts), gmax), dtype=bool)
    thr_col = thr[:, None]
    if rule == "coco":
        thr_col = np.minimum(thr, 1 - 1e-10)[:, None]
    n_steps = int(counts.max())
    if rule == "best_any":
        # Object-Detection-Metrics: strict '>' from sys.float_info.min over every GT of the frame
        best = np.where(valid & (iou > _ODM_MIN), iou, -np.inf)
        m_all = np.argmax(best, axis=1)
        v_all = best[np.arange(d), m_all]
    for j in range(n_steps):
        act = np.flatnonzero(counts > j)
        di = idx[starts[act] + j]
        fr = free[:, act, :]  # [T, A, G]
        a_ix = np.arange(len(act))[None, :]
        if rule == "best_any":
            m = np.broadcast_to(m_all[di][None, :], (t, len(act)))
            hit = (v_all[di][None, :] >= thr_col) & fr[np.arange(t)[:, None], a_ix, m]
        else:
            io = iou[di][None, :, :]
            if rule == "coco":
                cand = np.where(fr & valid[di][None] & (io >= thr_col[:, :, None]), io, -np.inf)
                m = gmax - 1 - np.argmax(cand[..., ::-1], axis=2)
                val = np.take_along_axis(cand, m[..., None], axis=2)[..., 0]
                hit = np.isfinite(val)
            else:
                cand = np.where(fr & valid[di][None], io, -np.inf)
                m = np.argmax(cand, axis=2)
                val = np.take_along_axis(cand, m[..., None], axis=2)[..., 0]
                hit = val > thr_col if rule == "first_gt" else val >= thr_col
        ts, as_ = np.nonzero(hit)
        free[ts, act[as_], m[ts, as_]] = False
        tp[:, di] = hit
    return tp


def _rank(score: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Indices by descending ``score``, ties by ascending ``keys`` in turn, then index."""
    n = len(score)
    cols = [np.arange(n)] + [np.asarray(k) for k in reversed(keys)] + [-np.asarray(score)]
    return np.lexsort(cols) if n else np.zeros(0, dtype=np.int64)


# --------------------------------------------------------------------------- frame-mAP
@dataclass(frozen=True)
class _FrameIndex:
    """Ground truth of a split and detection keys, computed once for all classes."""

    videos: tuple[str, ...]
    gt_key: np.ndarray  # [G] video rank (sorted order) * stride + frame
    gt_label: np.ndarray  # [G]
    gt_box: np.ndarray  # [G, 4]
    det_key: np.ndarray  # [D]
    det_voc_rank: np.ndarray | None  # [D] rank of YOWO's image-file name (voc only)
    det_by_label: np.ndarray  # [D] detection indices grouped by label, file order inside
    label_start: np.ndarray  # [K + 1] bounds of each label's group in det_by_label


def _video_rank(dets: FrameDetections, videos: Sequence[str]) -> np.ndarray:
    """Rank of each detection's video in ``sorted(videos)``; raises for other videos."""
    pos = {v: i for i, v in enumerate(sorted(videos))}
    if len(dets) == 0:
        return np.zeros(0, dtype=np.int64)
    codes, uniq = pd.factorize(pd.Series(dets.video, dtype=object), sort=False)
    ranks = np.empty(len(uniq), dtype=np.int64)
    for j, v in enumerate(uniq):
        r = pos.get(str(v))
        if r is None:
            i = int(np.flatnonzero(codes == j)[0])
            line = int(dets.line[i]) if len(dets.line) else i + 1
            raise InputError(
                f'{dets.source or "detections"}, row {line}, field "video": {str(v)!r} is not a '
                "video of the evaluated split"
            )
        ranks[j] = r
    return ranks[codes]


def _voc_image_rank(dets: FrameDetections, vrank: np.ndarray, videos: Sequence[str]) -> np.ndarray:
    """Rank of the image name ``<video with / as _>_<frame:05d>`` YOWO's evaluation sorts by."""
    names = sorted(videos)
    stems = [v.replace("/", "_") + "_" for v in names]
    order = np.argsort(np.array(stems, dtype=object), kind="stable")
    stem_rank = np.empty(len(names), dtype=np.int64)
    stem_rank[order] = np.arange(len(names))
    frames = dets.frame
    sorted_stems = [stems[i] for i in order]
    prefix_clash = any(
        sorted_stems[i + 1].startswith(sorted_stems[i]) for i in range(len(sorted_stems) - 1)
    )
    if len(frames) and (frames.max() >= 100000 or frames.min() < 0 or prefix_clash):
        full = np.array(
            [stems[r] + f"{f:05d}" for r, f in zip(vrank.tolist(), frames.tolist(), strict=True)]
        )
        return np.unique(full, return_inverse=True)[1].astype(np.int64)
    return stem_rank[vrank] * 100000 + frames


def _frame_index(gt: SpatialGroundTruth, dets: FrameDetections, split: str, voc: bool):
    videos = tuple(gt.split(split))
    if len(set(videos)) != len(videos):
        raise InputError(f"{gt.source}: the {split} split lists a video twice")
    vpos = {v: i for i, v in enumerate(sorted(videos))}
    keys, labels, boxes = [], [], []
    stride = 1
    for v in videos:
        ann = gt.videos[v]
        stride = max(stride, int(ann.nframes) + 1)
        for tube in ann.tubes:
            b = np.asarray(tube.boxes, dtype=np.float64)
            if len(b):
                stride = max(stride, int(b[:, 0].max()) + 1)
    if len(dets):
        stride = max(stride, int(dets.frame.max()) + 1)
    for v in videos:
        for tube in gt.videos[v].tubes:
            b = np.asarray(tube.boxes, dtype=np.float64).reshape(-1, 5)
            keys.append(vpos[v] * stride + b[:, 0].astype(np.int64))
            labels.append(np.full(len(b), tube.label, dtype=np.int64))
            boxes.append(b[:, 1:5])
    vrank = _video_rank(dets, videos)
    det_key = vrank * stride + dets.frame.astype(np.int64)
    by_label = np.argsort(dets.label, kind="stable")
    bounds = np.searchsorted(dets.label[by_label], np.arange(len(gt.labels) + 1))
    return _FrameIndex(
        videos,
        np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64),
        np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        np.concatenate(boxes) if boxes else np.zeros((0, 4)),
        det_key,
        _voc_image_rank(dets, vrank, videos) if voc else None,
        by_label,
        bounds,
    )


def match_frames(
    gt: SpatialGroundTruth,
    dets: FrameDetections,
    label: int,
    thr: np.ndarray | Sequence[float],
    protocol: str | FrameParams = "act",
    split: str | Sequence[str] = "test",
) -> Match:
    """Mark the detections of class ``label`` true or false positive at every threshold.

    Args:
        gt: the ground truth; ``split`` names the videos scored (or is the list of them).
        dets: all detections (other classes are ignored here).
        thr (ndarray[T]): IoU thresholds.
        protocol: ``act``, ``voc`` or ``coco``, or a :class:`FrameParams`.

    Returns:
        Match: the detections the protocol counts in its ranked order, ``tp [T, D]`` and the
        ground-truth boxes of the class.
    """
    params = _frame_params(protocol)
    thr = np.asarray(thr, dtype=np.float64).reshape(-1)
    if not isinstance(split, str):
        gt = dataclasses.replace(gt, test_videos=tuple(split))
        split = "test"
    index = _frame_index(gt, dets, split, params.ties == "image_name")
    order, tp, ignore, npos = _match_frames(index, dets, label, thr, params)
    if ignore is not None:
        drop = ignore.all(axis=0)
        order, tp = order[~drop], tp[:, ~drop]
    return Match(order, tp, npos)


def _group_gt(
    gsel: np.ndarray, gt_key: np.ndarray, det_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth ``gsel`` (one class) grouped by key (a frame, or a video), each group in
    annotation order, and the group of each detection key.

    Returns:
        ``slot [G, gmax]``: the ground-truth indices of each group, padded with -1, and
        ``group [D]``: each detection's row of ``slot``, -1 when no ground truth has its key.
    """
    srt = np.argsort(gt_key, kind="stable")
    gsel, gk = gsel[srt], gt_key[srt]
    ukeys, gstart, gcount = np.unique(gk, return_index=True, return_counts=True)
    pos = np.searchsorted(ukeys, det_key)
    pos_c = np.minimum(pos, max(len(ukeys) - 1, 0))
    if len(ukeys):
        has = (pos < len(ukeys)) & (ukeys[pos_c] == det_key)
    else:
        has = np.zeros(len(det_key), bool)
    gmax = int(gcount.max()) if len(gcount) else 1
    slot = np.full((len(ukeys), gmax), -1, dtype=np.int64)
    if len(ukeys):
        within = np.arange(len(gk)) - np.repeat(gstart, gcount)
        slot[np.repeat(np.arange(len(ukeys)), gcount), within] = gsel
    return slot, np.where(has, pos_c, -1)


def _match_frames(ix: _FrameIndex, dets, label: int, thr: np.ndarray, params: FrameParams):
    """:func:`match_frames` on a prepared index, plus COCO's per-threshold ignore mask
    ``[T, D]`` (or None)."""
    gsel = np.flatnonzero(ix.gt_label == label)
    npos = len(gsel)
    if 0 <= label < len(ix.label_start) - 1:
        sel = ix.det_by_label[ix.label_start[label] : ix.label_start[label + 1]]
    else:
        sel = np.flatnonzero(dets.label == label)
    score = dets.score[sel]
    if params.ties == "file":
        order = sel[_rank(score)]
    elif params.ties == "image_name":
        order = sel[_rank(score, ix.det_voc_rank[sel])]
    else:
        order = sel[_rank(score, ix.det_key[sel])]
    if params.max_dets is not None:
        # COCO: the best detections of each frame and class, with ground truth there or not
        dk = ix.det_key[order]
        by_key = np.argsort(dk, kind="stable")
        ks = dk[by_key]
        first = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]]) if len(ks) else ks
        rank_in_key = np.empty(len(order), dtype=np.int64)
        rank_in_key[by_key] = np.arange(len(ks)) - np.repeat(first, np.diff(np.r_[first, len(ks)]))
        order = order[rank_in_key < params.max_dets]
    # ground truth of the class grouped by key (frame), in annotation order
    slot, group = _group_gt(gsel, ix.gt_key[gsel], ix.det_key[order])
    iou = np.full((len(order), slot.shape[1]), -np.inf)
    hi = np.flatnonzero(group >= 0)
    if len(hi):
        gi = slot[group[hi]]  # [H, gmax]
        ok = gi >= 0
        gb = ix.gt_box[np.where(ok, gi, 0)]
        db = dets.boxes[order[hi]][:, None, :]
        if params.overlap == "plus_one":
            val = iou_plus_one(gb, db)
        elif params.overlap == "odm":
            val = iou_odm(db, gb)
        else:
            val = iou_coco(xyxy_to_xywh(db), xyxy_to_xywh(gb))
        iou[hi] = np.where(ok, val, -np.inf)
    tp = _greedy(group, iou, thr, params.rule)
    if params.overlap != "coco":
        return order, tp, None, npos
    b = dets.boxes[order]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    outside = (area < 0) | (area > COCO_AREA_MAX)
    return order, tp, outside[None, :] & ~tp, npos


def _frame_ap(params: FrameParams, tp: np.ndarray, npos: int, ignore=None) -> np.ndarray:
    """AP per threshold from ``tp [T, D]`` (rank order) under ``params``; ``ignore [T, D]``
    marks detections that count as neither (COCO's area range)."""
    t = tp.shape[0]
    ap = np.zeros(t)
    for i in range(t):
        row_tp = tp[i]
        row_fp = ~tp[i]
        if ignore is not None:
            row_fp = row_fp & ~ignore[i]
        if params.ap == "act":
            ap[i] = ap_act(row_tp, npos)
        elif npos == 0:
            ap[i] = 0.0
        elif params.ap == "all_points":
            tps = np.cumsum(row_tp).astype(np.float64)
            fps = np.cumsum(row_fp).astype(np.float64)
            ap[i] = ap_all_points_sequential(tps / npos, tps / (fps + tps)) if len(tps) else 0.0
        else:
            ap[i] = ap_coco_101(row_tp, row_fp, npos)
    return ap


def _thresholds(iou) -> np.ndarray:
    vals = parse_thresholds(iou) if isinstance(iou, str) else parse_thresholds(list(iou))
    return np.asarray(vals, dtype=np.float64)


def frame_map(
    gt: SpatialGroundTruth,
    dets: FrameDetections,
    *,
    protocol: str = "act",
    iou: Sequence[float] | str = DEFAULT_IOU,
    split: str = "test",
) -> EvalResult:
    """Frame-mAP of per-frame detections under ``protocol`` (``act``, ``voc`` or ``coco``).

    Args:
        gt: ground truth; only the videos of ``split`` are scored, and every detection must be
            on one of them.
        dets: the detections (1-based frames, ``x1, y1, x2, y2`` pixels).
        iou: thresholds (a list or ``"0.1,0.5"`` / ``"0.1:0.5:0.1"``).

    Returns:
        :class:`~attnviz.types.EvalResult` with ``ap [K, T]`` and ``mAP [T]``.
    """
    params = FrameParams.for_protocol(protocol, iou)
    thr = np.asarray(params.iou, dtype=np.float64)
    index = _frame_index(gt, dets, split, params.ties == "image_name")
    k = len(gt.labels)
    b = dets.boxes
    broken = ~(np.isfinite(b).all(axis=1) & np.isfinite(dets.score))
    broken |= (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    if broken.any():
        i = int(np.flatnonzero(broken)[0])
        raise InputError(
            f"{dets.source or 'detections'}, row {int(dets.line[i])}: score or box not finite, "
            f"or x2 < x1 or y2 < y1 ({dets.score[i]!r}, {b[i].tolist()})"
        )
    bad = (dets.label < 0) | (dets.label >= k)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f'{dets.source or "detections"}, row {int(dets.line[i])}, field "class": label '
            f"{int(dets.label[i])} outside 0..{k - 1}"
        )
    ap = np.zeros((k, len(thr)))
    npos = np.zeros(k, dtype=np.int64)
    ndet = np.zeros(k, dtype=np.int64)
    tp_count = np.zeros((k, len(thr)), dtype=np.int64)
    warnings: list[str] = []
    if len(dets) == 0:
        warnings.append("the detection file holds no detection: every AP is 0")
    for c in range(k):
        _, tp, ignore, n = _match_frames(index, dets, c, thr, params)
        npos[c], ndet[c] = n, tp.shape[1]
        tp_count[c] = tp.sum(axis=1)
        ap[c] = _frame_ap(params, tp, n, ignore)
    return _result("frame", params, thr, gt, ap, npos, ndet, tp_count, warnings)


def accumulate(
    metric: str, protocol: str | FrameParams | VideoParams, tp: np.ndarray, npos: int
) -> np.ndarray:
    """AP per threshold of one class from the ``tp [T, D]`` (ranked order) of the
    :class:`Match` that :func:`match_frames` (``metric="frame"``) or :func:`match_tubes`
    (``"video"``) gave, under the AP rule of ``protocol`` (a name or a params object).

    Returns:
        ndarray[T] float64 in [0, 1].
    """
    tp = np.asarray(tp, dtype=bool)
    if metric == "frame":
        return _frame_ap(_frame_params(protocol), tp, npos)  # type: ignore[arg-type]
    if metric == "video":
        return _video_ap(_video_params(protocol), tp, npos)  # type: ignore[arg-type]
    raise ValueError(f"metric must be frame or video, got {metric!r}")


def _result(
    metric, p: FrameParams | VideoParams, thr, gt, ap, npos, ndet, tp_count, warnings, info=None
):
    protocol = p.protocol
    present = npos > 0
    skip_empty = isinstance(p, FrameParams) and p.skip_empty
    if not present.all():
        names = [gt.labels[c] for c in np.flatnonzero(~present)]
        how = (
            "left out of the mAP"
            if skip_empty
            else "counted as AP 0 in the mAP (as the reference code does)"
        )
        warnings.append(
            f"{len(names)} classes have no ground truth in the split, {how}: " + ", ".join(names)
        )
    rows = present if skip_empty else np.ones(len(npos), dtype=bool)
    m_ap = ap[rows].mean(axis=0) if rows.any() else np.zeros(len(thr))
    return EvalResult(
        metric=metric,
        protocol=protocol,
        thresholds=tuple(float(t) for t in thr),
        class_names=tuple(gt.labels),
        ap=ap,
        mAP=m_ap,
        params={"protocol": protocol, **(info or {})},
        warnings=tuple(warnings),
        extra={
            "npos": {gt.labels[c]: int(npos[c]) for c in range(len(npos))},
            # classes without ground truth left out of the mAP (voc / coco frame-mAP only)
            "not_scored": [gt.labels[c] for c in np.flatnonzero(~rows)],
            "detections": {gt.labels[c]: int(ndet[c]) for c in range(len(ndet))},
            "tp": {gt.labels[c]: [int(x) for x in tp_count[c]] for c in range(len(npos))},
        },
    )


# --------------------------------------------------------------------------- video-mAP
@dataclass(frozen=True)
class _TubeIndex:
    videos: tuple[str, ...]
    vrank: dict[str, int]  # split order
    gt_packed: _Packed
    gt_video: np.ndarray  # [G] split rank
    gt_label: np.ndarray  # [G]
    det_packed: _Packed
    det_video: np.ndarray  # [D] split rank
    det_label: np.ndarray
    det_score: np.ndarray


def _tube_index(gt: SpatialGroundTruth, tubes: Sequence[Tube], split: str) -> _TubeIndex:
    videos = tuple(gt.split(split))
    vrank = {v: i for i, v in enumerate(videos)}
    g_boxes, g_video, g_label = [], [], []
    for v in videos:
        for t in gt.videos[v].tubes:
            g_boxes.append(np.asarray(t.boxes, dtype=np.float64).reshape(-1, 5))
            g_video.append(vrank[v])
            g_label.append(int(t.label))
    d_video = np.empty(len(tubes), dtype=np.int64)
    for i, t in enumerate(tubes):
        r = vrank.get(t.video)
        if r is None:
            raise InputError(
                f'tubes, tube {i}, field "video": {t.video!r} is not a video of the evaluated split'
            )
        d_video[i] = r
    return _TubeIndex(
        videos,
        vrank,
        _Packed(g_boxes),
        np.asarray(g_video, dtype=np.int64),
        np.asarray(g_label, dtype=np.int64),
        _Packed([np.asarray(t.boxes, dtype=np.float64) for t in tubes]),
        d_video,
        np.fromiter((int(t.label) for t in tubes), dtype=np.int64, count=len(tubes)),
        np.fromiter((float(t.score) for t in tubes), dtype=np.float64, count=len(tubes)),
    )


def _kept_tubes(ix: _TubeIndex, tubes: Sequence[Tube], params: VideoParams) -> np.ndarray:
    """Indices of the tubes the protocol ranks (ascending): those ACT's per-video, per-class 3D
    NMS keeps, or all of them."""
    if params.tube_nms is None:
        return np.arange(len(tubes))
    if len(tubes) == 0:
        return np.zeros(0, dtype=np.int64)
    groups = ix.det_video * (int(ix.det_label.max()) + 1) + ix.det_label
    return nms_tubes_grouped(ix.det_packed, ix.det_score, groups, params.tube_nms)


def match_tubes(
    gt: SpatialGroundTruth,
    tubes: Sequence[Tube],
    label: int,
    thr: np.ndarray | Sequence[float],
    protocol: str | VideoParams = "act",
    split: str = "test",
    *,
    tube_nms: float | None = 0.3,
) -> Match:
    """Mark the tubes of class ``label`` true or false positive at every threshold.

    Args:
        protocol: ``act``, ``voc`` or ``ucf24-matlab``, or a :class:`VideoParams` (then
            ``tube_nms`` is its own).
        tube_nms: ACT's 3D NMS overlap (``act`` only); ``None`` skips it.

    Returns:
        Match: the tubes the protocol ranks (after ACT's NMS), in its order; ``tp [T, D]``;
        the ground-truth tubes of the class in the split.
    """
    params = _video_params(protocol, tube_nms)
    thr = np.asarray(thr, dtype=np.float64).reshape(-1)
    ix = _tube_index(gt, tubes, split)
    return Match(*_match_tubes(ix, _kept_tubes(ix, tubes, params), label, thr, params))


def _match_tubes(
    ix: _TubeIndex, kept: np.ndarray, label: int, thr: np.ndarray, params: VideoParams
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`match_tubes` on a prepared index and the tubes ``kept`` by the NMS."""
    sel = kept[ix.det_label[kept] == label]
    score = ix.det_score[sel]
    if params.ties == "matlab":
        order = sel[_rank(score.astype(np.float32), ix.det_video[sel], -score)]
    else:
        order = sel[_rank(score)]
    gsel = np.flatnonzero(ix.gt_label == label)
    npos = len(gsel)
    # ground-truth tubes of the class per video, in annotation order
    slot, group = _group_gt(gsel, ix.gt_video[gsel], ix.det_video[order])
    iou = np.full((len(order), slot.shape[1]), -np.inf)
    hi = np.flatnonzero(group >= 0)
    if len(hi):
        gi = slot[group[hi]]
        ok = gi >= 0
        r, c = np.nonzero(ok)
        vals = tube_iou_pairs(ix.gt_packed, ix.det_packed, gi[r, c], order[hi[r]], params.overlap)
        sub = np.full(gi.shape, -np.inf)
        sub[r, c] = vals
        iou[hi] = sub
    tp = _greedy(group, iou, thr, params.rule)
    return order, tp, npos


def _video_ap(params: VideoParams, tp: np.ndarray, npos: int) -> np.ndarray:
    ap = np.zeros(tp.shape[0])
    for i in range(tp.shape[0]):
        if params.ap == "act":
            ap[i] = ap_act(tp[i], npos)
        elif params.ap == "yowo":
            ap[i] = ap_yowo_video(tp[i], npos)
        elif npos > 0 and tp.shape[1]:
            tps = np.cumsum(tp[i]).astype(np.float64)
            fps = np.cumsum(~tp[i]).astype(np.float64)
            ap[i] = ap_all_points_sequential(tps / npos, tps / (fps + tps))
        # ucf24-matlab: no detection, or no ground truth (NaN recall): 0, as get_PR_curve.m
    return ap


def video_map(
    gt: SpatialGroundTruth,
    tubes: Sequence[Tube],
    *,
    protocol: str = "act",
    iou: Sequence[float] | str = DEFAULT_IOU,
    split: str = "test",
    tube_nms: float | None = 0.3,
) -> EvalResult:
    """Video-mAP of detected tubes under ``protocol`` (``act``, ``voc`` or ``ucf24-matlab``).

    Args:
        gt: ground truth; only the videos of ``split`` are scored, and every tube must be on
            one of them.
        tubes: detected tubes (``boxes [n, 5]`` rows ``frame, x1, y1, x2, y2``, consecutive
            frames).
        iou: thresholds.
        tube_nms: ACT's 3D NMS overlap (``act`` only); ``None`` skips it.
    """
    params = VideoParams.for_protocol(protocol, iou, tube_nms)
    thr = np.asarray(params.iou, dtype=np.float64)
    tubes = list(tubes)
    k = len(gt.labels)
    for i, t in enumerate(tubes):
        if not 0 <= int(t.label) < k:
            raise InputError(f'tubes, tube {i}, field "class": label {t.label} outside 0..{k - 1}')
    ix = _tube_index(gt, tubes, split)
    kept = _kept_tubes(ix, tubes, params)
    ap = np.zeros((k, len(thr)))
    npos = np.zeros(k, dtype=np.int64)
    ndet = np.zeros(k, dtype=np.int64)
    tp_count = np.zeros((k, len(thr)), dtype=np.int64)
    warnings: list[str] = []
    if not tubes:
        warnings.append("the tube file holds no tube: every AP is 0")
    for c in range(k):
        _, tp, n = _match_tubes(ix, kept, c, thr, params)
        npos[c], ndet[c] = n, tp.shape[1]
        tp_count[c] = tp.sum(axis=1)
        ap[c] = _video_ap(params, tp, n)
    info: dict = {"tube_nms": params.tube_nms}
    if params.tube_nms is not None:
        info["kept_after_nms"] = int(len(kept))
    return _result("video", params, thr, gt, ap, npos, ndet, tp_count, warnings, info)


def frame_status(
    gt: SpatialGroundTruth,
    dets: FrameDetections,
    *,
    protocol: str = "act",
    iou: Sequence[float] | str = DEFAULT_IOU,
    split: str = "test",
) -> np.ndarray:
    """``[T, N]`` bool: detection ``i`` (file order) is a true positive at threshold ``t`` under
    ``protocol`` (for comparing protocols detection by detection)."""
    params = FrameParams.for_protocol(protocol, iou)
    thr = np.asarray(params.iou, dtype=np.float64)
    index = _frame_index(gt, dets, split, params.ties == "image_name")
    out = np.zeros((len(thr), len(dets)), dtype=bool)
    for c in range(len(gt.labels)):
        order, tp, _, _ = _match_frames(index, dets, c, thr, params)
        out[:, order] = tp
    return out


def tube_status(
    gt: SpatialGroundTruth,
    tubes: Sequence[Tube],
    *,
    protocol: str = "act",
    iou: Sequence[float] | str = DEFAULT_IOU,
    split: str = "test",
    tube_nms: float | None = 0.3,
) -> np.ndarray:
    """``[T, N]`` bool: tube ``i`` (file order) is a true positive at threshold ``t`` (a tube
    ACT's NMS removes is not)."""
    params = VideoParams.for_protocol(protocol, iou, tube_nms)
    thr = np.asarray(params.iou, dtype=np.float64)
    tubes = list(tubes)
    ix = _tube_index(gt, tubes, split)
    kept = _kept_tubes(ix, tubes, params)
    out = np.zeros((len(thr), len(tubes)), dtype=bool)
    for c in range(len(gt.labels)):
        order, tp, _ = _match_tubes(ix, kept, c, thr, params)
        out[:, order] = tp
    return out
