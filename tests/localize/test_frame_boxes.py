"""Boxes on every frame of the action: interpolation between the sampled frames' boxes."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.evaluate.ucf24 import frame_map
from attnviz.localize import LocalizeParams, boxes_from_attention
from attnviz.types import (
    AttentionOutput,
    FrameDetections,
    GTTube,
    SpatialGroundTruth,
    VideoAnnotation,
)


def _out(frames, blobs, size=(80, 80)):
    """Masks 8x8 with a block of ones at ``blobs[t] = (row, col)`` (``None``: empty mask)."""
    t = len(frames)
    mask = np.zeros((t, 8, 8), np.float32)
    for i, b in enumerate(blobs):
        if b is not None:
            mask[i, b[0] : b[0] + 2, b[1] : b[1] + 2] = 1.0
    return AttentionOutput(
        frame_indices=np.asarray(frames),
        timestamps=(np.asarray(frames) - 1) / 25.0,
        frame_size=size,
        mask=mask,
        temporal=np.full((t, t), 1 / t, np.float32),
        frame_importance=np.ones(t, np.float32),
        scores=np.array([0.8, 0.2], np.float32),
        class_names=("a", "b"),
        video="v",
        fps=25.0,
    )


def test_frames_between_two_sampled_boxes_are_interpolated():
    out = _out([1, 5, 9], [(0, 0), (0, 4), (4, 4)])
    sampled = boxes_from_attention(out, LocalizeParams(frame_boxes="sampled"))
    dense = boxes_from_attention(out)  # the default
    assert [b.frame for b in sampled] == [1, 5, 9]
    assert [b.frame for b in dense] == list(range(1, 10))
    by = {b.frame: b for b in dense}
    a, b = by[1], by[5]
    for f in (2, 3, 4):
        w = (f - 1) / 4
        assert by[f].x1 == pytest.approx(a.x1 + w * (b.x1 - a.x1))
        assert by[f].x2 == pytest.approx(a.x2 + w * (b.x2 - a.x2))
        assert by[f].y1 == pytest.approx(a.y1) and by[f].label == a.label
        assert by[f].score == pytest.approx(a.score + w * (b.score - a.score))
    # the sampled frames' boxes are the same in both modes
    assert [by[s.frame] for s in sampled] == sampled


def test_a_sampled_frame_without_a_box_stops_the_interpolation():
    out = _out([1, 5, 9, 13], [(0, 0), None, (2, 2), (2, 4)])
    dense = boxes_from_attention(out)
    assert [b.frame for b in dense] == [1, 9, 10, 11, 12, 13]


def test_repeated_frames_of_a_short_video_give_one_box_each():
    out = _out([1, 1, 2, 2, 4], [(0, 0)] * 5)
    dense = boxes_from_attention(out)
    assert [b.frame for b in dense] == [1, 2, 3, 4]
    # the paper's rule keeps one box per sampled frame, repeats included
    assert len(boxes_from_attention(out, LocalizeParams(frame_boxes="sampled"))) == 5


def test_frame_map_over_every_annotated_frame_is_not_capped_by_the_sampling():
    """Ground truth on all 9 frames, a box that matches it on the sampled frames: the sampled
    boxes find 3 of 9 ground-truth boxes, the interpolated ones all of them."""
    out = _out([1, 5, 9], [(2, 2), (2, 2), (2, 2)])
    box = boxes_from_attention(out)[0]
    rows = np.array([[f, box.x1, box.y1, box.x2, box.y2] for f in range(1, 10)], np.float64)
    gt = SpatialGroundTruth(
        labels=("a",),
        videos={"v": VideoAnnotation(0, 9, (GTTube(0, rows),), (80, 80))},
        train_videos=(),
        test_videos=("v",),
        source="test",
    )
    sampled = boxes_from_attention(out, LocalizeParams(frame_boxes="sampled"))
    dense = boxes_from_attention(out)
    ap_s = frame_map(gt, FrameDetections.from_boxes(sampled), iou=(0.5,)).mAP[0]
    ap_d = frame_map(gt, FrameDetections.from_boxes(dense), iou=(0.5,)).mAP[0]
    assert ap_d == pytest.approx(1.0)
    assert ap_s == pytest.approx(3 / 9, abs=0.02)


def test_frame_boxes_is_checked():
    with pytest.raises(ValueError, match="frame_boxes"):
        LocalizeParams(frame_boxes="every")
