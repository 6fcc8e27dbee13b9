"""``eval_ava`` and ``eval_anet``: read the official layouts, score them (no printing)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from attnviz.types import EvalResult

__all__ = ["eval_anet", "eval_ava"]

PathLike = str | os.PathLike[str]


def eval_ava(
    gt: PathLike,
    pred: PathLike,
    *,
    labelmap: PathLike | None = None,
    exclusions: PathLike | None = None,
) -> EvalResult:
    """AVA frame-mAP at IoU 0.5 of the detection CSV ``pred`` against the ground-truth CSV
    ``gt`` (:func:`attnviz.evaluate.ava.evaluate_ava`). ``gt`` may be a name of
    :data:`attnviz.io.datasets.DATASETS` (``ava-v2.1``, ``ava-v2.2``: read from the data folder,
    with its label map); ``labelmap`` defaults to the name's label map, else the AVA v2.1 map
    shipped with attnviz; ``exclusions``: an excluded-keyframes CSV."""
    from attnviz.evaluate.ava import evaluate_ava
    from attnviz.io.ava import (
        default_label_map,
        read_ava_boxes,
        read_excluded_keyframes,
        read_label_map,
    )
    from attnviz.io.datasets import resolve_gt

    ref = resolve_gt(gt)
    if labelmap is None and ref.classes is not None:
        labelmap = ref.classes
    lm = default_label_map() if labelmap is None else read_label_map(labelmap)
    excl = None if exclusions is None else read_excluded_keyframes(exclusions)
    return evaluate_ava(read_ava_boxes(ref.path), read_ava_boxes(pred), lm, exclusions=excl)


def eval_anet(
    gt: PathLike,
    pred: PathLike,
    *,
    subset: str | None = None,
    tiou: Sequence[float] | str | None = None,
) -> EvalResult:
    """ActivityNet-1.3 detection mAP of the results JSON ``pred`` against one subset of the
    ground-truth JSON ``gt`` (:func:`attnviz.evaluate.activitynet.evaluate_activitynet`);
    ``gt`` may be the name ``activitynet-1.3`` (read from the data folder); ``subset`` defaults
    to ``validation``; ``tiou`` defaults to the official ``np.linspace(0.5, 0.95, 10)``."""
    from attnviz.evaluate.activitynet import ANET_TIOU, evaluate_activitynet
    from attnviz.io.activitynet import read_activitynet_gt, read_activitynet_results
    from attnviz.io.datasets import resolve_gt

    ref = resolve_gt(gt)
    if subset is None:
        subset = ref.subset or "validation"
    truth = read_activitynet_gt(ref.path, subset)
    dets = read_activitynet_results(pred, truth.class_names)
    return evaluate_activitynet(truth, dets, tiou=ANET_TIOU if tiou is None else tiou)
