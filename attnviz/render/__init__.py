"""Rendering: pure image functions (overlays, boxes, strips) and matplotlib figure functions
that take an ``ax`` and return ``(fig, ax)``. Nothing here writes files."""

from attnviz.render.curves import plot_temporal_curve
from attnviz.render.figures import (
    PRCurve,
    paper_style,
    plot_localization,
    plot_map_vs_threshold,
    plot_pr_curves,
    plot_spatiotemporal,
    plot_temporal_attention,
)
from attnviz.render.overlay import (
    GT_COLOR,
    PRED_COLOR,
    attention_strip,
    draw_boxes,
    heatmap,
    overlay_heatmap,
)

__all__ = [
    "GT_COLOR",
    "PRED_COLOR",
    "PRCurve",
    "attention_strip",
    "draw_boxes",
    "heatmap",
    "overlay_heatmap",
    "paper_style",
    "plot_localization",
    "plot_map_vs_threshold",
    "plot_pr_curves",
    "plot_spatiotemporal",
    "plot_temporal_attention",
    "plot_temporal_curve",
]
