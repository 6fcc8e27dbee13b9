"""Temporal action detection mAP under the protocols that published THUMOS14 tables use.

Protocols (``protocol=``):

``thumos14`` (default)
    The official THUMOS14 evaluation kit, 2015 release (``TH14evalDet.m``). Per class and per
    video, detections are ranked by descending score (equal scores keep file order); the
    class's ground-truth instances, in annotation-file order, each take the still-free detection
    with the largest overlap (the best-ranked one among equals) if that overlap is strictly
    greater than the threshold. Overlap = intersection / (max end - min start) after ordering
    each interval's ends, 0 unless the intersection is positive. A detection left unmatched
    that overlaps an Ambiguous segment of its video is dropped (neither true nor false
    positive). The per-video lists are joined in sorted video-name order and stably sorted by
    score; AP = sum of the precision at each true positive / number of ground-truth instances.
    ``.mp4`` is removed from video names (every occurrence, as the kit's ``regexprep`` does).
``thumos14-2014``
    The original 2014 kit: the same matching, but on equal scores every true positive ranks
    before every false positive, and AP is the 11-point interpolated AP at MATLAB's
    ``0:0.1:1`` recall points; ``.mpeg`` is removed from video names.
``activitynet``
    ActivityNet's ``eval_detection.py``: per class, detections by descending score in results
    order (videos in order of first appearance, file order within a video); each detection tries
    the ground truths of its video in descending tIoU and takes the first one not yet matched with
    tIoU >= threshold (tIoU = intersection / union, segments as written); no Ambiguous handling;
    every-point interpolated AP. The reference sorts with numpy's unstable default sort, so the
    order of equal scores and of equal tIoUs there depends on the numpy version; attnviz breaks
    such ties deterministically: equal scores keep results order, equal tIoUs try the earlier
    ground truth first. A reversed segment whose length is minus a ground truth's gives
    ``0 / 0 = nan`` there, which sorts first and passes the threshold test: the detection takes
    that ground truth. attnviz reproduces this (it is the number the reference gives) and counts
    such detections in ``EvalResult.extra["nan_tiou_matches"]``.

Detections on videos absent from the ground truth are false positives under every protocol
(a warning counts them). Classes without any ground-truth instance get AP 0, are left out of the
mean, and are named in a warning.

Shape of the code: :func:`match` marks every detection of one class true positive, false positive
or ignored at all thresholds at once; :func:`accumulate` turns that into AP; :func:`evaluate_thumos`
does every class. Nothing is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from attnviz.evaluate.params import parse_thresholds
from attnviz.ops.ap import ap_11_point, ap_all_points, ap_precision_at_hits
from attnviz.ops.segments import any_positive_overlap, segment_iou, thumos_overlap
from attnviz.types import EvalResult, TemporalDetections, TemporalGroundTruth

__all__ = [
    "DEFAULT_TIOU",
    "PROTOCOLS",
    "ClassMatch",
    "ThumosParams",
    "accumulate",
    "evaluate_thumos",
    "match",
]

PROTOCOLS = ("thumos14", "thumos14-2014", "activitynet")
DEFAULT_TIOU = (0.1, 0.2, 0.3, 0.4, 0.5)

# status codes of a detection at one threshold
FP, TP, IGNORED = 0, 1, 2


@dataclass(frozen=True)
class ThumosParams:
    """Constants of one protocol (never mutated by the evaluation)."""

    protocol: str = "thumos14"
    tiou: tuple[float, ...] = DEFAULT_TIOU
    strip: str = ".mp4"
    ambiguous: bool = True
    overlap: str = "thumos"  # "thumos" (hull) or "iou"
    strictly_greater: bool = True
    ap: str = "precision_at_hits"  # or "11point", "all_points"

    @staticmethod
    def for_protocol(protocol: str, tiou: Sequence[float] | str = DEFAULT_TIOU) -> ThumosParams:
        thr = parse_thresholds(tiou) if isinstance(tiou, str) else tuple(float(t) for t in tiou)
        if protocol == "thumos14":
            return ThumosParams(protocol, thr)
        if protocol == "thumos14-2014":
            return ThumosParams(protocol, thr, strip=".mpeg", ap="11point")
        if protocol == "activitynet":
            return ThumosParams(
                protocol,
                thr,
                strip="",
                ambiguous=False,
                overlap="iou",
                strictly_greater=False,
                ap="all_points",
            )
        raise ValueError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")


@dataclass
class ClassMatch:
    """Matching of one class's detections at every threshold.

    Attributes:
        det_index (ndarray[D]): indices into the detection arrays, in the protocol's ranking
            before the final score sort (see ``rank``).
        rank (ndarray[D]): position-independent ranking of those detections; ``status`` columns
            follow ``det_index``.
        status (ndarray[T, D] int8): FP (0), TP (1) or IGNORED (2) at each threshold.
        npos (int): ground-truth instances of the class.
        nan_matches (int): detections matched through a ``nan`` tIoU (activitynet only).
    """

    det_index: np.ndarray
    score: np.ndarray
    status: np.ndarray
    npos: int
    nan_matches: int = 0
    extra: dict = field(default_factory=dict)


def _strip(names: np.ndarray, suffix: str) -> np.ndarray:
    if not suffix or len(names) == 0:
        return names
    return np.asarray([n.replace(suffix, "") for n in names.tolist()], dtype=object)


def _group(keys: np.ndarray) -> dict[str, np.ndarray]:
    """``{key: indices}`` with indices ascending."""
    if len(keys) == 0:
        return {}
    uniq, inv = np.unique(keys.astype(str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(uniq) + 1))
    return {str(u): order[bounds[i] : bounds[i + 1]] for i, u in enumerate(uniq)}


def _match_thumos(
    det_video, det_seg, det_score, det_amb, gt_by_video, gt_seg, thr, params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """THUMOS kits. Returns (det order as concatenated per video, status [T, D], scores)."""
    t = len(thr)
    groups = _group(det_video)
    order_parts, status_parts = [], []
    for video in sorted(groups):
        idx = groups[video]
        # descending score, file order among equals
        idx = idx[np.argsort(-det_score[idx], kind="stable")]
        status = np.zeros((t, len(idx)), dtype=np.int8)
        gidx = gt_by_video.get(video)
        if gidx is not None and len(gidx):
            ov = thumos_overlap(gt_seg[gidx], det_seg[idx])  # [G, D]
            free = np.ones((t, len(idx)), dtype=bool)
            rows = np.arange(t)
            for k in range(len(gidx)):
                cand = np.where(free, ov[k][None, :], -np.inf)
                im = np.argmax(cand, axis=1)
                vm = cand[rows, im]
                take = vm > thr
                free[rows[take], im[take]] = False
            status[~free] = TP
        if params.ambiguous:
            amb = det_amb[idx]
            status[(status == FP) & amb[None, :]] = IGNORED
        order_parts.append(idx)
        status_parts.append(status)
    if not order_parts:
        return np.zeros(0, dtype=np.int64), np.zeros((t, 0), dtype=np.int8), np.zeros(0)
    order = np.concatenate(order_parts)
    return order, np.concatenate(status_parts, axis=1), det_score[order]


def _match_activitynet(det_order_key, det_video, det_seg, det_score, gt_by_video, gt_seg, thr):
    """ActivityNet. Returns (det order by rank, status [T, D], scores, nan matches)."""
    t = len(thr)
    # results order, then stable descending score
    base = np.argsort(det_order_key, kind="stable")
    order = base[np.argsort(-det_score[base], kind="stable")]
    d = len(order)
    status = np.zeros((t, d), dtype=np.int8)
    nan_matches = 0
    rows = np.arange(t)
    pos_of = {video: i for i, video in enumerate(gt_by_video)}
    locked = {video: np.zeros((t, len(g)), dtype=bool) for video, g in gt_by_video.items()}
    ious: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    vids = det_video[order]
    has_gt = np.fromiter((v in pos_of for v in vids.tolist()), dtype=bool, count=d)
    # per video: tIoU of all its detections against its ground truth, sorted once
    for video in set(vids[has_gt].tolist()):
        sel = order[vids == video]
        g = gt_by_video[video]
        iou = segment_iou(det_seg[sel], gt_seg[g])  # [Dv, G]
        # descending tIoU, nan first, earlier ground truth first among equals
        key = np.where(np.isnan(iou), np.inf, iou)
        srt = np.argsort(-key, axis=1, kind="stable")
        ious[video] = (iou, srt)
    counters = dict.fromkeys(ious, 0)
    for j in np.flatnonzero(has_gt):
        video = vids[j]
        iou_all, srt_all = ious[video]
        r = counters[video]
        counters[video] = r + 1
        iou, srt = iou_all[r][srt_all[r]], srt_all[r]
        lock = locked[video]
        # walk in descending tIoU; stop at the first tIoU < threshold (nan passes)
        passes = ~(iou[None, :] < thr[:, None])  # [T, G]
        prefix = np.cumprod(passes, axis=1).astype(bool)
        ok = prefix & ~lock[:, srt]
        hit = ok.any(axis=1)
        first = np.argmax(ok, axis=1)
        if hit.any():
            lock[rows[hit], srt[first[hit]]] = True
            status[hit, j] = TP
            if np.isnan(iou[first[hit]]).any():
                nan_matches += 1
    return order, status, det_score[order], nan_matches


def match(
    gt: TemporalGroundTruth,
    dets: TemporalDetections,
    label: int,
    params: ThumosParams,
    *,
    det_amb: np.ndarray | None = None,
) -> ClassMatch:
    """Mark the detections of class ``label`` at every threshold of ``params``.

    Args:
        gt: ground truth (instances in annotation-file order).
        dets: detections, with video names already normalised for the protocol.
        label: class index.
        params: protocol constants.
        det_amb (ndarray[N] bool): per detection, whether it overlaps an Ambiguous segment of
            its video (computed once for all classes by :func:`evaluate_thumos`).
    """
    thr = np.asarray(params.tiou, dtype=np.float64)
    gsel = np.flatnonzero(gt.label == label)
    gt_seg = np.stack([gt.start[gsel], gt.end[gsel]], axis=1) if len(gsel) else np.zeros((0, 2))
    gt_by_video = {v: i for v, i in _group(gt.video[gsel]).items()} if len(gsel) else {}
    dsel = np.flatnonzero(dets.label == label)
    seg = np.stack([dets.start[dsel], dets.end[dsel]], axis=1)
    if params.protocol == "activitynet":
        order, status, score, nan_matches = _match_activitynet(
            dets.order_key[dsel], dets.video[dsel], seg, dets.score[dsel], gt_by_video, gt_seg, thr
        )
    else:
        amb = det_amb[dsel] if det_amb is not None else np.zeros(len(dsel), dtype=bool)
        order, status, score = _match_thumos(
            dets.video[dsel], seg, dets.score[dsel], amb, gt_by_video, gt_seg, thr, params
        )
        nan_matches = 0
    return ClassMatch(dsel[order], score, status, int(len(gsel)), nan_matches)


def accumulate(m: ClassMatch, params: ThumosParams) -> np.ndarray:
    """AP of one class at every threshold (``ndarray[T]``) from its :class:`ClassMatch`."""
    t = m.status.shape[0]
    out = np.zeros(t)
    if m.npos == 0 or m.status.shape[1] == 0:
        return out
    # final ranking: stable descending score over the protocol's concatenated order
    rank = np.argsort(-m.score, kind="stable")
    for i in range(t):
        st = m.status[i, rank]
        if params.ap == "11point":
            keep = st != IGNORED
            sc = m.score[rank][keep]
            hits = st[keep] == TP
            # on equal scores, true positives first (the 2014 kit lists them first)
            o = np.lexsort((~hits, -sc))
            hits = hits[o]
            tp = np.cumsum(hits)
            prec = tp / np.arange(1, len(hits) + 1)
            out[i] = ap_11_point(tp / m.npos, prec) if len(hits) else 0.0
        elif params.ap == "precision_at_hits":
            hits = st[st != IGNORED] == TP
            out[i] = ap_precision_at_hits(hits, m.npos)
        else:
            hits = st == TP
            tp = np.cumsum(hits).astype(np.float64)
            fp = np.cumsum(~hits).astype(np.float64)
            out[i] = ap_all_points(tp / m.npos, tp / (tp + fp))
    return out


def evaluate_thumos(
    gt: TemporalGroundTruth,
    dets: TemporalDetections,
    *,
    protocol: str = "thumos14",
    tiou: Sequence[float] | str = DEFAULT_TIOU,
    keep_matches: bool = False,
) -> EvalResult:
    """Temporal detection AP per class and threshold under ``protocol``.

    Args:
        gt: the ground truth (:func:`attnviz.io.thumos.read_thumos_gt`).
        dets: detections (:func:`attnviz.io.thumos.read_detections`); labels index
            ``gt.class_names``.
        protocol: ``thumos14``, ``thumos14-2014`` or ``activitynet``.
        tiou: thresholds (floats, or a string such as ``"0.1:0.5:0.1"``).
        keep_matches: store each class's :class:`ClassMatch` in ``extra["matches"]`` (for
            ``--compare`` and PR curves).

    Returns:
        EvalResult with ``ap [K, T]``; ``extra`` has ``npos`` per class, counts of unknown-video
        detections and of ``nan`` tIoU matches.
    """
    params = ThumosParams.for_protocol(protocol, tiou)
    warnings: list[str] = []
    videos = _strip(dets.video, params.strip)
    dets = dets.with_videos(videos)
    known = set(gt.videos) | set(gt.video.tolist())
    unknown = [v for v in set(videos.tolist()) if v not in known]
    if unknown:
        n_unknown = int(np.isin(videos.astype(str), np.asarray(unknown, dtype=str)).sum())
        warnings.append(
            f"{n_unknown} detections on {len(unknown)} videos absent from the ground truth "
            f"(e.g. {sorted(unknown)[0]!r}) count as false positives"
        )
    if len(dets) == 0:
        warnings.append("the prediction file holds no detection: every AP is 0")
    det_amb = None
    if params.ambiguous and gt.ambiguous and len(dets):
        det_amb = np.zeros(len(dets), dtype=bool)
        for video, idx in _group(videos).items():
            segs = gt.ambiguous.get(video)
            if segs is not None and len(segs):
                det_amb[idx] = any_positive_overlap(
                    np.stack([dets.start[idx], dets.end[idx]], axis=1), segs
                )
    k = len(gt.class_names)
    ap = np.zeros((k, len(params.tiou)))
    npos = np.zeros(k, dtype=np.int64)
    nan_total = 0
    matches = {}
    for c in range(k):
        m = match(gt, dets, c, params, det_amb=det_amb)
        npos[c] = m.npos
        ap[c] = accumulate(m, params)
        nan_total += m.nan_matches
        if keep_matches:
            matches[gt.class_names[c]] = m
    evaluated = npos > 0
    if not evaluated.all():
        missing = [gt.class_names[c] for c in np.flatnonzero(~evaluated)]
        warnings.append(
            f"{len(missing)} classes have no ground-truth instance and are left out of the mAP: "
            + ", ".join(missing)
        )
    if nan_total:
        warnings.append(
            f"{nan_total} reversed detections matched a ground truth through a nan tIoU "
            "(as the ActivityNet reference does)"
        )
    m_ap = ap[evaluated].mean(axis=0) if evaluated.any() else np.zeros(len(params.tiou))
    extra = {
        "npos": {gt.class_names[c]: int(npos[c]) for c in range(k)},
        "num_detections": len(dets),
        "unknown_videos": len(unknown),
        "nan_tiou_matches": nan_total,
    }
    if keep_matches:
        extra["matches"] = matches
    return EvalResult(
        metric="temporal",
        protocol=params.protocol,
        thresholds=params.tiou,
        class_names=gt.class_names,
        ap=ap,
        mAP=m_ap,
        params={
            "strip": params.strip,
            "ambiguous": params.ambiguous,
            "overlap": params.overlap,
            "strictly_greater": params.strictly_greater,
            "ap": params.ap,
            "subset": gt.subset,
        },
        warnings=tuple(warnings),
        extra=extra,
    )
