"""Pairwise box overlap under each convention the reference evaluators use (numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "coco_iou", "matlab_rect_iou"]


def box_iou(a: np.ndarray, b: np.ndarray, *, plus_one: bool = False) -> np.ndarray:
    """IoU of boxes ``x1, y1, x2, y2``.

    Args:
        a (ndarray[N, 4]), b (ndarray[M, 4]): pixels.
        plus_one: the inclusive-pixel convention of ACT and YOWO's tube code (widths
            ``x2 - x1 + 1``).

    Returns:
        ndarray[N, M] float64 ("a quarter-size box inside another: IoU 0.25").
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    one = 1.0 if plus_one else 0.0
    xmin = np.maximum(a[:, None, 0], b[None, :, 0])
    ymin = np.maximum(a[:, None, 1], b[None, :, 1])
    xmax = np.minimum(a[:, None, 2] + one, b[None, :, 2] + one)
    ymax = np.minimum(a[:, None, 3] + one, b[None, :, 3] + one)
    inter = np.maximum(0.0, xmax - xmin) * np.maximum(0.0, ymax - ymin)
    area_a = (a[:, 2] - a[:, 0] + one) * (a[:, 3] - a[:, 1] + one)
    area_b = (b[:, 2] - b[:, 0] + one) * (b[:, 3] - b[:, 1] + one)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / union
    return np.where(inter > 0, out, 0.0)


def coco_iou(d_xywh: np.ndarray, g_xywh: np.ndarray) -> np.ndarray:
    """IoU as pycocotools' ``bbIou`` computes it on ``[x, y, w, h]`` boxes (no crowd):
    ``iw = min(xd + wd, xg + wg) - max(xd, xg)``, 0 unless both ``iw`` and ``ih`` are positive.

    Returns:
        ndarray[N, M] float64.
    """
    d = np.asarray(d_xywh, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(g_xywh, dtype=np.float64).reshape(-1, 4)
    iw = np.minimum(d[:, None, 0] + d[:, None, 2], g[None, :, 0] + g[None, :, 2]) - np.maximum(
        d[:, None, 0], g[None, :, 0]
    )
    ih = np.minimum(d[:, None, 1] + d[:, None, 3], g[None, :, 1] + g[None, :, 3]) - np.maximum(
        d[:, None, 1], g[None, :, 1]
    )
    inter = iw * ih
    union = (d[:, 2] * d[:, 3])[:, None] + (g[:, 2] * g[:, 3])[None, :] - inter
    ok = (iw > 0) & (ih > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, inter / union, 0.0)


def matlab_rect_iou(g_xywh: np.ndarray, d_xywh: np.ndarray) -> np.ndarray:
    """``inters_union`` of the UCF101-24 MATLAB evaluation: ``rectint`` intersection of
    ``[x y w h]`` rectangles over ``w*h + w*h - inter + eps`` (elementwise, ``[n]``)."""
    g = np.asarray(g_xywh, dtype=np.float64).reshape(-1, 4)
    d = np.asarray(d_xywh, dtype=np.float64).reshape(-1, 4)
    iw = np.maximum(
        0.0, np.minimum(g[:, 0] + g[:, 2], d[:, 0] + d[:, 2]) - np.maximum(g[:, 0], d[:, 0])
    )
    ih = np.maximum(
        0.0, np.minimum(g[:, 1] + g[:, 3], d[:, 1] + d[:, 3]) - np.maximum(g[:, 1], d[:, 1])
    )
    inter = iw * ih
    union = g[:, 2] * g[:, 3] + d[:, 2] * d[:, 3] - inter
    return inter / (union + np.finfo(np.float64).eps)
