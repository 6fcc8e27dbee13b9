"""Frame-mAP and video-mAP for spatio-temporal action detection (UCF101-24, JHMDB-21) under the
protocols published tables use.

Frame-mAP (``frame_map``), ``protocol=``:

``act`` (default)
    ACT's ``frameAP`` (also MOC-Detector's): IoU with the +1 pixel convention; per class,
    detections by descending score; each is compared with the still-unmatched ground-truth boxes
    of its own video, frame and class, takes the one with the highest IoU (the first among
    equals) and is a true positive if that IoU >= threshold. AP is the trapezoidal area under
    the raw precision-recall curve starting at (recall 0, precision 1), computed on float32
    precision/recall as the reference stores them. mAP over all labels.
``voc``
    PASCAL VOC matching as in YOWO's evaluation (Object-Detection-Metrics): a detection takes
    the highest-IoU ground truth of its frame and class (taken or not); if that one is already
    taken the detection is a false positive. Every-point interpolated AP; no +1. mAP over the
    classes that have ground truth.
``coco``
    COCO's ``COCOeval`` (bbox, area "all", at most 100 detections per frame and class) with the
    frames as images: a detection takes the best still-unmatched ground truth with IoU >=
    threshold (the later one among equal IoUs, as pycocotools does); 101-point interpolated AP.
    Images are ordered as :func:`attnviz.io.spatial_gt.coco_image_ids` numbers them.

Video-mAP (``video_map``), spatio-temporal IoU = temporal IoU of the frame ranges x mean per-frame
IoU over the frames both tubes cover:

``act`` (default)
    ACT's ``videoAP``: 3D NMS at 0.3 per video and class first (``tube_nms=None`` skips it),
    then per class by descending score each tube takes the best still-unmatched ground-truth tube
    of its video if its ``iou3dt`` >= threshold; ACT's AP.
``voc``
    YOWO's ``video_ap_one_class``: no NMS, YOWO's ``iou3dt`` (tubes must share two frames),
    recall ``tp / (tp + fn + 1e-5)``, float32 precision-recall, VOC every-point AP.
``ucf24-matlab``
    ``get_PR_curve.m`` of the corrected UCF101-24 annotations: per video (in the order videos
    first appear in the detection file), tubes by descending score take the best uncovered
    same-class ground truth if the ``compute_spatio_temporal_iou.m`` IoU is strictly greater
    than the threshold; scores stored as single precision and sorted per class; the number of
    positives counts the ground-truth tubes of the videos the detection file covers; ``xVOCap``
    AP; mAP over all classes.

Ties: every sort here is stable. Equal scores keep file order, where some references sort with an
unstable sort (numpy's default quicksort in ACT and YOWO). Nothing is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attnviz.evaluate.params import parse_thresholds
from attnviz.ops.ap import ap_all_points, ap_coco_101
from attnviz.ops.tubes import nms_tubes, tube_iou_act, tube_iou_matlab, tube_iou_yowo
from attnviz.types import EvalResult, FrameDetections, SpatialGroundTruth, Tube

__all__ = [
    "DEFAULT_IOU",
    "FRAME_PROTOCOLS",
    "VIDEO_PROTOCOLS",
    "act_ap",
    "frame_map",
    "match_frames",
    "video_map",
]

DEFAULT_IOU = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75)
FRAME_PROTOCOLS = ("act", "voc", "coco")
VIDEO_PROTOCOLS = ("act", "voc", "ucf24-matlab")
COCO_MAX_DETS = 100


def act_ap(tp: np.ndarray, npos: int) -> float:
    """ACT's ``pr_to_ap`` on its float32 ``pr`` array built from hits ``tp [D]`` (rank order)."""
    tp = np.asarray(tp, dtype=bool)
    d = len(tp)
    pr = np.empty((d + 1, 2), dtype=np.float32)
    pr[0] = (1.0, 0.0)
    if d:
        tps = np.cumsum(tp)
        fps = np.cumsum(~tp)
        pr[1:, 0] = tps / (tps + fps)
        pr[1:, 1] = tps / npos if npos > 0 else 0.0
    prdif = pr[1:, 1] - pr[:-1, 1]
    prsum = pr[1:, 0] + pr[:-1, 0]
    return float(np.sum(prdif * prsum * np.float32(0.5)))


