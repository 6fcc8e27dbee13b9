"""Deletion / insertion curves with a linear 'model' whose curves are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.metrics import (
    auc,
    deletion_curve,
    insertion_curve,
    mean_curve,
    perturbation_order,
    random_order_curves,
    step_counts,
)

W = np.array([4.0, 3.0, 2.0, 1.0]) / 10.0


def linear_score(keep: np.ndarray) -> np.ndarray:
    """The 'class probability' is the weight of the units kept."""
    return keep.reshape(len(keep), -1).astype(np.float64) @ W


def test_deletion_and_insertion_of_the_true_importance():
    d = deletion_curve(W, linear_score)
    assert np.allclose(d.fractions, [0, 0.25, 0.5, 0.75, 1])
    assert np.allclose(d.scores, [1.0, 0.6, 0.3, 0.1, 0.0])
    assert d.auc == pytest.approx(0.375)
    i = insertion_curve(W, linear_score)
    assert np.allclose(i.scores, [0.0, 0.4, 0.7, 0.9, 1.0])
    assert i.auc == pytest.approx(0.625)


def test_reversed_importance_is_less_faithful():
    d = deletion_curve(-W, linear_score)
    i = insertion_curve(-W, linear_score)
    assert d.auc == pytest.approx(0.25 * (0.95 + 0.8 + 0.55 + 0.2))
    assert d.auc > 0.375 and i.auc < 0.625


def test_batching_does_not_change_the_curve():
    a = deletion_curve(W, linear_score, batch=1)
    b = deletion_curve(W, linear_score, batch=16)
    assert np.allclose(a.scores, b.scores, rtol=0, atol=1e-12)


def test_multi_dimensional_units_and_steps():
    w2 = np.arange(12, dtype=np.float64).reshape(3, 4)

    def score(keep):
        return keep.reshape(len(keep), -1) @ w2.ravel() / w2.sum()

    d = deletion_curve(w2, score, steps=4)
    assert np.array_equal(step_counts(12, 4), [0, 3, 6, 9, 12])
    assert np.allclose(d.fractions, [0, 0.25, 0.5, 0.75, 1])
    # the three largest (11, 10, 9) go first
    assert d.scores[1] == pytest.approx(1 - 30 / 66)


def test_random_order_of_a_linear_model_is_the_diagonal():
    w = np.ones(20) / 20

    def score(keep):
        return keep.astype(np.float64) @ w

    d, i = random_order_curves((20,), score, repeats=5, seed=3)
    assert np.allclose(d.scores, 1 - d.fractions)
    assert d.auc == pytest.approx(0.5) and i.auc == pytest.approx(0.5)
    # on a model with unequal weights a random order sits between best and worst
    d2, _ = random_order_curves((4,), linear_score, repeats=400, seed=0)
    assert 0.375 < d2.auc < 0.625
    assert d2.auc == pytest.approx(0.5, abs=0.02)


def test_ties_are_broken_randomly_but_reproducibly():
    flat = np.zeros(10)
    o1 = perturbation_order(flat, seed=1)
    assert sorted(o1.tolist()) == list(range(10))
    assert np.array_equal(o1, perturbation_order(flat, seed=1))
    assert not np.array_equal(o1, perturbation_order(flat, seed=2))
    # strict order is respected whatever the seed
    assert perturbation_order(np.array([0.1, 0.9, 0.5]), seed=7).tolist() == [1, 2, 0]


def test_mean_curve_and_auc():
    a = deletion_curve(W, linear_score)
    b = deletion_curve(-W, linear_score)
    m = mean_curve([a, b])
    assert np.allclose(m.scores, (a.scores + b.scores) / 2)
    assert m.auc == pytest.approx((a.auc + b.auc) / 2)
    c = deletion_curve(np.arange(8.0), lambda k: k.astype(float).mean(axis=1))
    mixed = mean_curve([a, c])
    assert len(mixed.fractions) == 21
    assert auc(np.array([0.0, 1.0]), np.array([1.0, 1.0])) == 1.0


def test_bad_input_raises():
    with pytest.raises(ValueError, match="shape"):
        deletion_curve(W, lambda k: np.zeros(1))
    with pytest.raises(ValueError, match="permutation"):
        deletion_curve(W, linear_score, order=np.array([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="NaN"):
        perturbation_order(np.array([np.nan, 1.0]))
