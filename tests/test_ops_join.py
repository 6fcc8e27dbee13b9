"""``attnviz.ops.join.equal_key_pairs`` by hand."""

import numpy as np

from attnviz.ops.join import equal_key_pairs


def test_every_equal_pair_in_order():
    ia, jb = equal_key_pairs(np.array([3, 1, 7, 3]), np.array([1, 3, 3, 9, 1]))
    # i = 0 (key 3): j 1, 2; i = 1 (key 1): j 0, 4; i = 2 (key 7): none; i = 3 (key 3): j 1, 2
    assert ia.tolist() == [0, 0, 1, 1, 3, 3]
    assert jb.tolist() == [1, 2, 0, 4, 1, 2]
    assert ia.dtype == np.int64 and jb.dtype == np.int64


def test_empty_sides():
    for a, b in (([], [1, 2]), ([1, 2], []), ([], [])):
        ia, jb = equal_key_pairs(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))
        assert len(ia) == 0 and len(jb) == 0