def _voc_ap_float32(tp: np.ndarray, npos: int, eps: float = 0.0) -> float:
    """YOWO's ``voc_ap`` on a float32 ``pr`` array (first row ``(1, 0)``)."""
    tp = np.asarray(tp, dtype=bool)
    d = len(tp)
    pr = np.empty((d + 1, 2), dtype=np.float32)
    pr[0] = (1.0, 0.0)
    if d:
        tps = np.cumsum(tp).astype(np.float64)
        fps = np.cumsum(~tp).astype(np.float64)
        pr[1:, 0] = tps / (tps + fps)
        pr[1:, 1] = tps / (tps + (npos - tps) + eps)
    return ap_all_points(pr[:, 1].astype(np.float64), pr[:, 0].astype(np.float64))


@dataclass
class _ClassFrames:
    """Detections of one class grouped by (video, frame) key, with the key's GT boxes."""

    det: np.ndarray  # detection indices in rank order
    key: np.ndarray  # key id per ranked detection (-1: no GT of this class there)


def _keys(videos: np.ndarray, frames: np.ndarray, vindex: dict[str, int]) -> np.ndarray:
    vid = np.fromiter((vindex[v] for v in videos.tolist()), dtype=np.int64, count=len(videos))
    return vid * 1_000_000 + frames.astype(np.int64)


def _wavefront(
    order: np.ndarray,
    dkey: np.ndarray,
    gt_of_key: dict[int, np.ndarray],
    gt_boxes: np.ndarray,
    det_boxes: np.ndarray,
    thr: np.ndarray,
    protocol: str,
) -> np.ndarray:
    """Greedy matching inside each (video, frame) key, all keys and thresholds at once.

    Detections of one key are processed in rank order; step ``j`` handles the j-th detection of
    every key together. Returns ``tp [T, D]`` for the ranked detections ``order``.
    """
    t = len(thr)
    d = len(order)
    tp = np.zeros((t, d), dtype=bool)
    has = np.fromiter((k in gt_of_key for k in dkey.tolist()), dtype=bool, count=d)
    pos = np.flatnonzero(has)
    if len(pos) == 0:
        return tp
    keys = dkey[pos]
    srt = np.argsort(keys, kind="stable")  # by key, rank order inside
    pos, keys = pos[srt], keys[srt]
    uniq, start, counts = np.unique(keys, return_index=True, return_counts=True)
    ng = len(uniq)
    gcount = np.array([len(gt_of_key[int(k)]) for k in uniq])
    gmax = int(gcount.max())
    gidx = np.full((ng, gmax), -1, dtype=np.int64)
    for i, k in enumerate(uniq.tolist()):
        gidx[i, : gcount[i]] = gt_of_key[k]
    valid = gidx >= 0
    free = np.broadcast_to(valid, (t, ng, gmax)).copy()
    rows_t = np.arange(t)[:, None]
    for j in range(int(counts.max())):
        act = np.flatnonzero(counts > j)
        if protocol == "coco" and j >= COCO_MAX_DETS:
            break
        di = pos[start[act] + j]  # ranked position of the detection
        box = det_boxes[order[di]]
        gb = gt_boxes[np.where(valid[act], gidx[act], 0)]  # [A, gmax, 4]
        if protocol == "act":
            iou = _rowwise_iou(box, gb, plus_one=True)
        elif protocol == "voc":
            iou = _rowwise_iou(box, gb, plus_one=False)
        else:
            iou = _rowwise_coco_iou(box, gb)
        iou = np.where(valid[act], iou, -np.inf)  # [A, gmax]
        fr = free[:, act, :]  # [T, A, gmax]
        cols = np.arange(len(act))[None, :]
        if protocol == "act":
            cand = np.where(fr, iou[None], -np.inf)
            m = np.argmax(cand, axis=2)  # first max
            val = np.take_along_axis(cand, m[..., None], axis=2)[..., 0]
            hit = val >= thr[:, None]
        elif protocol == "voc":
            best = np.where(iou > np.finfo(float).tiny, iou, -np.inf)
            m1 = np.argmax(best, axis=1)  # first max over all of the frame's GT
            val1 = best[np.arange(len(act)), m1]
            m = np.broadcast_to(m1[None, :], (t, len(act)))
            hit = (val1[None, :] >= thr[:, None]) & fr[rows_t, cols, m]
        else:
            thr_c = np.minimum(thr, 1 - 1e-10)[:, None, None]
            cand = np.where(fr & (iou[None] >= thr_c), iou[None], -np.inf)
            rev = cand[..., ::-1]
            m = gmax - 1 - np.argmax(rev, axis=2)  # last max, as pycocotools
            val = np.take_along_axis(cand, m[..., None], axis=2)[..., 0]
            hit = np.isfinite(val)
        tsel, asel = np.nonzero(hit)
        free_act = fr
        free_act[tsel, asel, m[tsel, asel]] = False
        free[:, act, :] = free_act
        tp[:, di] = hit
    return tp


