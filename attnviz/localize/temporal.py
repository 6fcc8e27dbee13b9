"""Temporal attention -> per-frame importance -> segments in seconds.

The rules (all in :class:`~attnviz.localize.LocalizeParams`):

* **importance** of sampled frame ``i`` from the weights ``w[t, i]`` (step ``t``, frame ``i``,
  rows summing to 1): the mean over steps (default), the max over steps, or the last step's
  row. For sliding windows (``temporal [W, n, n]``) each window gives its frames an importance
  by the same rule and a frame's importance is the mean over the windows that cover it.
* **normalisation** to [0, 1]: ``minmax`` (default) or ``max`` (divide by the maximum).
* **flat curves**: when the curve's range ``max - min`` is at most ``flat_range`` (5 %) of its
  maximum, the curve is *flat*: the model attends to every frame alike, and that is the answer
  (uniform attention), not noise to stretch. A flat curve normalises to all ones, so the whole
  clip is one segment, and figures say "flat" and show the raw scale
  (:func:`describe_importance`). Min-max scaling would otherwise turn a 0.8 % ripple into
  full-height peaks and dozens of 0.1 s segments. Curves that vary more are untouched.
* **threshold**: a frame is *on* when its normalised importance is above the threshold (0.5);
  a threshold of 1 keeps the frames at the maximum.
* **segments**: each run of consecutive *on* sampled frames ``i..j`` becomes one segment. A
  sampled frame stands for the time from the midpoint with its previous sampled frame to the
  midpoint with its next one (the first from ``max(0, t_0 - d/2)``, the last to
  ``t_last + d/2``, ``d`` the neighbouring interval), so that a run covers
  ``[(t_{i-1} + t_i) / 2, (t_j + t_{j+1}) / 2]``, clipped to ``[0, duration]`` when the
  duration is known.
* **segment score**: the class probability times the mean normalised importance inside
  (default), the probability alone, or the mean importance alone.
"""

from __future__ import annotations

import numpy as np

from attnviz.localize.params import LocalizeParams

__all__ = [
    "describe_importance",
    "frame_importance",
    "is_flat",
    "normalise_importance",
    "runs",
    "segment_bounds",
    "segments_from_importance",
    "stitch_importance",
]


def frame_importance(temporal: np.ndarray, rule: str = "mean") -> np.ndarray:
    """Importance of each frame from the weights ``temporal [T, T]`` (``w[t, i]``: step t,
    frame i): the mean over steps (default), the max over steps, or the last step's weights.

    Returns:
        ndarray[T] float64.
    """
    w = np.asarray(temporal, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"temporal must be [T, T], got shape {w.shape}")
    if rule == "mean":
        return w.mean(axis=0)
    if rule == "max":
        return w.max(axis=0)
    if rule == "last":
        return w[-1].copy()
    raise ValueError(f"unknown importance rule {rule!r}: expected mean, max or last")


def stitch_importance(
    temporal: np.ndarray, starts: np.ndarray, num_frames: int, rule: str = "mean"
) -> np.ndarray:
    """One importance curve from sliding windows: ``temporal [W, n, n]`` are the windows'
    weights, window ``k`` covering sampled frames ``starts[k] .. starts[k] + n - 1``; a frame's
    importance is the mean over the windows covering it of :func:`frame_importance`.

    Returns:
        ndarray[num_frames] float64.
    """
    w = np.asarray(temporal, dtype=np.float64)
    s = np.asarray(starts, dtype=np.int64).reshape(-1)
    if w.ndim != 3 or w.shape[1] != w.shape[2] or w.shape[0] != len(s):
        raise ValueError(f"temporal must be [W={len(s)}, n, n], got shape {w.shape}")
    n = w.shape[1]
    if len(s) and (s.min() < 0 or s.max() + n > num_frames):
        raise ValueError(f"windows of {n} frames starting at {s.tolist()} exceed {num_frames}")
    total = np.zeros(num_frames)
    count = np.zeros(num_frames)
    for k, start in enumerate(s):
        total[start : start + n] += frame_importance(w[k], rule)
        count[start : start + n] += 1
    if (count == 0).any():
        raise ValueError(f"frame {int(np.argmin(count))} is covered by no window")
    return total / count


def is_flat(imp: np.ndarray, flat_range: float) -> bool:
    """True when ``max - min <= flat_range * |max|`` (a constant curve is always flat)."""
    x = np.asarray(imp, dtype=np.float64)
    if len(x) == 0:
        return False
    lo, hi = float(x.min()), float(x.max())
    return hi - lo <= flat_range * abs(hi)


