"""Sanity checks for explanations (Adebayo et al., 2018): a map that does not change when the
model's weights are re-initialised is not explaining the model.

The cascading randomisation itself needs the model (see
:func:`attnviz.explain.cascading_randomization`); here are the array comparisons it reports.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["rank_correlation", "topk_overlap"]


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps of the same shape (flattened; ties get their
    average rank).

    Returns:
        float in [-1, 1]; ``nan`` when either map is constant (no ranking to compare).
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"maps must have the same shape, got {np.shape(a)} and {np.shape(b)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("maps hold NaN or infinite values")
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    rx = rankdata(x) - (len(x) + 1) / 2.0
    ry = rankdata(y) - (len(y) + 1) / 2.0
    return float(np.clip(np.dot(rx, ry) / np.sqrt(np.dot(rx, rx) * np.dot(ry, ry)), -1.0, 1.0))


def topk_overlap(a: np.ndarray, b: np.ndarray, fraction: float = 0.1) -> float:
    """Fraction of the top ``fraction`` of units of ``a`` that are also in the top of ``b``
    (ties broken by position). Returns a float in [0, 1]."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"maps must have the same shape, got {np.shape(a)} and {np.shape(b)}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * len(x))))
    ta = set(np.argsort(-x, kind="stable")[:k].tolist())
    tb = set(np.argsort(-y, kind="stable")[:k].tolist())
    return len(ta & tb) / k
