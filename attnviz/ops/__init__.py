"""Pure geometry and average precision (numpy only).

Pairwise functions are vectorised: ``f(a [N, ...], b [M, ...]) -> [N, M]``.
"""

from attnviz.ops.ap import ap_all_points, ap_coco_101, ap_trapezoid, precision_recall

__all__ = ["ap_all_points", "ap_coco_101", "ap_trapezoid", "precision_recall"]