def describe_importance(imp: np.ndarray, flat_range: float = 0.05) -> str:
    """The raw scale of a curve in words, for figures: ``"raw 0.0398-0.0402"``, plus
    ``"flat: range 0.8 % of the maximum, uniform attention"`` for a flat curve."""
    x = np.asarray(imp, dtype=np.float64)
    if len(x) == 0:
        return "no frames"
    lo, hi = float(x.min()), float(x.max())
    text = f"raw {lo:.4g}-{hi:.4g}"
    if is_flat(x, flat_range):
        pct = 100.0 * (hi - lo) / abs(hi) if hi else 0.0
        text += f" (flat: range {pct:.2g} % of the maximum, uniform attention)"
    return text


def normalise_importance(
    imp: np.ndarray, how: str = "minmax", flat_range: float = 0.0
) -> np.ndarray:
    """Scale to [0, 1]: ``minmax`` ((x - min) / (max - min)) or ``max`` (x / max; all 1 when
    the maximum is not positive). A flat curve (:func:`is_flat` with ``flat_range``; with the
    default 0 only a constant one) becomes all 1: the whole clip."""
    x = np.asarray(imp, dtype=np.float64)
    if len(x) == 0:
        return x
    if how in ("minmax", "max") and is_flat(x, flat_range) and x.max() > x.min():
        return np.ones_like(x)
    if how == "minmax":
        lo, hi = float(x.min()), float(x.max())
        return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)
    if how == "max":
        hi = float(x.max())
        return x / hi if hi > 0 else np.ones_like(x)
    raise ValueError(f"unknown normalisation {how!r}: expected minmax or max")


def runs(on: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of True as ``(first, last)`` index pairs (inclusive)."""
    on = np.asarray(on, dtype=bool)
    if not on.any():
        return []
    d = np.diff(np.r_[0, on.astype(np.int8), 0])
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def segment_bounds(
    timestamps: np.ndarray, *, frame_time: float = 0.0, duration: float | None = None
) -> np.ndarray:
    """The time each sampled frame stands for: ``[T + 1]`` boundaries, frame ``i`` covering
    ``[b[i], b[i + 1]]`` (midpoints between neighbouring timestamps; a single frame covers
    ``[t, t + frame_time]``), clipped to ``[0, duration]``."""
    ts = np.asarray(timestamps, dtype=np.float64)
    if len(ts) == 0:
        return np.zeros(1)
    if len(ts) == 1:
        b = np.array([ts[0], ts[0] + frame_time])
    else:
        mid = (ts[1:] + ts[:-1]) / 2
        b = np.concatenate([[ts[0] - (ts[1] - ts[0]) / 2], mid, [ts[-1] + (ts[-1] - ts[-2]) / 2]])
    b = np.maximum(b, 0.0)
    if duration is not None and duration > 0:
        b = np.minimum(b, duration)
    return b


def segments_from_importance(
    importance: np.ndarray,
    timestamps: np.ndarray,
    params: LocalizeParams = LocalizeParams(),
    *,
    prob: float = 1.0,
    frame_time: float = 0.0,
    duration: float | None = None,
) -> list[tuple[float, float, float, int, int]]:
    """Threshold the normalised importance and turn runs into segments (rules in the module
    docstring).

    Args:
        importance (ndarray[T]): per-frame importance (any scale).
        timestamps (ndarray[T]): seconds, ascending.
        prob: the class probability used by the score rule.
        frame_time: the time one frame stands for when there is a single sampled frame
            (``1 / fps``).
        duration: the video's length in seconds, if known.

    Returns:
        list of ``(t_start, t_end, score, i, j)`` (``i..j`` the sampled frames of the run).
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    imp = np.asarray(importance, dtype=np.float64)
    if len(imp) != len(ts):
        raise ValueError(f"{len(imp)} importance values for {len(ts)} timestamps")
    norm = normalise_importance(imp, params.importance_norm, params.flat_range)
    thr = params.threshold_value
    on = norm > thr if thr < 1 else norm >= 1
    bounds = segment_bounds(ts, frame_time=frame_time, duration=duration)
    out = []
    for i, j in runs(on):
        mean_imp = float(norm[i : j + 1].mean())
        if params.segment_score == "prob_x_mean_importance":
            score = prob * mean_imp
        elif params.segment_score == "prob":
            score = prob
        else:
            score = mean_imp
        out.append((float(bounds[i]), float(bounds[j + 1]), float(score), i, j))
    return out
