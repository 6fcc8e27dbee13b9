"""Pairwise overlap of time intervals (vectorised, numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["segment_iou", "thumos_overlap", "any_positive_overlap"]


def segment_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Temporal IoU as ActivityNet's ``segment_iou`` computes it.

    ``intersection = max(0, min(e1, e2) - max(s1, s2))`` and
    ``union = (e1 - s1) + (e2 - s2) - intersection``; segments are taken as written (a reversed
    segment is not repaired), so ``0 / 0`` gives ``nan`` exactly where the reference does.

    Args:
        pred (ndarray[N, 2]): ``start, end`` seconds.
        gt (ndarray[M, 2]): ``start, end`` seconds.

    Returns:
        ndarray[N, M] float64.
    """
    a = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    tt1 = np.maximum(a[:, None, 0], b[None, :, 0])
    tt2 = np.minimum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(tt2 - tt1, 0.0, None)
    union = (a[:, None, 1] - a[:, None, 0]) + (b[None, :, 1] - b[None, :, 0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def thumos_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Interval overlap of the THUMOS14 evaluation kit.

    Each interval is first normalised to ``[min, max]``; the overlap is
    ``intersection / (max end - min start)`` when the intersection is positive, else 0.

    Args:
        a (ndarray[N, 2]), b (ndarray[M, 2]): ``start, end`` seconds.

    Returns:
        ndarray[N, M] float64 in [0, 1].
    """
    a = np.sort(np.asarray(a, dtype=np.float64).reshape(-1, 2), axis=1)
    b = np.sort(np.asarray(b, dtype=np.float64).reshape(-1, 2), axis=1)
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    hull = np.maximum(a[:, None, 1], b[None, :, 1]) - np.minimum(a[:, None, 0], b[None, :, 0])
    out = np.zeros(inter.shape)
    pos = inter > 0
    out[pos] = inter[pos] / hull[pos]
    return out


def any_positive_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ndarray[N] bool``: does interval ``a[i]`` intersect some ``b[j]`` with positive length
    (after normalising both to ``[min, max]``)?"""
    if len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    return (thumos_overlap(a, b) > 0).any(axis=1)
