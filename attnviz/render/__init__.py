"""Rendering: pure image functions (overlays, boxes, strips) and matplotlib figure functions
that take an ``ax`` and return ``(fig, ax)``. Nothing here writes files."""

from attnviz.render.curves import plot_temporal_curve
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
    "attention_strip",
    "draw_boxes",
    "heatmap",
    "overlay_heatmap",
    "plot_temporal_curve",
]
