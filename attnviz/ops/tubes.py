"""Spatio-temporal overlap of tubes and 3D non-maximum suppression (numpy only).

A tube is ``ndarray[n, 5]`` rows ``frame, x1, y1, x2, y2`` with consecutive ascending frames.
The spatio-temporal IoU is the temporal IoU of the frame ranges times the mean per-frame IoU over
the frames both tubes cover. The references differ in the details, and each detail moves
published numbers, so :func:`tube_iou_pairs` takes the convention by name:

``act``
    ACT / MOC ``iou3dt``: tubes that share a single frame overlap; per-frame IoU with +1 pixels
    (:func:`~attnviz.ops.boxes.iou_plus_one`); ``mean * (t_inter / t_union)``, the mean summed
    as ``np.mean`` sums.
``yowo``
    YOWO ``iou3dt``: tubes must share two frames (``t_max <= t_min`` gives 0); +1 pixels;
    ``(mean * t_inter) / t_union``.
``matlab``
    ``compute_spatio_temporal_iou.m`` of the corrected UCF101-24 annotations: tubes must share
    two frames; boxes as ``[x y w h]`` (``w = x2 - x1``) with the detection's four numbers each
    increased by 1, ``inters_union`` (:func:`~attnviz.ops.boxes.iou_matlab`); the mean summed
    left to right as Octave does; ``(t_inter / t_union) * mean``.
``multisports``
    MultiSports' ``iou3dt_voc``: ACT's rule without any +1: per-frame IoU with widths
    ``x2 - x1`` (:func:`~attnviz.ops.boxes.iou_voc_nan`), ``t_inter = t_max - t_min`` and
    ``t_union = max(end) - min(start)`` (so tubes sharing one frame have IoU 0, and two
    one-frame tubes on the same frame ``0 / 0 = NaN``, as the reference computes it);
    ``mean * (t_inter / t_union)``.

Pairs are computed in one vectorised pass: the frames both tubes cover are gathered into one
flat array, grouped by overlap length so that each mean is a row reduction with exactly the
rounding of the reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attnviz.ops.boxes import iou_matlab, iou_plus_one, iou_voc_nan

__all__ = [
    "TUBE_IOU_CONVENTIONS",
    "nms_tubes",
    "nms_tubes_grouped",
    "tube_iou",
    "tube_iou_pairs",
]

TUBE_IOU_CONVENTIONS = ("act", "yowo", "matlab", "multisports")
_CHUNK_FRAMES = 1 << 21  # frames gathered at once (bounds memory)


class _Packed:
    """Tubes concatenated: ``boxes [sum n, 4]``, ``offset [k]``, ``start [k]``, ``end [k]``."""

    def __init__(self, tubes: Sequence[np.ndarray]):
        self.f32 = np.array([np.asarray(t).dtype == np.float32 for t in tubes], dtype=bool)
        arrs = [np.asarray(t, dtype=np.float64) for t in tubes]
        for a in arrs:
            if a.ndim != 2 or a.shape[1] != 5 or len(a) == 0:
                raise ValueError(f"a tube must be a non-empty [n, 5] array, got shape {a.shape}")
        lens = np.fromiter((len(a) for a in arrs), dtype=np.int64, count=len(arrs))
        self.offset = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
        self.boxes = np.concatenate(arrs)[:, 1:5] if arrs else np.zeros((0, 4))
        self.start = np.array([a[0, 0] if len(a) else 0 for a in arrs], dtype=np.float64)
        self.end = np.array([a[-1, 0] if len(a) else -1 for a in arrs], dtype=np.float64)


def _pack(tubes) -> _Packed:
    return tubes if isinstance(tubes, _Packed) else _Packed(tubes)


def tube_iou_pairs(
    gt_tubes: Sequence[np.ndarray] | _Packed,
    det_tubes: Sequence[np.ndarray] | _Packed,
    gt_index: np.ndarray,
    det_index: np.ndarray,
    convention: str = "act",
) -> np.ndarray:
    """Spatio-temporal IoU of the pairs ``(gt_tubes[gt_index[p]], det_tubes[det_index[p]])``.

    Args:
        gt_tubes, det_tubes: sequences of ``ndarray[n, 5]`` tubes (consecutive frames).
        gt_index (ndarray[P] int), det_index (ndarray[P] int): the pairs.
        convention: ``act``, ``yowo``, ``matlab`` or ``multisports`` (see the module docstring).

    Returns:
        ndarray[P] float64.
    """
    if convention not in TUBE_IOU_CONVENTIONS:
        raise ValueError(f"unknown tube IoU convention {convention!r}: {TUBE_IOU_CONVENTIONS}")
    g, d = _pack(gt_tubes), _pack(det_tubes)
    gi = np.asarray(gt_index, dtype=np.int64).reshape(-1)
    di = np.asarray(det_index, dtype=np.int64).reshape(-1)
    out = np.zeros(len(gi), dtype=np.float64)
    if len(gi) == 0:
        return out
    tmin = np.maximum(g.start[gi], d.start[di])
    tmax = np.minimum(g.end[gi], d.end[di])
    ok = tmax >= tmin if convention in ("act", "multisports") else tmax > tmin
    pairs = np.flatnonzero(ok)
    if len(pairs) == 0:
        return out
    n = (tmax[pairs] - tmin[pairs]).astype(np.int64) + 1
    union = np.maximum(g.end[gi[pairs]], d.end[di[pairs]]) - np.minimum(
        g.start[gi[pairs]], d.start[di[pairs]]
    )
    inter = tmax[pairs] - tmin[pairs]
    if convention != "multisports":
        union = union + 1
        inter = inter + 1
    # gather the shared frames of every pair, pairs sorted by overlap length
    by_n = np.argsort(n, kind="stable")
    pairs, n, union, inter = pairs[by_n], n[by_n], union[by_n], inter[by_n]
    g0 = g.offset[gi[pairs]] + (tmin[pairs] - g.start[gi[pairs]]).astype(np.int64)
    d0 = d.offset[di[pairs]] + (tmin[pairs] - d.start[di[pairs]]).astype(np.int64)
    mean = np.empty(len(pairs))
    lens, first = np.unique(n, return_index=True)
    bounds = np.append(first, len(n))
    for k, length in enumerate(lens.tolist()):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        step = max(1, _CHUNK_FRAMES // length)
        for a in range(lo, hi, step):
            b = min(hi, a + step)
            ar = np.arange(length)
            gb = g.boxes[g0[a:b, None] + ar]  # [p, length, 4]
            db = d.boxes[d0[a:b, None] + ar]
            if convention == "matlab":
                gx = np.stack(
                    [gb[..., 0], gb[..., 1], gb[..., 2] - gb[..., 0], gb[..., 3] - gb[..., 1]], -1
                )
                dx = np.stack(
                    [db[..., 0], db[..., 1], db[..., 2] - db[..., 0], db[..., 3] - db[..., 1]], -1
                )
                frame_iou = iou_matlab(gx, dx + 1)
                mean[a:b] = np.cumsum(frame_iou, axis=1)[:, -1] / length  # Octave: left to right
            elif convention == "multisports":
                gf, df = g.f32[gi[pairs[a:b]]], d.f32[di[pairs[a:b]]]
                mean[a:b] = _typed_means(gb, db, gf, df)
            else:
                mean[a:b] = np.mean(iou_plus_one(gb, db), axis=1)
    if convention == "multisports":
        val = _multisports_product(g, d, gi[pairs], di[pairs], mean, inter, union)
    elif convention == "act":
        val = mean * (inter / union)
    elif convention == "yowo":
        val = mean * inter / union
    else:
        val = (inter / union) * mean
    out[pairs] = val
    return out


def _typed_means(gb: np.ndarray, db: np.ndarray, gf: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``np.mean`` of the per-frame :func:`~attnviz.ops.boxes.iou_voc_nan` of each pair, computed
    in the tubes' own types (``gf`` / ``df``: the tube is float32), as MultiSports' ``iou3d_voc``
    does; returned as float64 (exact)."""
    out = np.empty(len(gb))
    for fg in (False, True):
        for fd in (False, True):
            sel = np.flatnonzero((gf == fg) & (df == fd))
            if len(sel):
                g = gb[sel].astype(np.float32) if fg else gb[sel]
                d = db[sel].astype(np.float32) if fd else db[sel]
                out[sel] = np.mean(iou_voc_nan(g, d), axis=1)
    return out


