"""Box overlap under each convention the reference evaluators use (numpy only).

The evaluators of the field disagree on how a box's pixels are counted, and the disagreement
changes published numbers, so each convention is its own function. Every function here
broadcasts: ``a[..., 4]`` against ``b[..., 4]`` gives ``[...]``; :func:`box_iou` is the pairwise
``[N, M]`` form. The order of the floating-point operations follows each reference, so that a
box exactly at a threshold falls on the same side of it.

======================  =========================================================================
function                convention
======================  =========================================================================
:func:`iou_plain`       ``x1, y1, x2, y2`` with widths ``x2 - x1`` (no +1)
:func:`iou_voc_nan`     MultiSports' ``iou2d_voc``: as :func:`iou_plain`, but in the inputs' own
                        float types, and two zero-area boxes give ``0 / 0 = NaN``
:func:`iou_plus_one`    ACT / MOC / YOWO tubes: inclusive pixels, widths ``x2 - x1 + 1``
:func:`iou_odm`         Object-Detection-Metrics (YOWO's frame-mAP): +1, and 0 for boxes that are
                        apart by any gap (``x1 > other x2``), even a fraction of a pixel
:func:`iou_coco`        pycocotools ``bbIou`` on ``[x, y, w, h]``
:func:`iou_matlab`      ``inters_union`` of the UCF101-24 MATLAB code on ``[x y w h]``
======================  =========================================================================
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "box_iou",
    "coco_iou",
    "iou_coco",
    "iou_matlab",
    "iou_odm",
    "iou_plain",
    "iou_voc_nan",
    "iou_plus_one",
    "xyxy_to_xywh",
]


def _f(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def iou_plain(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``x1, y1, x2, y2`` boxes with widths ``x2 - x1`` (0 where the union is empty).

    Args:
        a (ndarray[..., 4]), b (ndarray[..., 4]): pixels; broadcast against each other.

    Returns:
        ndarray[...] float64.
    """
    a, b = _f(a), _f(b)
    iw = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    ih = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = iw * ih
    union = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (
        b[..., 3] - b[..., 1]
    )
    union = union - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


