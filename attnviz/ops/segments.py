"""Overlap of time intervals (vectorised, numpy only).

Two overlap definitions are in use, and each official evaluator computes its own with a
particular sequence of floating-point operations; the functions here repeat those sequences, so
that a threshold hit exactly (``0.3 == 3 / 10``) is hit here too.

* :func:`segment_iou`: ActivityNet's ``segment_iou`` (intersection over union, segments taken as
  written).
* :func:`thumos_overlap`: the THUMOS14 kit's ``intervaloverlapvalseconds`` (intervals first put
  in order, intersection over the hull, 0 unless the intersection is positive).

``*_pairs`` variants take two aligned ``[N, 2]`` arrays and return ``[N]``; the plain functions
are pairwise ``[N, M]``. :func:`intersecting_pairs` lists the pairs of intervals of the same
group (video, class) that intersect with positive length, without forming every pair.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "any_positive_overlap",
    "intersecting_pairs",
    "segment_iou",
    "segment_iou_pairs",
    "thumos_overlap",
    "thumos_overlap_pairs",
]


def _as_segments(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(-1, 2)


def segment_iou_pairs(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Temporal IoU of aligned pairs, as ActivityNet's ``segment_iou`` computes it.

    ``intersection = max(0, min(e1, e2) - max(s1, s2))``,
    ``union = (e2 - s2) + (e1 - s1) - intersection``; segments are taken as written (a reversed
    segment is not repaired), so ``0 / 0`` gives ``nan`` exactly where the reference does (a
    reversed prediction whose length is minus the ground truth's).

    Args:
        pred (ndarray[N, 2]): ``start, end`` seconds.
        gt (ndarray[N, 2]): ``start, end`` seconds.

    Returns:
        ndarray[N] float64.
    """
    a = _as_segments(pred)
    b = _as_segments(gt)
    inter = np.clip(np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0]), 0.0, None)
    union = (b[:, 1] - b[:, 0]) + (a[:, 1] - a[:, 0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def segment_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Pairwise :func:`segment_iou_pairs`.

    Args:
        pred (ndarray[N, 2]), gt (ndarray[M, 2]): ``start, end`` seconds.

    Returns:
        ndarray[N, M] float64 (``nan`` where the union is 0).
    """
    a = _as_segments(pred)
    b = _as_segments(gt)
    n, m = len(a), len(b)
    ia = np.repeat(np.arange(n), m)
    ib = np.tile(np.arange(m), n)
    return segment_iou_pairs(a[ia], b[ib]).reshape(n, m)


def thumos_overlap_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Interval overlap of the THUMOS14 evaluation kit for aligned pairs.

    Each interval is first normalised to ``[min, max]``; the overlap is
    ``(min end - max start) / (max end - min start)`` where the intersection is positive, else 0.

    Args:
        a (ndarray[N, 2]), b (ndarray[N, 2]): ``start, end`` seconds.

    Returns:
        ndarray[N] float64 in [0, 1].
    """
    a = np.sort(_as_segments(a), axis=1)
    b = np.sort(_as_segments(b), axis=1)
    inter = np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0])
    hull = np.maximum(a[:, 1], b[:, 1]) - np.minimum(a[:, 0], b[:, 0])
    out = np.zeros(len(inter))
    pos = inter > 0
    out[pos] = inter[pos] / hull[pos]
    return out


def thumos_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise :func:`thumos_overlap_pairs`.

    Args:
        a (ndarray[N, 2]), b (ndarray[M, 2]): ``start, end`` seconds.

    Returns:
        ndarray[N, M] float64 in [0, 1].
    """
    a = _as_segments(a)
    b = _as_segments(b)
    n, m = len(a), len(b)
    ia = np.repeat(np.arange(n), m)
    ib = np.tile(np.arange(m), n)
    return thumos_overlap_pairs(a[ia], b[ib]).reshape(n, m)


def any_positive_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ndarray[N] bool``: does interval ``a[i]`` intersect some ``b[j]`` with positive length
    (after normalising both to ``[min, max]``)?

    Args:
        a (ndarray[N, 2]), b (ndarray[M, 2]): ``start, end`` seconds.
    """
    a = np.sort(_as_segments(a), axis=1)
    b = np.sort(_as_segments(b), axis=1)
    ia, _ = intersecting_pairs(
        np.zeros(len(a), np.int64), a[:, 0], a[:, 1], np.zeros(len(b), np.int64), b[:, 0], b[:, 1]
    )
    out = np.zeros(len(a), dtype=bool)
    out[ia] = True
    return out