def _multisports_product(g, d, gi, di, mean, inter, union) -> np.ndarray:
    """``mean * (t_inter / t_union)`` with numpy's types as MultiSports' ``iou3dt_voc`` meets them:
    ``max`` / ``min`` of two frame numbers return one of the two numpy scalars (the ground
    truth's on a tie), so the ratio is float32 only when every frame number it uses comes from a
    float32 tube, and the product is float32 when the mean is too."""
    gf, df = g.f32[gi], d.f32[di]
    gs, ge, ds, de = g.start[gi], g.end[gi], d.start[di], d.end[di]
    inter32 = np.where(ds > gs, df, gf) & np.where(de < ge, df, gf)
    union32 = np.where(de > ge, df, gf) & np.where(ds < gs, df, gf)
    ratio32 = inter32 & union32
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = inter / union
        val = mean * ratio
        if ratio32.any():
            r32 = inter[ratio32].astype(np.float32) / union[ratio32].astype(np.float32)
            both = gf[ratio32] & df[ratio32]
            m = mean[ratio32]
            val[ratio32] = np.where(
                both, m.astype(np.float32) * r32, m * r32.astype(np.float64)
            ).astype(np.float64)
    return val


def tube_iou(gt: np.ndarray, det: np.ndarray, convention: str = "act") -> float:
    """Spatio-temporal IoU of one ground-truth tube and one detected tube (``[n, 5]`` each)."""
    return float(tube_iou_pairs([gt], [det], np.zeros(1, int), np.zeros(1, int), convention)[0])