def _rowwise_iou(box: np.ndarray, gb: np.ndarray, plus_one: bool) -> np.ndarray:
    """IoU of ``box [A, 4]`` with each of ``gb [A, G, 4]`` -> ``[A, G]``."""
    one = 1.0 if plus_one else 0.0
    b = box[:, None, :]
    iw = np.minimum(b[..., 2] + one, gb[..., 2] + one) - np.maximum(b[..., 0], gb[..., 0])
    ih = np.minimum(b[..., 3] + one, gb[..., 3] + one) - np.maximum(b[..., 1], gb[..., 1])
    inter = np.maximum(0.0, iw) * np.maximum(0.0, ih)
    a1 = (b[..., 2] - b[..., 0] + one) * (b[..., 3] - b[..., 1] + one)
    a2 = (gb[..., 2] - gb[..., 0] + one) * (gb[..., 3] - gb[..., 1] + one)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / (a1 + a2 - inter)
    return np.where(inter > 0, out, 0.0)


def _rowwise_coco_iou(box: np.ndarray, gb: np.ndarray) -> np.ndarray:
    d = np.stack([box[:, 0], box[:, 1], box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]], 1)
    g = np.stack([gb[..., 0], gb[..., 1], gb[..., 2] - gb[..., 0], gb[..., 3] - gb[..., 1]], -1)
    dd = d[:, None, :]
    iw = np.minimum(dd[..., 0] + dd[..., 2], g[..., 0] + g[..., 2]) - np.maximum(
        dd[..., 0], g[..., 0]
    )
    ih = np.minimum(dd[..., 1] + dd[..., 3], g[..., 1] + g[..., 3]) - np.maximum(
        dd[..., 1], g[..., 1]
    )
    inter = iw * ih
    union = dd[..., 2] * dd[..., 3] + g[..., 2] * g[..., 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((iw > 0) & (ih > 0), inter / union, 0.0)


def _thresholds(iou) -> tuple[float, ...]:
    return parse_thresholds(iou) if isinstance(iou, str) else tuple(float(t) for t in iou)


def _check_videos(videos: Sequence[str], split_set: set[str], split: str, source: str) -> None:
    outside = sorted(set(videos) - split_set)
    if outside:
        from attnviz.errors import InputError

        raise InputError(
            f'{source}: video "{outside[0]}" is not in the {split} split of the ground truth '
            f"({len(outside)} such videos)"
        )


def match_frames(
    gt: SpatialGroundTruth,
    dets: FrameDetections,
    label: int,
    thr: np.ndarray,
    protocol: str,
    videos: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, int]:
    """Mark the detections of class ``label`` true/false positive at every threshold.

    Returns:
        (order, tp, npos): ``order`` the ranked detection indices the protocol accumulates
        (for ``coco`` only the kept top-100 per frame, in COCO's final order), ``tp [T, D]``
        and the number of ground-truth boxes.
    """
    vindex = {v: i for i, v in enumerate(sorted(videos))}
    gkeys, gboxes = [], []
    for v in videos:
        for tube in gt.videos[v].tubes:
            if tube.label != label:
                continue
            b = np.asarray(tube.boxes, dtype=np.float64)
            gkeys.append(vindex[v] * 1_000_000 + b[:, 0].astype(np.int64))
            gboxes.append(b[:, 1:5])
    if gkeys:
        gk = np.concatenate(gkeys)
        gb = np.concatenate(gboxes)
    else:
        gk, gb = np.zeros(0, dtype=np.int64), np.zeros((0, 4))
    npos = len(gk)
    # GT boxes of each key in annotation order (tube order, then frame)
    gt_of_key: dict[int, np.ndarray] = {}
    if npos:
        srt = np.argsort(gk, kind="stable")
        uk, st = np.unique(gk[srt], return_index=True)
        bounds = np.append(st, len(srt))
        gt_of_key = {int(k): srt[bounds[i] : bounds[i + 1]] for i, k in enumerate(uk)}
    sel = np.flatnonzero(dets.label == label)
    order = sel[np.argsort(-dets.score[sel], kind="stable")]
    dkey = _keys(dets.video[order], dets.frame[order], vindex)
    tp = _wavefront(order, dkey, gt_of_key, gb, dets.boxes, thr, protocol)
    if protocol == "coco":
        # at most 100 per image, then images in id order (sorted video, frame) and a stable
        # score sort over the concatenation
        by_key = np.argsort(dkey, kind="stable")
        k_sorted = dkey[by_key]
        first = np.r_[0, np.flatnonzero(np.diff(k_sorted)) + 1]
        rank_in_key = np.arange(len(by_key)) - np.repeat(first, np.diff(np.r_[first, len(by_key)]))
        keep = by_key[rank_in_key < COCO_MAX_DETS]
        final = keep[np.argsort(-dets.score[order[keep]], kind="stable")]
        return order[final], tp[:, final], npos
    return order, tp, npos


def frame_map(
    gt: SpatialGroundTruth,
    dets: FrameDetections,
    *,
    protocol: str = "act",
    iou: Sequence[float] | str = DEFAULT_IOU,
    split: str = "test",
) -> EvalResult:
    """Frame-mAP of per-frame detections under ``protocol`` (``act``, ``voc`` or ``coco``)."""
    if protocol not in FRAME_PROTOCOLS:
        raise ValueError(f"unknown frame protocol {protocol!r}: expected {FRAME_PROTOCOLS}")
    thr = np.asarray(_thresholds(iou))
    videos = list(gt.split(split))
    _check_videos(set(dets.video.tolist()), set(videos), split, dets.source or "detections")
    k = len(gt.labels)
    ap = np.zeros((k, len(thr)))
    npos = np.zeros(k, dtype=np.int64)
    warnings: list[str] = []
    if len(dets) == 0:
        warnings.append("the detection file holds no detection: every AP is 0")
    for c in range(k):
        order, tp, n = match_frames(gt, dets, c, thr, protocol, videos)
        npos[c] = n
        for i in range(len(thr)):
            if protocol == "act":
                ap[c, i] = act_ap(tp[i], n)
            elif n == 0:
                ap[c, i] = 0.0
            elif protocol == "voc":
                tps = np.cumsum(tp[i]).astype(np.float64)
                fps = np.cumsum(~tp[i]).astype(np.float64)
                ap[c, i] = ap_all_points(tps / n, tps / (tps + fps)) if len(tps) else 0.0
            else:
                ap[c, i] = ap_coco_101(tp[i], ~tp[i], n)
    return _result("frame", protocol, thr, gt, ap, npos, warnings, protocol != "act")


def _result(metric, protocol, thr, gt, ap, npos, warnings, skip_empty) -> EvalResult:
    present = npos > 0
    if not present.all():
        names = [gt.labels[c] for c in np.flatnonzero(~present)]
        how = "left out of the mAP" if skip_empty else "counted as AP 0 in the mAP (as ACT does)"
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
        params={"protocol": protocol},
        warnings=tuple(warnings),
        extra={"npos": {gt.labels[c]: int(npos[c]) for c in range(len(npos))}},
    )


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
        tube_nms: ACT's 3D NMS overlap (``act`` only); ``None`` skips it.
    """
    if protocol not in VIDEO_PROTOCOLS:
        raise ValueError(f"unknown video protocol {protocol!r}: expected {VIDEO_PROTOCOLS}")
    thr = np.asarray(_thresholds(iou))
    videos = list(gt.split(split))
    vset = set(videos)
    _check_videos({t.video for t in tubes}, vset, split, "tubes")
    k = len(gt.labels)
    ap = np.zeros((k, len(thr)))
    npos = np.zeros(k, dtype=np.int64)
    warnings: list[str] = []
    if not tubes:
        warnings.append("the tube file holds no tube: every AP is 0")
    tubes = list(tubes)
    if protocol == "act" and tube_nms is not None:
        groups: dict[tuple[str, int], list[int]] = {}
        for i, t in enumerate(tubes):
            groups.setdefault((t.video, t.label), []).append(i)
        kept = []
        for idx in groups.values():
            keep = nms_tubes(
                [tubes[i].boxes for i in idx], np.array([tubes[i].score for i in idx]), tube_nms
            )
            kept += [idx[j] for j in keep]
        tubes = [tubes[i] for i in sorted(kept)]
    if protocol == "ucf24-matlab":
        return _video_map_matlab(gt, tubes, thr, videos, warnings)
    for c in range(k):
        gts = {
            v: [np.asarray(t.boxes, float) for t in gt.videos[v].tubes if t.label == c]
            for v in videos
        }
        gts = {v: g for v, g in gts.items() if g}
        n = sum(len(g) for g in gts.values())
        npos[c] = n
        cand = [t for t in tubes if t.label == c]
        order = np.argsort(-np.array([t.score for t in cand], dtype=np.float64), kind="stable")
        fn = tube_iou_act if protocol == "act" else tube_iou_yowo
        for i, th in enumerate(thr):
            left = {v: list(range(len(g))) for v, g in gts.items()}
            hits = np.zeros(len(cand), dtype=bool)
            for r, j in enumerate(order):
                tube = cand[j]
                rem = left.get(tube.video)
                if not rem:
                    continue
                ious = [fn(gts[tube.video][g], tube.boxes) for g in rem]
                a = int(np.argmax(ious))
                if ious[a] >= th:
                    hits[r] = True
                    del rem[a]
            ap[c, i] = act_ap(hits, n) if protocol == "act" else _voc_ap_float32(hits, n, 1e-5)
    return _result("video", protocol, thr, gt, ap, npos, warnings, False)


def _video_map_matlab(gt, tubes, thr, videos, warnings) -> EvalResult:
    k = len(gt.labels)
    ap = np.zeros((k, len(thr)))
    video_order: list[str] = []
    by_video: dict[str, list[Tube]] = {}
    for t in tubes:
        if t.video not in by_video:
            video_order.append(t.video)
            by_video[t.video] = []
        by_video[t.video].append(t)
    npos = np.zeros(k, dtype=np.int64)
    for v in video_order:
        for g in gt.videos[v].tubes:
            npos[g.label] += 1
    for i, th in enumerate(thr):
        scores: list[list[float]] = [[] for _ in range(k)]
        labels: list[list[bool]] = [[] for _ in range(k)]
        for v in video_order:
            dts = by_video[v]
            order = np.argsort(-np.array([t.score for t in dts], dtype=np.float64), kind="stable")
            gts = gt.videos[v].tubes
            covered = np.zeros(len(gts), dtype=bool)
            for j in order:
                d = dts[j]
                best, arg = -np.inf, -1
                for gi, g in enumerate(gts):
                    if covered[gi] or g.label != d.label:
                        continue
                    s = tube_iou_matlab(g.boxes, d.boxes)
                    if s > best:
                        best, arg = s, gi
                hit = best > th
                if hit:
                    covered[arg] = True
                scores[d.label].append(d.score)
                labels[d.label].append(hit)
        for c in range(k):
            sc = np.asarray(scores[c], dtype=np.float32)
            lab = np.asarray(labels[c], dtype=bool)[np.argsort(-sc, kind="stable")]
            tps = np.cumsum(lab).astype(np.float64)
            fps = np.cumsum(~lab).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                rec = tps / npos[c]
                prec = tps / (fps + tps)
            ap[c, i] = ap_all_points(rec, prec) if npos[c] or not len(lab) else 0.0
    return _result("video", "ucf24-matlab", thr, gt, ap, npos, warnings, False)
