"""How well a map points at the ground truth: pointing game, energy inside boxes / tubes /
segments, and a sweep of the binarisation threshold.

Conventions (those of :mod:`attnviz.localize`):

* a spatial map ``mask [T, h, w]`` lives on the feature grid and is upsampled bilinearly to the
  source frame ``(H, W)`` before it is compared with boxes in pixels
  (:func:`attnviz.localize.upsample_mask`);
* pixel ``(r, c)`` covers ``[c, c + 1) x [r, r + 1)``; it is inside a box ``x1, y1, x2, y2`` when
  its centre ``(c + 0.5, r + 0.5)`` is (edges included), so the box ``0, 0, 2, 2`` holds the
  four top-left pixels;
* several boxes on one frame count as their union;
* maps are compared as they are thresholded by the localization rules: spatial masks as given
  (values in [0, 1]), temporal importance after the normalisation of
  :func:`attnviz.localize.normalise_importance`; negative values count as no mass.

Everything here is a pure function of numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from attnviz.localize.spatial import upsample_mask
from attnviz.localize.temporal import normalise_importance

__all__ = [
    "SweepResult",
    "box_mask",
    "energy_in_boxes",
    "energy_in_segments",
    "energy_in_tube",
    "pointing_game",
    "temporal_pointing_game",
    "threshold_sweep",
]


def _boxes(b) -> np.ndarray:
    arr = np.asarray(b if b is not None else np.zeros((0, 4)), dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 4))
    arr = arr.reshape(-1, arr.shape[-1])
    if arr.shape[1] != 4:
        raise ValueError(f"boxes must be [k, 4] (x1, y1, x2, y2), got shape {arr.shape}")
    return arr


def _check_mask(mask: np.ndarray, boxes: Sequence) -> np.ndarray:
    m = np.asarray(mask, dtype=np.float64)
    if m.ndim != 3:
        raise ValueError(f"mask must be [T, h, w], got shape {m.shape}")
    if len(boxes) != len(m):
        raise ValueError(f"need one box list per frame: {len(boxes)} lists for T={len(m)}")
    return m


def box_mask(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``ndarray[H, W] bool``: pixels whose centre lies inside any of ``boxes [k, 4]``
    (``x1, y1, x2, y2`` pixels, edges included) on a frame of ``size = (H, W)``."""
    h, w = size
    out = np.zeros((h, w), dtype=bool)
    cy = np.arange(h) + 0.5
    cx = np.arange(w) + 0.5
    for x1, y1, x2, y2 in _boxes(boxes):
        rows = (cy >= y1) & (cy <= y2)
        cols = (cx >= x1) & (cx <= x2)
        out |= rows[:, None] & cols[None, :]
    return out


def _peak(up: np.ndarray) -> tuple[float, float]:
    """``(x, y)`` pixel coordinates of the centroid of the pixels that reach the maximum (to a
    relative 1e-5, so that float32 rounding of a flat map does not pick one pixel)."""
    top = float(up.max())
    r, c = np.nonzero(up >= top - 1e-5 * max(abs(top), 1e-12))
    return float(c.mean() + 0.5), float(r.mean() + 0.5)


