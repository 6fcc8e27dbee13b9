"""Box and tube overlap under each convention, and 3D NMS: hand-computed values and the
vectorised pairs against one pair at a time."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.ops.boxes import box_iou, coco_iou, iou_matlab, iou_odm, iou_plus_one
from attnviz.ops.tubes import nms_tubes, nms_tubes_grouped, tube_iou, tube_iou_pairs


def test_box_conventions_by_hand():
    # a quarter-size box inside another: IoU 0.25 (plain widths)
    assert box_iou([[0, 0, 10, 10]], [[0, 0, 5, 5]])[0, 0] == 0.25
    # +1 pixels: [0,0,9,9] is 10 x 10 pixels, [0,0,4,4] 5 x 5 -> 25 / 100
    assert box_iou([[0, 0, 9, 9]], [[0, 0, 4, 4]], plus_one=True)[0, 0] == 0.25
    assert iou_plus_one(np.array([0, 0, 9, 9.0]), np.array([0, 0, 4, 4.0])) == 0.25
    # touching boxes share one pixel column under +1, none without
    assert iou_plus_one(np.array([0, 0, 9, 9.0]), np.array([9, 0, 18, 9.0])) == 10 / 190
    assert box_iou([[0, 0, 9, 9]], [[9, 0, 18, 9]])[0, 0] == 0.0
    # Object-Detection-Metrics: touching counts (x1 9 == x2 9), a 0.5 px gap does not
    assert iou_odm(np.array([9, 0, 18, 9.0]), np.array([0, 0, 9, 9.0])) == 10 / 190
    assert iou_odm(np.array([9.5, 0, 18, 9.0]), np.array([0, 0, 9, 9.0])) == 0.0
    assert iou_plus_one(np.array([0, 0, 9, 9.0]), np.array([9.5, 0, 18, 9.0])) > 0
    # COCO on [x, y, w, h]
    assert coco_iou([[0, 0, 10, 10]], [[5, 0, 10, 10]])[0, 0] == 50 / 150
    # MATLAB rectint over union + eps
    assert iou_matlab(np.array([0, 0, 10, 10.0]), np.array([5, 0, 10, 10.0])) == pytest.approx(
        50 / 150, abs=1e-15
    )
    assert iou_matlab(np.array([0, 0, 10, 10.0]), np.array([20, 0, 10, 10.0])) == 0.0


def _tube(f0, box, n):
    return np.column_stack([np.arange(f0, f0 + n), np.tile(box, (n, 1))]).astype(float)


def test_tube_conventions_by_hand():
    g = _tube(1, [0, 0, 9, 9], 10)  # frames 1..10
    d = _tube(6, [0, 0, 9, 9], 10)  # frames 6..15: 5 shared of 15
    assert tube_iou(g, d, "act") == pytest.approx(5 / 15)
    assert tube_iou(g, d, "yowo") == pytest.approx(5 / 15)
    one = _tube(10, [0, 0, 9, 9], 3)  # shares frame 10 only
    assert tube_iou(g, one, "act") == pytest.approx(1 / 12)
    assert tube_iou(g, one, "yowo") == 0.0 and tube_iou(g, one, "matlab") == 0.0
    assert tube_iou(g, _tube(20, [0, 0, 9, 9], 3), "act") == 0.0
    # MATLAB: the detection [x y w h] + 1; ROAD's 0-based box gives the GT rectangle back
    assert tube_iou(g, _tube(1, [-1, -1, 7, 7], 10), "matlab") == 1.0
    with pytest.raises(ValueError, match="unknown tube IoU convention"):
        tube_iou(g, d, "voc")
    with pytest.raises(ValueError, match=r"non-empty \[n, 5\] array"):
        tube_iou(g, g[:, :4], "act")


def _naive(g, d, convention):
    t0, t1 = max(g[0, 0], d[0, 0]), min(g[-1, 0], d[-1, 0])
    if t1 < t0 or (convention != "act" and t1 <= t0):
        return 0.0
    gs = g[int(t0 - g[0, 0]) : int(t1 - g[0, 0]) + 1]
    ds = d[int(t0 - d[0, 0]) : int(t1 - d[0, 0]) + 1]
    inter = t1 - t0 + 1
    union = max(g[-1, 0], d[-1, 0]) - min(g[0, 0], d[0, 0]) + 1
    if convention == "matlab":
        gx = np.column_stack([gs[:, 1], gs[:, 2], gs[:, 3] - gs[:, 1], gs[:, 4] - gs[:, 2]])
        dx = np.column_stack([ds[:, 1], ds[:, 2], ds[:, 3] - ds[:, 1], ds[:, 4] - ds[:, 2]]) + 1
        s = 0.0
        for a, b in zip(gx, dx, strict=True):
            s += float(iou_matlab(a, b))
        return (inter / union) * (s / len(gs))
    m = np.mean(iou_plus_one(gs[:, 1:], ds[:, 1:]))
    return m * (inter / union) if convention == "act" else m * inter / union


@pytest.mark.parametrize("convention", ["act", "yowo", "matlab"])
def test_pairs_equal_one_pair_at_a_time_bit_for_bit(convention):
    rng = np.random.default_rng(0)
    tubes = []
    for _ in range(40):
        f0, n = int(rng.integers(1, 30)), int(rng.integers(1, 40))
        b = rng.uniform(0, 100, (n, 2))
        tubes.append(np.column_stack([np.arange(f0, f0 + n), b, b + rng.uniform(1, 50, (n, 2))]))
    a, b = np.triu_indices(40, 0)
    vals = tube_iou_pairs(tubes, tubes, a, b, convention)
    naive = [_naive(tubes[i], tubes[j], convention) for i, j in zip(a, b, strict=True)]
    assert np.array_equal(vals, naive)


def test_nms():
    base = _tube(1, [0, 0, 9, 9], 10)
    shifted = _tube(1, [4, 0, 13, 9], 10)  # IoU 60/140 = 0.43 with base
    far = _tube(1, [50, 50, 59, 59], 10)
    assert nms_tubes([base, shifted, far], [0.8, 0.9, 0.1], 0.3).tolist() == [1, 2]
    assert nms_tubes([base, shifted, far], [0.8, 0.9, 0.1], 0.5).tolist() == [1, 0, 2]
    # equal scores: the earlier tube first
    assert nms_tubes([base, shifted], [0.5, 0.5], 0.3).tolist() == [0]
    # groups are independent; the result is the same as one group at a time
    kept = nms_tubes_grouped([base, shifted, base, far], np.array([0.8, 0.9, 0.7, 0.6]),
                             np.array([0, 0, 1, 1]), 0.3)  # fmt: skip
    assert kept.tolist() == [1, 2, 3]


def test_nms_large_group_walk_equals_all_pairs():
    rng = np.random.default_rng(1)
    tubes = [_tube(int(rng.integers(1, 20)), rng.uniform(0, 40, 2).tolist() * 2, 15)
             for _ in range(300)]  # fmt: skip
    for t in tubes:
        t[:, 3:] += 20
    scores = rng.random(300)
    big = nms_tubes(tubes, scores, 0.3)  # 300 > 256: one IoU pass per kept tube
    assert sorted(big.tolist()) == nms_tubes_grouped(tubes, scores, np.zeros(300, int)).tolist()
    # against a plain greedy loop
    order = list(np.argsort(-scores, kind="stable"))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [j for j in order if tube_iou(tubes[j], tubes[i], "act") <= 0.3]
    assert big.tolist() == keep
