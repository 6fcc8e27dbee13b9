"""ActivityNet-1.3 temporal detection: mAP at tIoU ``np.linspace(0.5, 0.95, 10)`` and their mean,
as ActivityNet's ``Evaluation/eval_detection.py`` computes them.

The matching and AP are those of :mod:`attnviz.evaluate.thumos` under its ``activitynet``
protocol (one matcher): per class, detections by descending score each take the free ground
truth of their video with the highest tIoU (tIoU ``>=`` threshold), every-point interpolated
AP. Classes are the labels of the subset's ground truth; a detection on a video that has no
ground truth of its class (or is outside the subset) is a false positive. Equal scores and
equal tIoUs follow the reference's ``argsort()[::-1]`` with a stable sort (``ties="reversed"``
of :class:`~attnviz.evaluate.thumos.ThumosParams`): the later detection in the results file,
and the later ground truth, come first. mAP is the mean over the classes per threshold and
``average_mAP`` the mean of those, with numpy's own summation order as the reference uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from attnviz.evaluate.thumos import evaluate_thumos
from attnviz.types import EvalResult, TemporalDetections, TemporalGroundTruth

__all__ = ["ANET_TIOU", "evaluate_activitynet"]

#: ``np.linspace(0.5, 0.95, 10)``, the official thresholds (0.8999999999999999, not 0.9)
ANET_TIOU = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))


def evaluate_activitynet(
    gt: TemporalGroundTruth,
    dets: TemporalDetections,
    *,
    tiou: Sequence[float] | str = ANET_TIOU,
    keep_matches: bool = False,
) -> EvalResult:
    """ActivityNet-1.3 detection AP per class and threshold, mAP and average mAP.

    Args:
        gt: one subset's ground truth (:func:`attnviz.io.activitynet.read_activitynet_gt`).
        dets: detections with labels indexing ``gt.class_names``
            (:func:`attnviz.io.activitynet.read_activitynet_results`).
        tiou: thresholds (default the official ten).
        keep_matches: as :func:`attnviz.evaluate.thumos.evaluate_thumos`.

    Returns:
        EvalResult (protocol ``activitynet``) with ``ap [K, T]``, ``mAP [T]`` and
        ``extra["average_mAP"]``.
    """
    r = evaluate_thumos(
        gt, dets, protocol="activitynet", tiou=tiou, keep_matches=keep_matches, ties="reversed"
    )
    # the reference's [T, K] array, averaged over its contiguous axis
    m_ap = np.ascontiguousarray(r.ap.T).mean(axis=1)
    extra = dict(r.extra)
    extra["average_mAP"] = float(m_ap.mean())
    warnings = tuple(w for w in r.warnings if "no ground-truth instance" not in w)
    return replace(r, mAP=m_ap, extra=extra, warnings=warnings)