def pointing_game(
    mask: np.ndarray,
    frame_size: tuple[int, int],
    boxes: Sequence[np.ndarray | None],
    *,
    tolerance: float = 0.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """The pointing game (Zhang et al., 2016) per frame: is the map's maximum inside a
    ground-truth box?

    Args:
        mask (ndarray[T, h, w]): spatial maps on the feature grid.
        frame_size: source ``(H, W)`` the boxes refer to.
        boxes: ``T`` entries, each ``ndarray[k, 4]`` (``x1, y1, x2, y2`` pixels) or ``None`` /
            empty for a frame without ground truth.
        tolerance: pixels the boxes are grown by on every side (the original game used 15).
        offset: the mask grid's cell centres (``AttentionOutput.grid_offset``).

    Returns:
        ndarray[T] float64: 1.0 hit, 0.0 miss, ``nan`` for frames without a box. The point is
        the centroid of the pixels that reach the maximum of the upsampled map (a flat map
        points at the frame's centre).
    """
    m = _check_mask(mask, boxes)
    out = np.full(len(m), np.nan)
    for t in range(len(m)):
        b = _boxes(boxes[t])
        if not len(b):
            continue
        x, y = _peak(upsample_mask(m[t], frame_size, offset))
        inside = (
            (x >= b[:, 0] - tolerance)
            & (x <= b[:, 2] + tolerance)
            & (y >= b[:, 1] - tolerance)
            & (y <= b[:, 3] + tolerance)
        )
        out[t] = float(inside.any())
    return out


def _frame_masses(
    m: np.ndarray, frame_size: tuple[int, int], boxes: Sequence, offset=(0.0, 0.0)
) -> tuple[np.ndarray, np.ndarray]:
    inside = np.zeros(len(m))
    total = np.zeros(len(m))
    for t in range(len(m)):
        up = np.clip(upsample_mask(m[t], frame_size, offset).astype(np.float64), 0.0, None)
        total[t] = up.sum()
        b = _boxes(boxes[t])
        if len(b):
            inside[t] = up[box_mask(b, frame_size)].sum()
    return inside, total


def energy_in_boxes(
    mask: np.ndarray,
    frame_size: tuple[int, int],
    boxes: Sequence[np.ndarray | None],
    *,
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Fraction of each frame's map mass inside its ground-truth boxes (the energy-based
    pointing game of Score-CAM).

    Args: as :func:`pointing_game`.

    Returns:
        ndarray[T] float64 in [0, 1]; ``nan`` for frames without a box; 0 for a frame whose map
        has no mass at all.
    """
    m = _check_mask(mask, boxes)
    inside, total = _frame_masses(m, frame_size, boxes, offset)
    has_box = np.array([len(_boxes(b)) > 0 for b in boxes], dtype=bool)
    out = np.where(total > 0, inside / np.where(total > 0, total, 1.0), 0.0)
    return np.where(has_box, out, np.nan)


def energy_in_tube(
    mask: np.ndarray,
    frame_size: tuple[int, int],
    boxes: Sequence[np.ndarray | None],
    *,
    offset: tuple[float, float] = (0.0, 0.0),
) -> float:
    """Fraction of the whole clip's map mass that lies inside the ground-truth tube: the mass
    inside each frame's boxes, summed over frames, over the mass of every frame (frames without
    a box add to the total only).

    Returns:
        float in [0, 1] (0 when the maps have no mass at all).
    """
    m = _check_mask(mask, boxes)
    inside, total = _frame_masses(m, frame_size, boxes, offset)
    tot = float(total.sum())
    return float(inside.sum() / tot) if tot > 0 else 0.0


def _segments(segments) -> np.ndarray:
    s = np.asarray(segments if segments is not None else np.zeros((0, 2)), dtype=np.float64)
    if s.size == 0:
        return np.zeros((0, 2))
    if s.ndim != 2 or s.shape[1] != 2:
        raise ValueError(f"segments must be [k, 2] (start, end seconds), got shape {s.shape}")
    return s


def _in_segments(times: np.ndarray, segments: np.ndarray) -> np.ndarray:
    times = np.asarray(times, dtype=np.float64)
    if not len(segments):
        return np.zeros(times.shape, dtype=bool)
    lo = np.minimum(segments[:, 0], segments[:, 1])
    hi = np.maximum(segments[:, 0], segments[:, 1])
    return ((times[..., None] >= lo) & (times[..., None] <= hi)).any(axis=-1)


def energy_in_segments(
    importance: np.ndarray,
    timestamps: np.ndarray,
    segments: np.ndarray,
    *,
    norm: str = "minmax",
) -> float:
    """Fraction of the temporal importance mass on sampled frames whose time lies inside a
    ground-truth segment (edges included).

    Args:
        importance (ndarray[T]): per-frame importance (raw; normalised here by ``norm`` as the
            localization rules do: ``minmax`` or ``max``).
        timestamps (ndarray[T]): seconds.
        segments (ndarray[k, 2]): ground-truth ``start, end`` seconds.

    Returns:
        float in [0, 1]; 0 when the normalised importance has no mass.
    """
    imp = np.clip(normalise_importance(importance, norm), 0.0, None)
    ts = np.asarray(timestamps, dtype=np.float64)
    if imp.shape != ts.shape:
        raise ValueError(f"importance {imp.shape} and timestamps {ts.shape} differ")
    tot = float(imp.sum())
    if tot <= 0:
        return 0.0
    return float(imp[_in_segments(ts, _segments(segments))].sum() / tot)


def temporal_pointing_game(
    importance: np.ndarray, timestamps: np.ndarray, segments: np.ndarray
) -> float:
    """Is the moment of maximal importance inside a ground-truth segment? The moment is the
    mean time of the sampled frames that reach the maximum. Returns 1.0 or 0.0 (``nan`` when
    there is no segment or no frame)."""
    imp = np.asarray(importance, dtype=np.float64)
    ts = np.asarray(timestamps, dtype=np.float64)
    seg = _segments(segments)
    if not len(seg) or not len(imp):
        return float("nan")
    moment = float(ts[imp >= imp.max()].mean())
    return float(_in_segments(np.array([moment]), seg)[0])


@dataclass(frozen=True)
class SweepResult:
    """A score as a function of the binarisation threshold.

    Attributes:
        thresholds (ndarray[S]), values (ndarray[S]): the sweep.
        best_threshold, best_value: the maximum (ties: the threshold nearest ``reference``,
            then the lower one). Chosen on the data it is measured on: an oracle, optimistic.
        reference, reference_value: the fixed threshold (paper: 0.5) and its score (``nan``
            when ``reference`` is not among ``thresholds``).
    """

    thresholds: np.ndarray
    values: np.ndarray
    best_threshold: float
    best_value: float
    reference: float
    reference_value: float


def threshold_sweep(
    score: Callable[[float], float],
    thresholds: Sequence[float] = tuple(np.round(np.arange(0.1, 0.95, 0.1), 2)),
    *,
    reference: float = 0.5,
) -> SweepResult:
    """Evaluate ``score(threshold)`` (e.g. the mAP of the boxes obtained at that threshold) at
    every threshold and report the best one next to ``reference``."""
    thr = np.asarray([float(t) for t in thresholds], dtype=np.float64)
    if not len(thr):
        raise ValueError("threshold_sweep needs at least one threshold")
    vals = np.array([float(score(float(t))) for t in thr])
    finite = np.where(np.isfinite(vals), vals, -np.inf)
    best = np.flatnonzero(finite == finite.max())
    j = int(best[np.lexsort((thr[best], np.abs(thr[best] - reference)))[0]])
    ref = np.flatnonzero(np.isclose(thr, reference))
    return SweepResult(
        thresholds=thr,
        values=vals,
        best_threshold=float(thr[j]),
        best_value=float(vals[j]),
        reference=float(reference),
        reference_value=float(vals[ref[0]]) if len(ref) else float("nan"),
    )