def iou_voc_nan(gt: np.ndarray, det: np.ndarray) -> np.ndarray:
    """MultiSports' ``iou2d_voc``: ``overlap / (area(gt) + area(det) - overlap)`` with widths
    ``x2 - x1`` (no +1), evaluated as the reference's numpy expression: in the inputs' own
    floating types (a float32 box's area is a float32, as numpy computes it there), and two
    zero-area boxes give ``0 / 0 = NaN`` (numpy's ``argmax`` then picks that box, and no
    threshold passes it).

    Args:
        gt (ndarray[..., 4]), det (ndarray[..., 4]): ``x1, y1, x2, y2``; broadcast. Integer
            input is taken as float64.

    Returns:
        ndarray[...] of the promoted floating type ("[0, 0, 10, 5] in [0, 0, 10, 10]: 0.5").
    """
    g, d = np.asarray(gt), np.asarray(det)
    g = g if g.dtype.kind == "f" else g.astype(np.float64)
    d = d if d.dtype.kind == "f" else d.astype(np.float64)
    w = np.maximum(0, np.minimum(g[..., 2], d[..., 2]) - np.maximum(g[..., 0], d[..., 0]))
    h = np.maximum(0, np.minimum(g[..., 3], d[..., 3]) - np.maximum(g[..., 1], d[..., 1]))
    ov = w * h
    area_g = (g[..., 2] - g[..., 0]) * (g[..., 3] - g[..., 1])
    area_d = (d[..., 2] - d[..., 0]) * (d[..., 3] - d[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return ov / (area_g + area_d - ov)


def iou_plus_one(gt: np.ndarray, det: np.ndarray) -> np.ndarray:
    """ACT's ``iou2d`` (also MOC's and YOWO's tube code): inclusive pixels,
    ``overlap / (area(gt) + area(det) - overlap)`` with ``area = (x2 - x1 + 1) * (y2 - y1 + 1)``.

    Args:
        gt (ndarray[..., 4]), det (ndarray[..., 4]): ``x1, y1, x2, y2``; broadcast.

    Returns:
        ndarray[...] float64 ("a 2x2 box inside a 4x4 box: IoU 4/16 = 0.25" in pixel counts).
    """
    g, d = _f(gt), _f(det)
    w = np.maximum(0.0, np.minimum(g[..., 2] + 1, d[..., 2] + 1) - np.maximum(g[..., 0], d[..., 0]))
    h = np.maximum(0.0, np.minimum(g[..., 3] + 1, d[..., 3] + 1) - np.maximum(g[..., 1], d[..., 1]))
    ov = w * h
    ag = (g[..., 2] - g[..., 0] + 1) * (g[..., 3] - g[..., 1] + 1)
    ad = (d[..., 2] - d[..., 0] + 1) * (d[..., 3] - d[..., 1] + 1)
    return ov / (ag + ad - ov)


def iou_odm(det: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``Evaluator.iou`` of Object-Detection-Metrics as shipped with YOWO: 0 when the boxes are
    apart (``det.x1 > gt.x2``, ``gt.x1 > det.x2``, ``det.y2 < gt.y1`` or ``det.y1 > gt.y2``),
    else ``inter / (area(det) + area(gt) - inter)`` with +1 widths and heights.

    Unlike :func:`iou_plus_one`, boxes that are apart by less than one pixel do not overlap.

    Args:
        det (ndarray[..., 4]), gt (ndarray[..., 4]): ``x1, y1, x2, y2``; broadcast.
    """
    d, g = _f(det), _f(gt)
    apart = (
        (d[..., 0] > g[..., 2])
        | (g[..., 0] > d[..., 2])
        | (d[..., 3] < g[..., 1])
        | (d[..., 1] > g[..., 3])
    )
    iw = np.minimum(d[..., 2], g[..., 2]) - np.maximum(d[..., 0], g[..., 0]) + 1
    ih = np.minimum(d[..., 3], g[..., 3]) - np.maximum(d[..., 1], g[..., 1]) + 1
    inter = iw * ih
    ad = (d[..., 2] - d[..., 0] + 1) * (d[..., 3] - d[..., 1] + 1)
    ag = (g[..., 2] - g[..., 0] + 1) * (g[..., 3] - g[..., 1] + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(apart, 0.0, inter / (ad + ag - inter))


def xyxy_to_xywh(b: np.ndarray) -> np.ndarray:
    """``x1, y1, x2, y2`` -> ``x, y, w, h`` (``w = x2 - x1``), ``[..., 4]``."""
    b = _f(b)
    return np.stack([b[..., 0], b[..., 1], b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]], axis=-1)


def iou_coco(d_xywh: np.ndarray, g_xywh: np.ndarray) -> np.ndarray:
    """pycocotools' ``bbIou`` (no crowd): ``w = min(xd + wd, xg + wg) - max(xd, xg)``, 0 unless
    both ``w`` and ``h`` are positive, ``i / (area_d + area_g - i)``.

    Args:
        d_xywh (ndarray[..., 4]), g_xywh (ndarray[..., 4]): ``[x, y, w, h]``; broadcast.
    """
    d, g = _f(d_xywh), _f(g_xywh)
    iw = np.minimum(d[..., 2] + d[..., 0], g[..., 2] + g[..., 0]) - np.maximum(d[..., 0], g[..., 0])
    ih = np.minimum(d[..., 3] + d[..., 1], g[..., 3] + g[..., 1]) - np.maximum(d[..., 1], g[..., 1])
    inter = iw * ih
    union = d[..., 2] * d[..., 3] + g[..., 2] * g[..., 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((iw > 0) & (ih > 0), inter / union, 0.0)


def iou_matlab(g_xywh: np.ndarray, d_xywh: np.ndarray) -> np.ndarray:
    """``inters_union`` of the UCF101-24 MATLAB evaluation: ``rectint`` of ``[x y w h]``
    rectangles over ``w*h + w*h - inter + eps`` (the caller adds the detection's +1).

    Args:
        g_xywh (ndarray[..., 4]), d_xywh (ndarray[..., 4]): broadcast.
    """
    g, d = _f(g_xywh), _f(d_xywh)
    iw = np.minimum(g[..., 0] + g[..., 2], d[..., 0] + d[..., 2]) - np.maximum(g[..., 0], d[..., 0])
    ih = np.minimum(g[..., 1] + g[..., 3], d[..., 1] + d[..., 3]) - np.maximum(g[..., 1], d[..., 1])
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    union = g[..., 2] * g[..., 3] + d[..., 2] * d[..., 3] - inter
    return inter / (union + np.finfo(np.float64).eps)


def box_iou(a: np.ndarray, b: np.ndarray, *, plus_one: bool = False) -> np.ndarray:
    """Pairwise IoU of boxes ``x1, y1, x2, y2``.

    Args:
        a (ndarray[N, 4]), b (ndarray[M, 4]): pixels.
        plus_one: the inclusive-pixel convention of ACT and YOWO's tube code (widths
            ``x2 - x1 + 1``).

    Returns:
        ndarray[N, M] float64 ("a quarter-size box inside another: IoU 0.25").
    """
    a = _f(a).reshape(-1, 4)[:, None, :]
    b = _f(b).reshape(-1, 4)[None, :, :]
    return iou_plus_one(a, b) if plus_one else iou_plain(a, b)


def coco_iou(d_xywh: np.ndarray, g_xywh: np.ndarray) -> np.ndarray:
    """Pairwise :func:`iou_coco`: ``d [N, 4]`` x ``g [M, 4]`` -> ``[N, M]``."""
    d = _f(d_xywh).reshape(-1, 4)[:, None, :]
    g = _f(g_xywh).reshape(-1, 4)[None, :, :]
    return iou_coco(d, g)