def intersecting_pairs(
    group_a: np.ndarray,
    lo_a: np.ndarray,
    hi_a: np.ndarray,
    group_b: np.ndarray,
    lo_b: np.ndarray,
    hi_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i, j)`` with ``group_a[i] == group_b[j]`` and
    ``min(hi_a[i], hi_b[j]) > max(lo_a[i], lo_b[j])`` (a positive-length intersection).

    Intervals with ``hi <= lo`` never intersect anything. The search sorts ``b`` by group and
    start and looks, for each ``a``, only at the ``b`` of its group that start before ``hi_a``
    and no earlier than ``lo_a`` minus the longest ``b`` of the group; its cost is the number of
    such candidates, not ``N x M``.

    Args:
        group_a (ndarray[N] int), lo_a (ndarray[N]), hi_a (ndarray[N]): first intervals.
        group_b (ndarray[M] int), lo_b (ndarray[M]), hi_b (ndarray[M]): second intervals.

    Returns:
        ``(ia, ib)``, two ``ndarray[P] int64``, sorted by ``ia`` then by ``b``'s start.
    """
    group_a = np.asarray(group_a, dtype=np.int64)
    group_b = np.asarray(group_b, dtype=np.int64)
    lo_a = np.asarray(lo_a, dtype=np.float64)
    hi_a = np.asarray(hi_a, dtype=np.float64)
    lo_b = np.asarray(lo_b, dtype=np.float64)
    hi_b = np.asarray(hi_b, dtype=np.float64)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    sel_a = np.flatnonzero(hi_a > lo_a)
    sel_b = np.flatnonzero(hi_b > lo_b)
    if len(sel_a) == 0 or len(sel_b) == 0:
        return empty
    # b sorted by (group, start): starts replaced by their position in the sorted starts, so
    # that one int64 key sorts both
    by_start = sel_b[np.argsort(lo_b[sel_b])]
    starts = lo_b[by_start]
    width = np.int64(len(starts) + 1)
    rank = np.empty(len(lo_b), dtype=np.int64)
    rank[by_start] = np.arange(len(by_start))
    key_all = group_b[sel_b] * width + rank[sel_b]
    o = np.argsort(key_all)
    order = sel_b[o]
    key_b = key_all[o]
    gb = group_b[order]
    # longest b of each group bounds how early an intersecting b may start
    length = hi_b[order] - lo_b[order]
    groups, first = np.unique(gb, return_index=True)
    longest = np.maximum.reduceat(length, first)
    ga = group_a[sel_a]
    pos = np.searchsorted(groups, ga)
    pos_ok = pos < len(groups)
    known = np.zeros(len(sel_a), dtype=bool)
    known[pos_ok] = groups[pos[pos_ok]] == ga[pos_ok]
    sel_a, ga, pos = sel_a[known], ga[known], pos[known]
    if len(sel_a) == 0:
        return empty
    la, ha = lo_a[sel_a], hi_a[sel_a]
    lmax = longest[pos]
    # a generous margin: the float length of a b may be a rounding below its true length
    earliest = la - lmax - (np.abs(la) + lmax) * 1e-9
    lo_key = ga * width + np.searchsorted(starts, earliest, side="left")
    hi_key = ga * width + np.searchsorted(starts, ha, side="left")
    begin = np.searchsorted(key_b, lo_key, side="left")
    end = np.searchsorted(key_b, hi_key, side="left")
    count = np.maximum(end - begin, 0)
    total = int(count.sum())
    if total == 0:
        return empty
    ia = np.repeat(np.arange(len(sel_a)), count)
    offset = np.repeat(np.cumsum(count) - count, count)
    jb = order[np.repeat(begin, count) + (np.arange(total) - offset)]
    keep = (np.minimum(ha[ia], hi_b[jb]) > np.maximum(la[ia], lo_b[jb])) & (group_b[jb] == ga[ia])
    return sel_a[ia[keep]], jb[keep]
