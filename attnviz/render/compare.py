"""Figures of ``attnviz compare-explanations``: deletion / insertion curves, rank correlations
under cascading randomisation, and every method's maps on the same frames.

Each function draws and returns ``(fig, ax)`` (the panel functions take an ``ax``); nothing here
saves a file or reads a video.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from attnviz.localize import LocalizeParams, mask_to_box, normalise_importance
from attnviz.render.overlay import GT_COLOR, PRED_COLOR, draw_boxes, overlay_heatmap
from attnviz.types import AttentionOutput

__all__ = [
    "CURVE_TITLES",
    "pick_frames",
    "plot_curve_panel",
    "plot_curves",
    "plot_method_maps",
    "plot_sanity",
    "plot_sanity_panel",
]

#: The four faithfulness curves, in panel order, with their titles.
CURVE_TITLES = {
    "deletion_frames": "deletion over frames",
    "insertion_frames": "insertion over frames",
    "deletion_cells": "deletion over feature cells",
    "insertion_cells": "insertion over feature cells",
}


def plot_curve_panel(ax, curves: Mapping[str, Mapping[str, object]], kind: str, random_row=None):
    """One panel of deletion / insertion curves (``kind`` of :data:`CURVE_TITLES`), one line per
    method; the ``random_row`` method (a name, or a list of names) dashed. ``curves``:
    ``{method: {kind: MeanCurve}}`` (``fractions [S]``, ``scores [S]``, ``auc``). Returns
    ``(fig, ax)``."""
    for m, per in curves.items():
        if kind not in per:
            continue
        cv = per[kind]
        dashed = m in random_row if isinstance(random_row, list | tuple) else m == random_row
        style = dict(ls="--", color="gray") if dashed else {}
        ax.plot(cv.fractions, cv.scores, label=f"{m} ({cv.auc:.3f})", lw=1.4, **style)
    ax.set_title(CURVE_TITLES[kind], fontsize=9)
    ax.set_xlabel(
        "fraction " + ("removed" if kind.startswith("deletion") else "present"), fontsize=8
    )
    ax.set_ylabel("probability of the class", fontsize=8)
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7, frameon=False)
    return ax.figure, ax


def plot_curves(curves: Mapping[str, Mapping[str, object]], random_row=None):
    """The four panels of :data:`CURVE_TITLES` in a 2 x 2 grid. Returns ``(fig, axes [2, 2])``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    for ax, kind in zip(axes.ravel(), CURVE_TITLES, strict=True):
        plot_curve_panel(ax, curves, kind, random_row)
    fig.tight_layout()
    return fig, axes


