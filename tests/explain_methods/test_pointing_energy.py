"""Localization metrics on hand-made maps whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.metrics import (
    box_mask,
    energy_in_boxes,
    energy_in_segments,
    energy_in_tube,
    pointing_game,
    temporal_pointing_game,
    threshold_sweep,
)


def test_box_mask_uses_pixel_centres():
    m = box_mask(np.array([[0, 0, 2, 2]]), (4, 4))
    expect = np.zeros((4, 4), dtype=bool)
    expect[:2, :2] = True
    assert (m == expect).all()
    # a box covering only half of pixel 2 does not take its centre (2.5)
    assert box_mask(np.array([[0, 0, 2.4, 1]]), (4, 4)).sum() == 2
    # two boxes: the union
    assert box_mask(np.array([[0, 0, 1, 1], [3, 3, 4, 4]]), (4, 4)).sum() == 2


def test_pointing_game_peak_of_upsampled_map():
    # 2x2 grid, maximum in the top-right cell; upsampled to 4x4 the single maximal pixel is
    # row 0, column 3 (bilinear with clamped edges): the point (3.5, 0.5)
    mask = np.array([[[0.0, 1.0], [0.0, 0.0]]] * 3)
    boxes = [np.array([[2, 0, 4, 2]]), np.array([[0, 0, 2, 2]]), None]
    hits = pointing_game(mask, (4, 4), boxes)
    assert hits[0] == 1.0 and hits[1] == 0.0 and np.isnan(hits[2])
    # 1.5 pixels of tolerance reach x = 3.5 exactly (edges included)
    assert pointing_game(mask[1:2], (4, 4), boxes[1:2], tolerance=1.5)[0] == 1.0
    assert pointing_game(mask[1:2], (4, 4), boxes[1:2], tolerance=1.4)[0] == 0.0


def test_pointing_game_flat_map_points_at_centre():
    flat = np.full((1, 3, 3), 0.2)
    assert pointing_game(flat, (10, 20), [np.array([[9, 4, 11, 6]])])[0] == 1.0
    assert pointing_game(flat, (10, 20), [np.array([[0, 0, 9, 4]])])[0] == 0.0


def test_energy_in_boxes_quarter_of_uniform_map():
    mask = np.stack([np.ones((4, 4)), np.zeros((4, 4)), np.ones((4, 4))])
    boxes = [np.array([[0, 0, 4, 4]]), np.array([[0, 0, 4, 4]]), None]
    e = energy_in_boxes(mask, (8, 8), boxes)
    assert e[0] == pytest.approx(0.25)
    assert e[1] == 0.0  # no mass at all: nothing inside
    assert np.isnan(e[2])
    # all the mass in the top-left cell of a 2x2 grid upsampled to 4x4: the map is the outer
    # product of (1, 3/4, 1/4, 0) with itself (mass 2 x 2); the top-left quadrant holds
    # (7/4)^2 of it: 49/64
    one = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    e1 = energy_in_boxes(one, (4, 4), [np.array([[0, 0, 2, 2]])])[0]
    assert e1 == pytest.approx(49 / 64)


def test_energy_in_tube_counts_frames_without_box_in_the_total():
    mask = np.ones((2, 4, 4))
    boxes = [np.array([[0, 0, 4, 4]]), None]
    assert energy_in_tube(mask, (8, 8), boxes) == pytest.approx(16 / 128)
    mask[1] = 0
    assert energy_in_tube(mask, (8, 8), boxes) == pytest.approx(0.25)
    assert energy_in_tube(np.zeros((2, 4, 4)), (8, 8), boxes) == 0.0


def test_energy_negative_values_carry_no_mass():
    mask = np.array([[[1.0, -5.0], [-5.0, -5.0]]])
    # same size: no interpolation; after clipping only the top-left pixel has mass
    e = energy_in_boxes(mask, (2, 2), [np.array([[0, 0, 1, 1]])])[0]
    assert e == pytest.approx(1.0)


def test_energy_in_segments_on_normalised_importance():
    imp = np.array([0.0, 1.0, 2.0, 3.0])  # min-max: 0, 1/3, 2/3, 1
    ts = np.array([0.0, 1.0, 2.0, 3.0])
    assert energy_in_segments(imp, ts, np.array([[1.5, 3.0]])) == pytest.approx((2 / 3 + 1) / 2)
    # "max" normalisation keeps the offset: (3, 4, 5, 6) / 6, frames 2 and 3 inside
    assert energy_in_segments(imp + 3, ts, np.array([[1.5, 3.0]]), norm="max") == pytest.approx(
        (5 + 6) / (3 + 4 + 5 + 6)
    )
    assert energy_in_segments(imp, ts, np.zeros((0, 2))) == 0.0
    # a flat curve is the whole video under min-max: mass spread evenly
    assert energy_in_segments(np.ones(4), ts, np.array([[0.0, 0.5]])) == pytest.approx(0.25)


def test_temporal_pointing_game():
    imp = np.array([0.0, 3.0, 3.0, 0.0])
    ts = np.array([0.0, 1.0, 2.0, 3.0])
    assert temporal_pointing_game(imp, ts, np.array([[1.0, 2.0]])) == 1.0  # moment 1.5
    assert temporal_pointing_game(imp, ts, np.array([[1.6, 3.0]])) == 0.0
    assert np.isnan(temporal_pointing_game(imp, ts, np.zeros((0, 2))))


def test_threshold_sweep_best_and_reference():
    res = threshold_sweep(lambda t: 1.0 - (t - 0.3) ** 2)
    assert res.best_threshold == pytest.approx(0.3)
    assert res.best_value == pytest.approx(1.0)
    assert res.reference_value == pytest.approx(1.0 - 0.04)
    assert len(res.thresholds) == 9
    # ties go to the threshold nearest the reference
    flat = threshold_sweep(lambda t: 0.7, [0.2, 0.4, 0.6, 0.8])
    assert flat.best_threshold == 0.4 and np.isnan(flat.reference_value)
    # NaN scores never win
    res2 = threshold_sweep(lambda t: float("nan") if t < 0.5 else t, [0.1, 0.5, 0.9])
    assert res2.best_threshold == 0.9


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="one box list per frame"):
        pointing_game(np.zeros((2, 2, 2)), (4, 4), [None])
    with pytest.raises(ValueError, match=r"\[k, 4\]"):
        energy_in_boxes(np.zeros((1, 2, 2)), (4, 4), [np.zeros((1, 3))])
    with pytest.raises(ValueError, match="timestamps"):
        energy_in_segments(np.zeros(3), np.zeros(4), np.zeros((0, 2)))
