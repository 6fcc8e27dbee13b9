"""Top-1 / top-5 accuracy (numpy only): hand-computed cases, ties, per class."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from attnviz.evaluate.classify import accumulate, classify_accuracy, match


def test_hand_computed_ranks_and_accuracy():
    scores = np.array(
        [
            [0.1, 0.7, 0.2],  # true 2: one class higher -> rank 1
            [0.9, 0.05, 0.05],  # true 0: rank 0
            [0.2, 0.3, 0.5],  # true 0: rank 2
            [0.6, 0.3, 0.1],  # true 1: rank 1
        ]
    )
    labels = np.array([2, 0, 0, 1])
    np.testing.assert_array_equal(match(scores, labels), [1, 0, 2, 1])
    r = classify_accuracy(scores, labels, ks=(1, 2, 3), class_names=["a", "b", "c"])
    np.testing.assert_allclose(r.accuracy, [0.25, 0.75, 1.0])
    assert r.top(2) == 0.75 and r.n == 4
    np.testing.assert_array_equal(r.counts, [2, 1, 1])
    np.testing.assert_allclose(r.per_class[:, 0], [0.5, 0.0, 0.0])
    np.testing.assert_allclose(r.mean_class_accuracy, [1 / 6, 5 / 6, 1.0])


def test_ties_are_broken_by_class_index_never_twice_correct():
    scores = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_array_equal(match(scores, np.array([0, 1])), [0, 1])
    assert classify_accuracy(scores, np.array([0, 1]), ks=(1,)).accuracy[0] == 0.5


def test_class_without_video_is_nan_and_left_out_of_the_class_mean():
    r = accumulate(np.array([0, 1]), np.array([0, 0]), 3, ks=(1,))
    assert np.isnan(r.per_class[1, 0]) and r.mean_class_accuracy[0] == 0.5
    d = r.to_dict()
    assert d["per_class"]["class_1"]["top1"] is None and d["accuracy"]["top1"] == 0.5


@pytest.mark.parametrize(
    ("scores", "labels", "msg"),
    [
        (np.zeros(3), np.zeros(3), r"\[N, K\]"),
        (np.zeros((2, 3)), np.zeros(3), "labels must be"),
        (np.zeros((2, 3)), np.array([0, 3]), r"\[0, 3\)"),
        (np.array([[np.nan, 1.0]]), np.array([0]), "NaN"),
    ],
)
def test_bad_input(scores, labels, msg):
    with pytest.raises(ValueError, match=msg):
        match(scores, labels)


def test_random_scores_agree_with_a_sort():
    rng = np.random.default_rng(0)
    s = rng.random((200, 12))
    y = rng.integers(0, 12, 200)
    order = np.argsort(-s, axis=1, kind="stable")
    ranks = np.array([np.flatnonzero(order[i] == y[i])[0] for i in range(200)])
    np.testing.assert_array_equal(match(s, y), ranks)


def test_classify_imports_neither_torch_nor_cv2():
    code = (
        "import sys, attnviz.evaluate.classify;"
        "print(','.join(m for m in ('torch', 'cv2', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
