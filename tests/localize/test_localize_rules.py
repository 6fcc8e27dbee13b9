"""Localization rules on hand-computed cases: masks -> boxes, weights -> importance ->
segments, boxes -> tubes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from attnviz.localize import (
    LocalizeParams,
    attention_importance,
    boxes_from_attention,
    frame_importance,
    mask_to_box,
    normalise_importance,
    runs,
    segment_bounds,
    segments_from_attention,
    segments_from_importance,
    stitch_importance,
    tubes_from_attention,
    upsample_mask,
    with_importance,
)
from attnviz.types import AttentionOutput


@pytest.mark.parametrize("src,dst", [((2, 2), (4, 4)), ((7, 7), (240, 320)), ((3, 5), (17, 9))])
def test_upsampling_is_opencv_bilinear(src, dst):
    rng = np.random.default_rng(0)
    m = rng.random(src).astype(np.float32)
    ref = cv2.resize(m, (dst[1], dst[0]), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(upsample_mask(m, dst), ref, atol=1e-5)


def test_box_of_a_corner_mask_by_hand():
    # 2x2 -> 4x4: the weights of the top-left value along each axis are 1, .75, .25, 0, so the
    # pixels above 0.5 are the top-left 2x2 (1, .75, .75, .5625), mean 0.765625.
    mask = np.array([[1.0, 0.0], [0.0, 0.0]])
    (box, score) = mask_to_box(mask, (4, 4), prob=0.8)
    assert box == (0.0, 0.0, 2.0, 2.0)
    assert score == pytest.approx(0.8 * 0.765625)
    assert mask_to_box(mask, (4, 4), LocalizeParams(box_score="prob"), prob=0.8)[1] == 0.8
    assert mask_to_box(mask, (4, 4), LocalizeParams(box_score="mean_mask"), prob=0.8)[
        1
    ] == pytest.approx(0.765625)


def test_threshold_is_strict_and_empty_frames_get_no_box():
    assert mask_to_box(np.full((7, 7), 0.5), (70, 70)) is None
    assert mask_to_box(np.zeros((7, 7)), (70, 70)) is None
    assert mask_to_box(np.ones((7, 7)), (70, 90))[0] == (0.0, 0.0, 90.0, 70.0)
    assert mask_to_box(np.full((7, 7), 0.3), (70, 70), LocalizeParams(threshold=0.2)) is not None


def test_normalisation_per_frame_and_per_clip():
    faint = np.full((4, 4), 0.1)
    faint[1:3, 1:3] = 0.3  # never above 0.5 as given
    assert mask_to_box(faint, (4, 4)) is None
    box, _ = mask_to_box(faint, (4, 4), LocalizeParams(mask_norm="frame"))
    assert box == (1.0, 1.0, 3.0, 3.0)
    # per clip: the clip's range (0.1, 0.9) leaves 0.3 at 0.25: below threshold
    assert (
        mask_to_box(faint, (4, 4), LocalizeParams(mask_norm="clip"), clip_range=(0.1, 0.9)) is None
    )
    assert mask_to_box(faint, (4, 4), LocalizeParams(mask_norm="clip"), clip_range=(0.1, 0.3))
    assert mask_to_box(np.full((4, 4), 0.7), (4, 4), LocalizeParams(mask_norm="frame")) is None


def test_largest_component():
    m = np.zeros((8, 8))
    m[0:2, 0:2] = 1.0  # 4 cells
    m[4:8, 5:8] = 1.0  # 12 cells
    assert mask_to_box(m, (8, 8))[0] == (0.0, 0.0, 8.0, 8.0)
    assert mask_to_box(m, (8, 8), LocalizeParams(largest_component=True))[0] == (5.0, 4.0, 8.0, 8.0)


def _out(mask, temporal=None, imp=None, frames=None, fps=10.0, scores=(0.2, 0.7, 0.1), **kw):
    t = len(mask)
    frames = np.arange(1, t + 1) if frames is None else np.asarray(frames)
    temporal = np.full((t, t), 1.0 / t) if temporal is None else temporal
    imp = frame_importance(temporal) if imp is None else np.asarray(imp)
    return AttentionOutput(
        frame_indices=frames,
        timestamps=(frames - 1) / fps,
        frame_size=(4, 4),
        mask=np.asarray(mask, dtype=np.float32),
        temporal=np.asarray(temporal, dtype=np.float32),
        frame_importance=imp.astype(np.float32),
        scores=np.asarray(scores, dtype=np.float32),
        class_names=tuple(f"c{k}" for k in range(len(scores))),
        video="v",
        fps=fps,
        **kw,
    )


def test_boxes_use_source_frame_numbers_and_the_top_class():
    corner = np.array([[1.0, 0.0], [0.0, 0.0]])
    out = _out([corner, np.zeros((2, 2)), corner], frames=[3, 8, 13])
    boxes = boxes_from_attention(out)
    assert [(b.frame, b.label) for b in boxes] == [(3, 1), (13, 1)]
    assert boxes[0].score == pytest.approx(0.7 * 0.765625)
    assert (boxes[0].x1, boxes[0].y1, boxes[0].x2, boxes[0].y2) == (0, 0, 2, 2)
    assert boxes_from_attention(out, LocalizeParams(class_index=2))[0].label == 2
    with pytest.raises(ValueError, match="out of range"):
        boxes_from_attention(out, LocalizeParams(class_index=3))


def test_importance_rules_by_hand():
    w = np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(frame_importance(w), [0.8 / 3, 0.8 / 3, 1.4 / 3])
    np.testing.assert_allclose(frame_importance(w, "max"), [0.5, 0.5, 0.8])
    np.testing.assert_allclose(frame_importance(w, "last"), [0.1, 0.1, 0.8])
    with pytest.raises(ValueError):
        frame_importance(w, "median")
    np.testing.assert_allclose(normalise_importance([1.0, 2.0, 3.0]), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(normalise_importance([1.0, 2.0, 4.0], "max"), [0.25, 0.5, 1.0])
    np.testing.assert_allclose(normalise_importance([2.0, 2.0]), [1.0, 1.0])  # flat: all on


def test_windows_are_stitched_by_mean_over_covering_windows():
    a = np.array([[0.5, 0.5], [0.5, 0.5]])  # frames 0, 1 -> 0.5, 0.5
    b = np.array([[0.0, 1.0], [0.0, 1.0]])  # frames 1, 2 -> 0.0, 1.0
    c = np.array([[1.0, 0.0], [0.6, 0.4]])  # frames 2, 3 -> 0.8, 0.2
    imp = stitch_importance(np.stack([a, b, c]), np.array([0, 1, 2]), 4)
    np.testing.assert_allclose(imp, [0.5, 0.25, 0.9, 0.2])
    with pytest.raises(ValueError, match="covered by no window"):
        stitch_importance(np.stack([a]), np.array([0]), 3)
    out = _out(np.zeros((4, 2, 2)), np.stack([a, b, c]), imp=np.zeros(4), window_starts=[0, 1, 2])
    np.testing.assert_allclose(attention_importance(out), [0.5, 0.25, 0.9, 0.2])
    np.testing.assert_allclose(with_importance(out, "last").frame_importance, [0.5, 0.25, 0.8, 0.4])


def test_runs_and_midpoint_bounds():
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 2), (4, 4)]
    assert runs(np.zeros(3, bool)) == []
    np.testing.assert_allclose(segment_bounds([0.0, 1.0, 2.0]), [0.0, 0.5, 1.5, 2.5])
    np.testing.assert_allclose(segment_bounds([1.0, 3.0]), [0.0, 2.0, 4.0])
    np.testing.assert_allclose(segment_bounds([1.0, 3.0], duration=3.5), [0.0, 2.0, 3.5])
    np.testing.assert_allclose(segment_bounds([2.0], frame_time=0.1), [2.0, 2.1])


def test_segments_by_hand():
    ts = np.arange(6) * 0.5  # 0, .5, ..., 2.5 s
    imp = np.array([0.0, 0.9, 1.0, 0.2, 0.8, 0.1])  # normalised: the same
    segs = segments_from_importance(imp, ts, prob=0.5)
    assert [(s, e, i, j) for s, e, _, i, j in segs] == [(0.25, 1.25, 1, 2), (1.75, 2.25, 4, 4)]
    assert segs[0][2] == pytest.approx(0.5 * 0.95) and segs[1][2] == pytest.approx(0.5 * 0.8)
    p = LocalizeParams(segment_score="mean_importance")
    assert segments_from_importance(imp, ts, p)[0][2] == pytest.approx(0.95)
    p = LocalizeParams(threshold=1.0)
    assert [(i, j) for *_, i, j in segments_from_importance(imp, ts, p)] == [(2, 2)]
    flat = segments_from_importance(np.ones(6), ts)
    assert [(s, e) for s, e, *_ in flat] == [(0.0, 2.75)]
    out = _out(np.zeros((6, 2, 2)), imp=imp, frames=np.arange(6) * 5 + 1)
    got = segments_from_attention(out)
    assert [(s.start, s.end, s.label) for s in got] == [(0.25, 1.25, 1), (1.75, 2.25, 1)]
    assert got[0].score == pytest.approx(0.7 * 0.95)


def test_tubes_interpolate_between_sampled_frames_and_split_on_gaps():
    left = np.zeros((2, 2))
    left[:, 0] = 1.0  # box x 0..2 (4x4 frame): (0, 0, 2, 4)
    right = np.zeros((2, 2))
    right[:, 1] = 1.0  # (2, 0, 4, 4)
    masks = [left, right, np.zeros((2, 2)), left, left]
    out = _out(masks, imp=np.ones(5), frames=[1, 3, 5, 7, 9])  # flat: one segment of all
    tubes = tubes_from_attention(out)
    assert len(tubes) == 2  # frame 5 has no box: it splits the tube
    t0 = tubes[0].boxes
    np.testing.assert_allclose(t0[:, 0], [1, 2, 3])
    np.testing.assert_allclose(t0[1, 1:], [1.0, 0.0, 3.0, 4.0])  # halfway between the boxes
    np.testing.assert_allclose(tubes[1].boxes[:, 0], [7, 8, 9])
    assert tubes[0].label == 1 and tubes[0].score == pytest.approx(
        np.mean([b.score for b in boxes_from_attention(out)][:2])
    )
    # the boxes a caller has already computed (with or without the interpolated ones) give
    # the same tubes
    for rule in ("interpolated", "sampled"):
        p = LocalizeParams(frame_boxes=rule)
        again = tubes_from_attention(out, boxes=boxes_from_attention(out, p))
        assert [(t.label, t.score) for t in again] == [(t.label, t.score) for t in tubes]
        assert all(np.array_equal(a.boxes, b.boxes) for a, b in zip(again, tubes, strict=True))


def test_params_validate():
    for bad in (
        {"threshold": 1.5},
        {"mask_norm": "global"},
        {"box_score": "max"},
        {"importance": "median"},
        {"importance_norm": "z"},
        {"stride": 30},
        {"class_index": -1},
    ):
        with pytest.raises(ValueError):
            LocalizeParams(**bad)
    assert LocalizeParams().replace(threshold=0.3).threshold == 0.3


def test_localize_imports_neither_torch_nor_plotting():
    import subprocess
    import sys

    code = (
        "import sys, attnviz.localize;"
        "print(','.join(m for m in ('torch', 'cv2', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
