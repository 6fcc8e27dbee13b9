"""Pairs of equal keys, vectorised (the join the evaluators use to pair detections with the
ground truth of the same video / keyframe and class).

=============  ==========================================================================
keys           non-negative or negative int64, any order, repeats allowed
result order   by ``i`` (the first array's index), then by ``j`` in the second array's
               order among equal keys (a stable sort)
=============  ==========================================================================
"""

from __future__ import annotations

import numpy as np

__all__ = ["equal_key_pairs"]


def equal_key_pairs(ka: np.ndarray, kb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(i, j)`` with ``ka[i] == kb[j]``.

    Args:
        ka (ndarray[N] int): keys of the first set.
        kb (ndarray[M] int): keys of the second set.

    Returns:
        (ndarray[P] int64, ndarray[P] int64): ``i`` and ``j``, ``P`` = the number of equal
        pairs; for each ``i`` its ``j`` in ``kb``'s order.
    """
    ka = np.asarray(ka, dtype=np.int64).reshape(-1)
    kb = np.asarray(kb, dtype=np.int64).reshape(-1)
    ob = np.argsort(kb, kind="stable")
    kbs = kb[ob]
    begin = np.searchsorted(kbs, ka, side="left")
    count = np.searchsorted(kbs, ka, side="right") - begin
    total = int(count.sum())
    ia = np.repeat(np.arange(len(ka), dtype=np.int64), count)
    offset = np.repeat(np.cumsum(count) - count, count)
    jb = ob[np.repeat(begin, count) + (np.arange(total) - offset)]
    return ia, jb.astype(np.int64)