def nms_tubes(tubes: Sequence[np.ndarray], scores: np.ndarray, overlap: float = 0.3) -> np.ndarray:
    """3D NMS as ACT's ``nms3dt``: repeatedly keep the best-scoring tube and drop those whose
    ``act`` spatio-temporal IoU with it exceeds ``overlap``.

    Equal scores: the earlier tube first (ACT sorts with numpy's unstable default sort).

    Args:
        tubes: ``k`` tubes ``[n, 5]``.
        scores (ndarray[k]): their scores.

    Returns:
        ndarray[m] int: indices of the kept tubes, in keep order (best first).
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    kept = nms_tubes_grouped(tubes, scores, np.zeros(len(scores), dtype=np.int64), overlap)
    return kept[np.lexsort((kept, -scores[kept]))] if len(kept) else kept


def nms_tubes_grouped(
    tubes: Sequence[np.ndarray] | _Packed,
    scores: np.ndarray,
    groups: np.ndarray,
    overlap: float = 0.3,
) -> np.ndarray:
    """:func:`nms_tubes` inside each group (ACT: per video and class), all groups at once: the
    IoUs of every pair in a group come from one vectorised :func:`tube_iou_pairs` call.

    Args:
        tubes: ``k`` tubes; scores (ndarray[k]); groups (ndarray[k] int): group of each tube.

    Returns:
        ndarray[m] int: indices of the kept tubes, ascending.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    k = len(scores)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    packed = _pack(tubes)
    order = np.lexsort((np.arange(k), -scores, groups))  # by group, best first, then earlier
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, k])
    small = sizes <= 256
    pair_a, pair_b = [], []
    n_pairs = 0
    for s, n in zip(starts[small].tolist(), sizes[small].tolist(), strict=True):
        if n > 1:
            iu, ju = np.triu_indices(n, 1)
            pair_a.append(order[s + iu])
            pair_b.append(order[s + ju])
    if pair_a:
        ious = tube_iou_pairs(packed, packed, np.concatenate(pair_a), np.concatenate(pair_b), "act")
    keep = []
    for gi, (s, n) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        idx = order[s : s + n]
        if n == 1:
            keep.append(int(idx[0]))
            continue
        if not small[gi]:  # a large group: one IoU pass per kept tube
            keep += [int(idx[j]) for j in _nms_walk(packed, idx, overlap)]
            continue
        m = n * (n - 1) // 2
        iou = np.zeros((n, n))
        iu, ju = np.triu_indices(n, 1)
        iou[iu, ju] = ious[n_pairs : n_pairs + m]
        n_pairs += m
        alive = np.ones(n, dtype=bool)
        for r in range(n):
            if alive[r]:
                keep.append(int(idx[r]))
                alive[r + 1 :] &= iou[r, r + 1 :] <= overlap
    return np.sort(np.asarray(keep, dtype=np.int64))


def _nms_walk(packed: _Packed, idx: np.ndarray, overlap: float) -> list[int]:
    """Greedy NMS of the tubes ``idx`` (already best first), one IoU pass per kept tube;
    returns positions into ``idx``."""
    keep = []
    rest = np.arange(len(idx))
    while len(rest):
        r = int(rest[0])
        keep.append(r)
        rest = rest[1:]
        if len(rest):
            iou = tube_iou_pairs(packed, packed, idx[rest], np.full(len(rest), idx[r]), "act")
            rest = rest[iou <= overlap]
    return keep
