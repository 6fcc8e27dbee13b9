"""Metrics for explanations, as pure functions over arrays (numpy and scipy only).

* localization: :func:`pointing_game`, :func:`energy_in_boxes`, :func:`energy_in_tube`,
  :func:`energy_in_segments`, :func:`temporal_pointing_game`, :func:`threshold_sweep`
  (the mAP of :mod:`attnviz.evaluate` is the other localization measure);
* faithfulness: :func:`deletion_curve`, :func:`insertion_curve`, :func:`random_order_curves`
  (the model is reached through a scoring callback);
* sanity: :func:`rank_correlation` for the model-randomisation check.
"""

from attnviz.metrics.faithfulness import (
    Curve,
    auc,
    deletion_curve,
    insertion_curve,
    mean_curve,
    perturbation_order,
    random_order_curves,
    step_counts,
)
from attnviz.metrics.localization import (
    SweepResult,
    box_mask,
    energy_in_boxes,
    energy_in_segments,
    energy_in_tube,
    pointing_game,
    temporal_pointing_game,
    threshold_sweep,
)
from attnviz.metrics.sanity import rank_correlation, topk_overlap

__all__ = [
    "Curve",
    "SweepResult",
    "auc",
    "box_mask",
    "deletion_curve",
    "energy_in_boxes",
    "energy_in_segments",
    "energy_in_tube",
    "insertion_curve",
    "mean_curve",
    "perturbation_order",
    "pointing_game",
    "random_order_curves",
    "rank_correlation",
    "step_counts",
    "temporal_pointing_game",
    "threshold_sweep",
    "topk_overlap",
]
