"""Average precision from a ranked list of true / false positives.

Every evaluator in attnviz ranks detections, marks each one true or false positive, and then
summarises the precision-recall curve with the rule of its protocol. The rules differ, and the
difference is visible in published tables, so each one is its own function here.

All functions take the cumulative counts ``tp_cum [N]`` / ``fp_cum [N]`` (or the raw precision
and recall) of one ranked list, or ``[N, T]`` arrays for T thresholds at once, and return AP
(a float, or ``ndarray[T]``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MATLAB_RECALL_POINTS",
    "ap_11_point",
    "ap_act",
    "ap_all_points",
    "ap_all_points_sequential",
    "ap_yowo_video",
    "ap_coco_101",
    "ap_trapezoid",
    "precision_recall",
]


def precision_recall(
    tp: np.ndarray, fp: np.ndarray, npos: int | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raw precision and recall after each ranked detection.

    Args:
        tp (ndarray[N] or [N, T]): 1 where the detection is a true positive.
        fp (ndarray[N] or [N, T]): 1 where it is a false positive (a detection may be
            neither, e.g. ignored; it then adds to neither count).
        npos (int or ndarray[T]): number of ground-truth instances.

    Returns:
        (precision, recall) of the same shape as ``tp`` (float64). With ``npos == 0`` the
        recall is ``nan``; precision at a position with no counted detection so far is ``nan``.
    """
    tp_cum = np.cumsum(np.asarray(tp, dtype=np.float64), axis=0)
    fp_cum = np.cumsum(np.asarray(fp, dtype=np.float64), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = tp_cum / (tp_cum + fp_cum)
        rec = tp_cum / np.asarray(npos, dtype=np.float64)
    return prec, rec


def ap_all_points(rec: np.ndarray, prec: np.ndarray) -> float:
    """Every-point interpolated AP (PASCAL VOC 2010+, ActivityNet, Object-Detection-Metrics,
    ``xVOCap.m``): the area under the precision envelope, with the curve padded by
    ``(0, 0)`` before and ``(1, 0)`` after.

    Args:
        rec (ndarray[N]): recall after each ranked detection.
        prec (ndarray[N]): precision after each ranked detection.
    """
    mrec = np.concatenate(([0.0], np.asarray(rec, dtype=np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(prec, dtype=np.float64), [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mpre[idx]))


def ap_trapezoid(rec: np.ndarray, prec: np.ndarray) -> float:
    """Trapezoidal area under the raw precision-recall curve starting at
    ``(recall 0, precision 1)`` (ACT's ``pr_to_ap``; no envelope).

    Args:
        rec (ndarray[N]): recall after each ranked detection.
        prec (ndarray[N]): precision after each ranked detection.
    """
    r = np.concatenate(([0.0], np.asarray(rec, dtype=np.float64)))
    p = np.concatenate(([1.0], np.asarray(prec, dtype=np.float64)))
    return float(np.sum((r[1:] - r[:-1]) * (p[1:] + p[:-1]) * 0.5))


_COCO_REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def ap_coco_101(tp: np.ndarray, fp: np.ndarray, npos: int) -> float:
    """COCO's 101-point interpolated AP for one class, one threshold, one area range.

    Precision and recall are computed as ``COCOeval.accumulate`` does (with its
    ``np.spacing(1)`` in the denominator), the precision made monotone from the right, and
    sampled at recall ``0, 0.01, ..., 1`` (the first detection reaching each recall level);
    levels never reached count 0.

    Args:
        tp (ndarray[N]): 1 for a true positive, in ranked order (ignored detections removed).
        fp (ndarray[N]): 1 for a false positive.
        npos (int): ground-truth instances that are not ignored (``> 0``).

    Returns:
        AP in [0, 1], or ``-1.0`` where ``npos == 0`` (COCO's marker for "no ground truth").
    """
    if npos == 0:
        return -1.0
    tps = np.cumsum(np.asarray(tp, dtype=np.float64))
    fps = np.cumsum(np.asarray(fp, dtype=np.float64))
    rc = tps / npos
    pr = tps / (fps + tps + np.spacing(1))
    q = np.zeros(len(_COCO_REC_THRS))
    if len(pr):
        pr = np.maximum.accumulate(pr[::-1])[::-1]
        inds = np.searchsorted(rc, _COCO_REC_THRS, side="left")
        ok = inds < len(pr)
        q[ok] = pr[inds[ok]]
    return float(np.mean(q))


def _matlab_colon(a: float, d: float, b: float) -> np.ndarray:
    """The values of MATLAB's ``a:d:b``: the first half counted up from ``a``, the second half
    counted down from the end point (so ``0:0.1:1`` holds ``3 * 0.1 = 0.30000000000000004`` but
    ``1 - 3 * 0.1 == 0.7``)."""
    n = int(np.floor((b - a) / d + 1e-10))
    end = a + n * d
    k = np.arange(n + 1)
    return np.where(k < n / 2, a + k * d, end - (n - k) * d)


#: ``0:0.1:1`` as MATLAB evaluates it (the recall points of the THUMOS 2014 kit).
MATLAB_RECALL_POINTS = _matlab_colon(0.0, 0.1, 1.0)


def ap_11_point(rec: np.ndarray, prec: np.ndarray) -> float:
    """11-point interpolated AP of the THUMOS 2014 kit: the mean over ``t`` in MATLAB's
    ``0:0.1:1`` of the largest precision at recall ``>= t`` (0 where no recall reaches ``t``).

    Args:
        rec (ndarray[N]), prec (ndarray[N]): after each ranked detection.
    """
    rec = np.asarray(rec, dtype=np.float64)
    prec = np.asarray(prec, dtype=np.float64)
    ap = 0.0
    for t in MATLAB_RECALL_POINTS:
        sel = prec[rec >= t]
        p = float(sel.max()) if sel.size else 0.0
        ap += p / len(MATLAB_RECALL_POINTS)
    return ap


def ap_all_points_sequential(rec: np.ndarray, prec: np.ndarray) -> float:
    """:func:`ap_all_points` with the area summed left to right (as Object-Detection-Metrics'
    Python loop and MATLAB/Octave's ``sum`` in ``xVOCap.m`` add it), so that the last bits agree
    with those references too.

    Args:
        rec (ndarray[N]), prec (ndarray[N]): after each ranked detection.
    """
    mrec = np.concatenate(([0.0], np.asarray(rec, dtype=np.float64), [1.0]))
    mpre = np.concatenate(([0.0], np.asarray(prec, dtype=np.float64), [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    terms = (mrec[idx] - mrec[idx - 1]) * mpre[idx]
    return float(np.cumsum(terms)[-1]) if len(terms) else 0.0


def _float32_pr(tp: np.ndarray, recall_den: float) -> np.ndarray:
    """``pr [N + 1, 2]`` float32 (precision, recall) with first row ``(1, 0)``, as ACT and YOWO
    fill it: each value computed in double precision, then stored as float32."""
    tp = np.asarray(tp, dtype=bool).reshape(-1)
    pr = np.empty((len(tp) + 1, 2), dtype=np.float32)
    pr[0] = (1.0, 0.0)
    if len(tp):
        tps = np.cumsum(tp).astype(np.float64)
        pr[1:, 0] = tps / np.arange(1, len(tp) + 1, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            pr[1:, 1] = tps / recall_den if recall_den > 0 else 0.0
    return pr


def ap_act(tp: np.ndarray, npos: int) -> float:
    """ACT's ``pr_to_ap`` (also MOC's): trapezoidal area under the raw precision-recall curve
    from ``(recall 0, precision 1)``, on ACT's float32 ``pr`` array.

    Args:
        tp (ndarray[N] bool): True for a true positive, in rank order (every other detection
            is a false positive).
        npos (int): ground-truth instances; with 0 every recall is 0 (ACT itself divides by
            zero there) and the AP is 0.
    """
    pr = _float32_pr(tp, float(npos))
    prdif = pr[1:, 1] - pr[:-1, 1]
    prsum = pr[1:, 0] + pr[:-1, 0]
    return float(np.sum(prdif * prsum * np.float32(0.5)))


def ap_yowo_video(tp: np.ndarray, npos: int, eps: float = 1e-5) -> float:
    """YOWO's video AP: recall ``tp / (npos + eps)`` and precision stored in a float32 ``pr``
    array (first row ``(1, 0)``), then ``voc_ap``'s every-point interpolated area.

    Args:
        tp (ndarray[N] bool): in rank order.
        npos (int): ground-truth tubes.
    """
    pr = _float32_pr(tp, float(npos) + eps)
    return ap_all_points(pr[:, 1].astype(np.float64), pr[:, 0].astype(np.float64))
