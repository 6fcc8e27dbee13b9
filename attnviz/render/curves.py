"""The temporal attention curve over a video's time axis (matplotlib; takes an ``ax``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["plot_temporal_curve"]


def plot_temporal_curve(
    ax,
    timestamps: np.ndarray,
    importance: np.ndarray,
    *,
    segments: Sequence[tuple[float, float]] = (),
    gt_segments: Sequence[tuple[float, float]] = (),
    threshold: float | None = 0.5,
    title: str | None = None,
    time_range: tuple[float, float] | None = None,
    raw: np.ndarray | None = None,
    flat_range: float = 0.05,
):
    """Plot normalised importance against time (seconds), predicted segments shaded red and
    ground-truth segments shaded blue, the threshold dashed. Draws on ``ax`` (a new figure
    when ``None``); nothing is shown or saved. Returns ``(fig, ax)``.

    Args:
        timestamps (ndarray[T]): seconds of the sampled frames.
        importance (ndarray[T]): normalised importance in [0, 1].
        segments, gt_segments: ``(start, end)`` seconds.
        time_range: the x-axis limits in seconds (default: the first to the last timestamp,
            widened to the segments).
        raw (ndarray[T]): the importance before normalisation: its scale is drawn on a right
            axis (min-max), and a flat curve (see :mod:`attnviz.localize.temporal`) is labelled
            as such in the plot.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    imp = np.asarray(importance, dtype=np.float64)
    if ts.shape != imp.shape or ts.ndim != 1:
        raise ValueError(f"timestamps {ts.shape} and importance {imp.shape} must both be [T]")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 2.6))
    for s, e in gt_segments:
        ax.axvspan(s, e, color="tab:blue", alpha=0.18, lw=0, label="ground truth")
    for s, e in segments:
        ax.axvspan(s, e, color="tab:red", alpha=0.22, lw=0, label="detected")
    ax.plot(ts, imp, color="black", lw=1.4, label="importance")
    if threshold is not None:
        ax.axhline(threshold, color="gray", ls="--", lw=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("normalised importance")
    ax.set_ylim(-0.02, 1.05)
    if raw is not None and len(raw):
        from attnviz.localize.temporal import describe_importance, is_flat

        r = np.asarray(raw, dtype=np.float64)
        lo, hi = float(r.min()), float(r.max())
        if is_flat(r, flat_range):
            ax.text(0.01, 0.04, describe_importance(r, flat_range), transform=ax.transAxes,
                    fontsize=8, color="tab:red", va="bottom")  # fmt: skip
        else:
            span = hi - lo
            sec = ax.secondary_yaxis(
                "right", functions=(lambda n: lo + n * span, lambda v: (v - lo) / span)
            )
            sec.set_ylabel("raw importance", fontsize=8)
            sec.tick_params(labelsize=7)
    if time_range is not None:
        ax.set_xlim(float(time_range[0]), float(time_range[1]))
    elif len(ts):
        lo = min([float(ts[0])] + [float(s) for s, _ in (*segments, *gt_segments)])
        hi = max([float(ts[-1])] + [float(e) for _, e in (*segments, *gt_segments)])
        ax.set_xlim(lo, hi if hi > lo else lo + 1.0)
    if title:
        ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.legend(uniq.values(), uniq.keys(), loc="upper right", fontsize=8, frameon=False)
    return ax.figure, ax
