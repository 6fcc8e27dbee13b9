"""Faithfulness: does removing what a map calls important hurt the model, and does adding it
back restore it? Deletion and insertion curves (Petsiuk et al., RISE, 2018) over any set of
units: the frames of a clip (temporal) or the cells of the feature grid (spatial).

The model is reached through a callback, so these functions stay pure:
``score_fn(keep)`` takes ``keep [S, *shape]`` bool (True: the unit is as in the clip; False:
the unit is replaced by its baseline) and returns ``ndarray[S]``, the class probability of
each of the ``S`` perturbed inputs.

Deletion removes units in order of decreasing importance, starting from the intact input;
insertion starts from the all-baseline input and adds them in the same order. The x axis is the
fraction of units removed (inserted), from 0 to 1; the area under the curve (trapezoid) is the
summary: low for deletion and high for insertion mean a faithful map. A random order is the
reference a map must beat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Curve",
    "auc",
    "deletion_curve",
    "insertion_curve",
    "mean_curve",
    "perturbation_order",
    "random_order_curves",
    "step_counts",
]

ScoreFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Curve:
    """A deletion or insertion curve.

    Attributes:
        fractions (ndarray[P]): fraction of units removed (deletion) or present (insertion),
            ascending from 0 to 1.
        scores (ndarray[P]): the class probability at each point.
        auc (float): trapezoidal area under ``scores`` over ``fractions``.
    """

    fractions: np.ndarray
    scores: np.ndarray
    auc: float


def auc(fractions: np.ndarray, scores: np.ndarray) -> float:
    """Trapezoidal area under ``scores`` over ``fractions`` (both ``[P]``)."""
    x = np.asarray(fractions, dtype=np.float64)
    y = np.asarray(scores, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"fractions {x.shape} and scores {y.shape} must be equal 1-d shapes")
    if len(x) < 2:
        return 0.0
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def perturbation_order(importance: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Flat indices of ``importance`` (any shape) from most to least important. Ties (e.g. the
    zeros of a rectified map) are broken by a random permutation drawn from ``seed``, so that a
    flat map behaves like a random order rather than a raster scan.

    Returns:
        ndarray[N] int64.
    """
    imp = np.asarray(importance, dtype=np.float64).ravel()
    if not np.isfinite(imp).all():
        raise ValueError("importance holds NaN or infinite values")
    tie = np.random.default_rng(seed).permutation(len(imp))
    return np.lexsort((tie, -imp)).astype(np.int64)


def step_counts(n: int, steps: int | None = None) -> np.ndarray:
    """Numbers of units removed at each point: ``0..n`` (``steps=None``) or ``steps + 1``
    points spread evenly (rounded, duplicates dropped)."""
    if n < 1:
        raise ValueError(f"need at least one unit, got {n}")
    if steps is None or steps >= n:
        return np.arange(n + 1)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    return np.unique(np.round(np.linspace(0, n, steps + 1)).astype(np.int64))


def _curve(
    order: np.ndarray,
    shape: tuple[int, ...],
    score_fn: ScoreFn,
    steps: int | None,
    batch: int,
    insert: bool,
) -> Curve:
    n = int(np.prod(shape))
    order = np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(n)):
        raise ValueError(f"order must be a permutation of the {n} units of shape {shape}")
    counts = step_counts(n, steps)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    scores = np.empty(len(counts))
    for i in range(0, len(counts), max(1, batch)):
        k = counts[i : i + batch]
        chosen = rank[None, :] < k[:, None]  # [S, n]: among the first k of the order
        keep = chosen if insert else ~chosen
        out = np.asarray(score_fn(keep.reshape((len(k), *shape))), dtype=np.float64)
        if out.shape != (len(k),):
            raise ValueError(f"score_fn returned shape {out.shape}, expected ({len(k)},)")
        scores[i : i + len(k)] = out
    fractions = counts / n
    return Curve(fractions, scores, auc(fractions, scores))


def deletion_curve(
    importance: np.ndarray,
    score_fn: ScoreFn,
    *,
    steps: int | None = None,
    batch: int = 16,
    seed: int = 0,
    order: np.ndarray | None = None,
) -> Curve:
    """Remove units in order of decreasing ``importance`` (any shape) and score each step.

    Args:
        importance: the map (its shape is the shape of ``keep`` given to ``score_fn``).
        score_fn: see the module docstring.
        steps: number of steps (``None``: one unit at a time).
        batch: perturbed inputs per ``score_fn`` call.
        seed: tie-breaking (:func:`perturbation_order`).
        order: an explicit order of flat indices instead of the one from ``importance``.
    """
    imp = np.asarray(importance)
    o = perturbation_order(imp, seed=seed) if order is None else order
    return _curve(o, imp.shape, score_fn, steps, batch, insert=False)


def insertion_curve(
    importance: np.ndarray,
    score_fn: ScoreFn,
    *,
    steps: int | None = None,
    batch: int = 16,
    seed: int = 0,
    order: np.ndarray | None = None,
) -> Curve:
    """Start from the all-baseline input and add units in order of decreasing ``importance``;
    arguments as :func:`deletion_curve`."""
    imp = np.asarray(importance)
    o = perturbation_order(imp, seed=seed) if order is None else order
    return _curve(o, imp.shape, score_fn, steps, batch, insert=True)


def mean_curve(curves: Sequence[Curve], fractions: np.ndarray | None = None) -> Curve:
    """Average curves, after linear interpolation onto common ``fractions`` (default: those of
    the first curve when all agree, else 21 even points). The AUC is the mean of the curves'
    own AUCs (not the area of the averaged curve)."""
    if not curves:
        raise ValueError("mean_curve needs at least one curve")
    if fractions is None:
        first = curves[0].fractions
        same = all(
            c.fractions.shape == first.shape and np.allclose(c.fractions, first) for c in curves
        )
        fractions = first if same else np.linspace(0.0, 1.0, 21)
    x = np.asarray(fractions, dtype=np.float64)
    ys = np.stack([np.interp(x, c.fractions, c.scores) for c in curves])
    return Curve(x, ys.mean(axis=0), float(np.mean([c.auc for c in curves])))


def random_order_curves(
    shape: tuple[int, ...],
    score_fn: ScoreFn,
    *,
    repeats: int = 3,
    steps: int | None = None,
    batch: int = 16,
    seed: int = 0,
) -> tuple[Curve, Curve]:
    """Deletion and insertion curves of ``repeats`` random orders of the units of ``shape``,
    averaged: the reference a map must beat.

    Returns:
        ``(deletion, insertion)``.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    dels, ins = [], []
    for _ in range(repeats):
        order = rng.permutation(n)
        dels.append(_curve(order, tuple(shape), score_fn, steps, batch, insert=False))
        ins.append(_curve(order, tuple(shape), score_fn, steps, batch, insert=True))
    return mean_curve(dels), mean_curve(ins)
