"""Spatio-temporal overlap of tubes and 3D non-maximum suppression (numpy only).

A tube is ``ndarray[n, 5]`` rows ``frame, x1, y1, x2, y2`` with consecutive ascending frames.
The spatio-temporal IoU is the temporal IoU of the frame ranges times the mean per-frame IoU
over the frames both tubes cover; the references differ in the details, so each has its own
function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attnviz.ops.boxes import matlab_rect_iou

__all__ = ["nms_tubes", "tube_iou_act", "tube_iou_matlab", "tube_iou_yowo"]


def _mean_frame_iou_plus_one(b1: np.ndarray, b2: np.ndarray) -> float:
    xmin = np.maximum(b1[:, 1], b2[:, 1])
    xmax = np.minimum(b1[:, 3] + 1, b2[:, 3] + 1)
    ymin = np.maximum(b1[:, 2], b2[:, 2])
    ymax = np.minimum(b1[:, 4] + 1, b2[:, 4] + 1)
    ov = np.maximum(0, xmax - xmin) * np.maximum(0, ymax - ymin)
    a1 = (b1[:, 3] - b1[:, 1] + 1) * (b1[:, 4] - b1[:, 2] + 1)
    a2 = (b2[:, 3] - b2[:, 1] + 1) * (b2[:, 4] - b2[:, 2] + 1)
    return float(np.mean(ov / (a1 + a2 - ov)))


def _st_iou_plus_one(b1: np.ndarray, b2: np.ndarray, strict: bool) -> float:
    tmin = max(b1[0, 0], b2[0, 0])
    tmax = min(b1[-1, 0], b2[-1, 0])
    if (tmax <= tmin) if strict else (tmax < tmin):
        return 0.0
    inter = tmax - tmin + 1
    union = max(b1[-1, 0], b2[-1, 0]) - min(b1[0, 0], b2[0, 0]) + 1
    s1 = int(tmin - b1[0, 0])
    s2 = int(tmin - b2[0, 0])
    n = int(tmax - tmin) + 1
    return _mean_frame_iou_plus_one(b1[s1 : s1 + n], b2[s2 : s2 + n]) * inter / union


def tube_iou_act(b1: np.ndarray, b2: np.ndarray) -> float:
    """ACT's ``iou3dt``: +1 pixel convention; tubes sharing a single frame still overlap."""
    return _st_iou_plus_one(np.asarray(b1, float), np.asarray(b2, float), strict=False)


def tube_iou_yowo(b1: np.ndarray, b2: np.ndarray) -> float:
    """YOWO's ``iou3dt``: as ACT's, but tubes must share more than one frame
    (``tmax <= tmin`` gives 0)."""
    return _st_iou_plus_one(np.asarray(b1, float), np.asarray(b2, float), strict=True)


def tube_iou_matlab(gt: np.ndarray, dt: np.ndarray) -> float:
    """``compute_spatio_temporal_iou.m`` of the UCF101-24 MATLAB evaluation.

    The temporal intersection is ``min(ends) - max(starts)``, +1 only when positive (tubes
    sharing a single frame give 0); boxes are compared as ``[x y w h]`` with the detection's
    four numbers each increased by 1 (as the reference does) and the IoU divided by
    ``union + eps``.

    Args:
        gt (ndarray[n, 5]): ground-truth tube, ``frame, x1, y1, x2, y2``.
        dt (ndarray[m, 5]): detected tube.
    """
    gt = np.asarray(gt, float)
    dt = np.asarray(dt, float)
    tgb, tge, tdb, tde = gt[0, 0], gt[-1, 0], dt[0, 0], dt[-1, 0]
    t_i = max(0.0, min(tge, tde) - max(tgb, tdb))
    if not t_i > 0:
        return 0.0
    t_i += 1
    t_u = max(tge, tde) - min(tgb, tdb) + 1
    lo, hi = max(tgb, tdb), min(tge, tde)
    n = int(hi - lo) + 1
    g = gt[int(lo - tgb) : int(lo - tgb) + n]
    d = dt[int(lo - tdb) : int(lo - tdb) + n]
    g_xywh = np.stack([g[:, 1], g[:, 2], g[:, 3] - g[:, 1], g[:, 4] - g[:, 2]], 1)
    d_xywh = np.stack([d[:, 1], d[:, 2], d[:, 3] - d[:, 1], d[:, 4] - d[:, 2]], 1) + 1
    return float(t_i / t_u * np.mean(matlab_rect_iou(g_xywh, d_xywh)))


def nms_tubes(tubes: Sequence[np.ndarray], scores: np.ndarray, overlap: float = 0.3) -> np.ndarray:
    """3D NMS as ACT's ``nms3dt``: repeatedly keep the best-scoring tube and drop those whose
    ``tube_iou_act`` with it exceeds ``overlap``. Equal scores: the earlier tube first.

    Returns:
        ndarray[k] int: indices of the kept tubes, in keep order.
    """
    scores = np.asarray(scores, dtype=np.float64)
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [j for j in order if tube_iou_act(tubes[j], tubes[i]) <= overlap]
    return np.asarray(keep, dtype=np.int64)
