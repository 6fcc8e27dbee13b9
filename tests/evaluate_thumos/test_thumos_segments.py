"""Interval overlaps (``attnviz.ops.segments``) and threshold lists
(``attnviz.evaluate.params``)."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.errors import InputError
from attnviz.evaluate.params import parse_thresholds
from attnviz.ops.segments import (
    any_positive_overlap,
    intersecting_pairs,
    segment_iou,
    segment_iou_pairs,
    thumos_overlap,
    thumos_overlap_pairs,
)


def test_overlaps_by_hand():
    gt = np.array([[0.0, 10.0]])
    pred = np.array([[0, 10], [0, 5], [5, 15], [10, 20], [8, 2], [30, 20], [5, 5], [-5, 20]])
    # intersection / union, as written: 1, .5, 5/15, 0, 0 (reversed: no intersection,
    # union 10 - 6), nan (union 10 - 10), 0 (zero length), 10/25
    iou = segment_iou(pred, gt)[:, 0]
    np.testing.assert_allclose(iou[[0, 1, 2, 3, 4, 6, 7]], [1, 0.5, 1 / 3, 0, 0, 0, 0.4])
    assert np.isnan(iou[5])
    # the kit's overlap: ends put in order first ([8,2] -> [2,8]: 6/10), hull as denominator
    ov = thumos_overlap(gt, pred)[0]
    np.testing.assert_allclose(ov, [1, 0.5, 1 / 3, 0, 0.6, 0, 0, 0.4])
    np.testing.assert_array_equal(segment_iou_pairs(pred, np.repeat(gt, 8, axis=0)), iou)
    np.testing.assert_array_equal(thumos_overlap_pairs(np.repeat(gt, 8, axis=0), pred), ov)
    assert segment_iou(np.zeros((0, 2)), gt).shape == (0, 1)
    np.testing.assert_array_equal(
        any_positive_overlap(pred, np.array([[9.0, 9.5]])),
        [True, False, True, False, False, False, False, True],
    )


def test_threshold_hits_are_the_references_doubles():
    # ActivityNet computes (e1 - s1) + (e2 - s2) - inter; the kit iw / (max - min)
    assert thumos_overlap_pairs([[0, 10]], [[0, 3]])[0] == 0.3
    assert segment_iou_pairs([[1.1, 3.53]], [[0.2, 3.5]])[0] == 2.4 / (
        (3.5 - 0.2) + (3.53 - 1.1) - 2.4
    )


@pytest.mark.parametrize("seed", range(5))
def test_intersecting_pairs_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = 300, 200
    ga, gb = rng.integers(0, 7, n), rng.integers(0, 7, m)
    a = np.round(rng.uniform(0, 100, (n, 2)), 1)  # some reversed, some zero length
    b = np.round(rng.uniform(0, 100, (m, 2)), 1)
    b[:5] = [[0, 1000], [3, 3], [50, 40], [10, 20], [10, 20]]  # a very long one, duplicates
    ia, ib = intersecting_pairs(ga, a[:, 0], a[:, 1], gb, b[:, 0], b[:, 1])
    got = set(zip(ia.tolist(), ib.tolist(), strict=True))
    want = {
        (i, j)
        for i in range(n)
        for j in range(m)
        if ga[i] == gb[j] and min(a[i, 1], b[j, 1]) > max(a[i, 0], b[j, 0])
    }
    assert got == want and len(got) == len(ia)
    assert (np.diff(ia) >= 0).all()
    e = np.zeros(0)
    assert [len(x) for x in intersecting_pairs(e, e, e, gb, b[:, 0], b[:, 1])] == [0, 0]


def test_parse_thresholds_exact_decimals():
    assert parse_thresholds("0.1:0.7:0.1") == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    assert parse_thresholds("0.3")[0] == 0.3 != 0.1 * 3
    assert parse_thresholds("0.5, 0.3,0.7") == (0.5, 0.3, 0.7)
    assert parse_thresholds("0.5:0.95:0.05")[-1] == 0.95
    assert parse_thresholds("0.1:0.3:0.1,0.5") == (0.1, 0.2, 0.3, 0.5)
    assert parse_thresholds([0.5, 0.75]) == (0.5, 0.75) and parse_thresholds(0.5) == (0.5,)
    assert parse_thresholds("0") == (0.0,) and parse_thresholds("1") == (1.0,)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "threshold list is empty"),
        ("0.1,,0.3", "is not a number"),
        ("a", "'a' is not a number"),
        ("0.1:0.5", "expected start:stop:step"),
        ("0.5:0.1:-0.1", "step must be positive"),
        ("0.1:0.5:0", "step must be positive"),
        ("1.2", "threshold 1.2 is outside [0, 1]"),
        ("-0.1", "outside [0, 1]"),
        ("nan", "not a finite number"),
    ],
)
def test_parse_thresholds_errors(spec, message):
    with pytest.raises(InputError) as exc:
        parse_thresholds(spec)
    assert message in str(exc.value)