def plot_sanity_panel(ax, sanity_rows: Sequence[Mapping], field: str):
    """Rank correlation (``field``: ``rho_mask`` or ``rho_importance`` of each row ``{method,
    stage, ...}``) against the randomisation stage, one line per method. Returns
    ``(fig, ax)``."""
    stages = list(dict.fromkeys(r["stage"] for r in sanity_rows))
    for m in dict.fromkeys(r["method"] for r in sanity_rows):
        ys = [  # a stage the method's model does not have: no point
            next((r[field] for r in sanity_rows if r["method"] == m and r["stage"] == s), np.nan)
            for s in stages
        ]
        ax.plot(range(len(stages)), ys, marker="o", ms=3, lw=1.4, label=m)
    ax.set_xticks(range(len(stages)))
    ax.set_xticklabels(stages, rotation=40, ha="right", fontsize=7)
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel(
        "Spearman rho with trained " + ("mask" if field == "rho_mask" else "importance"), fontsize=8
    )
    ax.set_title("cascading randomisation (re-initialised up to)", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return ax.figure, ax


def plot_sanity(sanity_rows: Sequence[Mapping]):
    """Mask and importance panels side by side. Returns ``(fig, axes [2])``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    plot_sanity_panel(axes[0], sanity_rows, "rho_mask")
    plot_sanity_panel(axes[1], sanity_rows, "rho_importance")
    fig.tight_layout()
    return fig, axes


def pick_frames(boxes: Sequence[np.ndarray], num_frames: int, num: int = 6) -> list[int]:
    """Up to ``num`` sampled-frame indices to show: spread over the frames with a ground-truth
    box (``boxes[t]``: ``ndarray[k, 4]``), plus one before and one after them, the rest spread
    over the ``num_frames`` frames."""
    inside = [t for t, b in enumerate(boxes) if len(b)]
    outside = [t for t, b in enumerate(boxes) if not len(b)]
    pick: list[int] = []
    if inside:
        k = min(len(inside), num - min(2, len(outside)))
        pick += [inside[i] for i in np.linspace(0, len(inside) - 1, k).round().astype(int)]
        before = [t for t in outside if t < inside[0]]
        after = [t for t in outside if t > inside[-1]]
        if before:
            pick.append(before[len(before) // 2])
        if after and len(pick) < num:
            pick.append(after[len(after) // 2])
    rest = [t for t in np.linspace(0, num_frames - 1, num).round().astype(int) if t not in pick]
    pick += rest[: max(0, num - len(pick))]
    return sorted(set(int(t) for t in pick))[:num]


def plot_method_maps(
    by: Mapping[str, AttentionOutput],
    images: Mapping[int, np.ndarray | None],
    boxes: Sequence[np.ndarray],
    segments: np.ndarray,
    params: LocalizeParams,
    *,
    title_video: str = "",
):
    """Every method's maps on the same frames of one video: a row of frames with the
    ground-truth boxes, a row per method (heatmap and predicted box at ``params.threshold``),
    and the normalised importance of each method over time with the ground-truth segments.

    Args:
        by: ``{method: AttentionOutput}`` of the video (same sampled frames).
        images: ``{sampled-frame index t: ndarray[H, W, 3] uint8 or None}``, the columns (a
            ``None`` image leaves its column empty).
        boxes: ground-truth ``ndarray[k, 4]`` boxes of each sampled frame.
        segments (ndarray[S, 2]): ground-truth segments in seconds.

    Returns:
        ``(fig, ax)``, ``ax`` the importance panel.
    """
    import matplotlib.pyplot as plt

    first = next(iter(by.values()))
    methods = list(by)
    pick = list(images)
    ncol = len(pick)
    fig = plt.figure(figsize=(1.6 * ncol + 1.2, 1.35 * (len(methods) + 1) + 2.0))
    gs = fig.add_gridspec(len(methods) + 2, ncol, height_ratios=[1] * (len(methods) + 1) + [1.4])
    for j, t in enumerate(pick):
        img = images[t]
        if img is None:
            continue
        gt_img = draw_boxes(img, boxes[t], color=GT_COLOR) if len(boxes[t]) else img
        ax = fig.add_subplot(gs[0, j])
        ax.imshow(gt_img)
        ax.set_title(f"{first.timestamps[t]:.2f} s", fontsize=7)
        ax.axis("off")
        for i, m in enumerate(methods):
            o = by[m]
            k = o.top_class if params.class_index is None else params.class_index
            vis = overlay_heatmap(img, o.mask[t], alpha=0.5, offset=o.grid_offset)
            res = mask_to_box(
                o.mask[t],
                o.frame_size,
                params.for_output(o),
                prob=float(o.scores[k]),
                offset=o.grid_offset,
            )
            if res is not None:
                vis = draw_boxes(vis, [res[0]], color=PRED_COLOR)
            ax = fig.add_subplot(gs[i + 1, j])
            ax.imshow(vis)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(m, fontsize=8)
    ax = fig.add_subplot(gs[-1, :])
    for s, e in segments:
        ax.axvspan(s, e, color="tab:blue", alpha=0.15, lw=0)
    for m in methods:
        o = by[m]
        ax.plot(
            o.timestamps,
            normalise_importance(o.frame_importance, params.importance_norm),
            lw=1.3,
            label=m,
        )
    thr = sorted({params.for_output(by[m]).threshold_value for m in methods})
    for v in thr:
        ax.axhline(v, color="gray", ls="--", lw=0.7)
    ax.set_xlabel("time (s); ground-truth segment shaded", fontsize=8)
    ax.set_ylabel("normalised importance", fontsize=8)
    ax.legend(
        fontsize=7, frameon=False, ncol=len(methods), loc="lower center", bbox_to_anchor=(0.5, 1.0)
    )
    name = first.class_names[first.top_class]
    fig.suptitle(
        f"{title_video}: predicted {name} ({first.scores[first.top_class]:.2f}); ground truth "
        f"blue, boxes at threshold {' / '.join(f'{v:g}' for v in thr)} red",
        fontsize=9,
    )
    fig.tight_layout()
    return fig, ax
