"""Where the backbone's feature cells lie in the frame, and that boxes are placed there.

A torchvision ResNet centres feature cell ``i`` on input pixel ``stride * i``; bilinear
upsampling with ``align_corners=False`` assumes ``(i + 0.5) * stride - 0.5``. Without the
correction every box lies ``stride / 2 - 0.5`` input pixels right of and below the place the
network looked (the systematic offset of the paper model's boxes, issue 15).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attnviz.io.maps import load_attention, save_attention
from attnviz.localize import LocalizeParams, boxes_from_attention, mask_to_box, upsample_mask
from attnviz.models.backbone import build_backbone, feature_grid_offset
from attnviz.types import AttentionOutput


@pytest.mark.parametrize("stage", [1, 2])
def test_resnet_cells_are_centred_where_the_offset_says(stage):
    """The centroid of an output cell's input gradient (its effective receptive field) lies
    on input pixel ``stride * i``, as ``feature_grid_offset`` says, within half a pixel (a cell
    near the middle, whose receptive field the image border does not cut)."""
    torch.manual_seed(0)
    trunk, _ = build_backbone("resnet18", weights=None, random_init=True, stage=stage)
    trunk.eval()
    size = 112
    x = torch.randn(1, 3, size, size, requires_grad=True)
    y = trunk(x)
    h = y.shape[-1]
    stride = size // h
    i, j = h // 2 - 1, h // 2
    (g,) = torch.autograd.grad(y[0, :, i, j].sum(), x)
    a = g.abs().sum(1)[0].double()
    ys = torch.arange(size, dtype=torch.float64)
    cy = float((a.sum(1) * ys).sum() / a.sum())
    cx = float((a.sum(0) * ys).sum() / a.sum())
    off = feature_grid_offset(stage)
    expect = lambda k: (k + 0.5 + off) * stride - 0.5  # noqa: E731  bilinear rule + offset
    assert abs(cy - expect(i)) < 0.5 and abs(cx - expect(j)) < 0.5
    # without the offset the cell would be placed stride / 2 - 0.5 pixels off
    assert abs(cx - ((j + 0.5) * stride - 0.5)) > stride / 2 - 1


@pytest.mark.parametrize(
    "box", [(40.0, 30.0, 76.0, 66.0), (96.0, 12.0, 130.0, 50.0), (0.0, 60.0, 30.0, 110.0)]
)
def test_mask_on_the_cells_covering_a_box_gives_back_the_box(box):
    """A mask equal to 1 on exactly the cells whose centres lie inside a known box (and 0
    elsewhere) gives back that box within one cell, with the cells placed by the offset."""
    size, frame = 112, (120, 160)  # the model's input, the source frame (H, W)
    stride, h = 8, 14
    off = feature_grid_offset(2)
    sy, sx = frame[0] / size, frame[1] / size
    # centres of the cells in source pixels
    cy = ((np.arange(h) + 0.5 + off) * stride - 0.5 + 0.5) * sy - 0.5
    cx = ((np.arange(h) + 0.5 + off) * stride - 0.5 + 0.5) * sx - 0.5
    x1, y1, x2, y2 = box
    mask = np.zeros((h, h), np.float32)
    mask[np.ix_((cy >= y1) & (cy <= y2 - 1), (cx >= x1) & (cx <= x2 - 1))] = 1.0
    res = mask_to_box(mask, frame, LocalizeParams(), offset=(off, off))
    assert res is not None
    got = np.array(res[0])
    cell = np.array([stride * sx, stride * sy, stride * sx, stride * sy])
    assert np.all(np.abs(got - np.array(box)) <= cell), (got, box)
    # the box's centre is within a quarter cell where the cells are whole inside the frame
    if box[0] > 0:
        centre = (got[:2] + got[2:]) / 2 - (np.array(box[:2]) + np.array(box[2:])) / 2
        assert np.all(np.abs(centre) <= cell[:2] / 2)


def test_offset_moves_the_upsampled_map_by_that_many_cells():
    m = np.zeros((8, 8), np.float32)
    m[3, 4] = 1.0
    up0 = upsample_mask(m, (64, 64))
    up1 = upsample_mask(m, (64, 64), (-0.5, -0.25))
    y0, x0 = np.unravel_index(np.argmax(up0), up0.shape)
    y1, x1 = np.unravel_index(np.argmax(up1), up1.shape)
    assert (y0 - y1, x0 - x1) == (4, 2)  # 0.5 and 0.25 cells of 8 pixels
    assert np.array_equal(upsample_mask(m, (64, 64), (0.0, 0.0)), up0)


def _out(offset):
    t, h = 3, 14
    mask = np.zeros((t, h, h), np.float32)
    mask[:, 5:8, 6:9] = 1.0
    return AttentionOutput(
        frame_indices=np.array([1, 5, 9]),
        timestamps=np.array([0.0, 0.16, 0.32]),
        frame_size=(120, 160),
        mask=mask,
        temporal=np.full((t, t), 1 / t, np.float32),
        frame_importance=np.ones(t, np.float32),
        scores=np.array([0.9, 0.1], np.float32),
        class_names=("a", "b"),
        video="v",
        fps=25.0,
        grid_offset=offset,
    )


def test_boxes_follow_the_outputs_grid_offset_and_maps_files_keep_it(tmp_path):
    off = feature_grid_offset(2)
    plain = boxes_from_attention(_out((0.0, 0.0)))
    placed = boxes_from_attention(_out((off, off)))
    dx = placed[0].x1 - plain[0].x1
    dy = placed[0].y1 - plain[0].y1
    # -0.4375 cells of 160 / 14 and 120 / 14 pixels, to the pixel
    assert dx == pytest.approx(off * 160 / 14, abs=1) and dx < 0
    assert dy == pytest.approx(off * 120 / 14, abs=1) and dy < 0
    path = save_attention(tmp_path / "maps.npz", _out((off, off)))
    back = load_attention(path)
    assert back.grid_offset == (off, off)
    assert boxes_from_attention(back) == placed


def test_grid_offset_is_checked():
    with pytest.raises(ValueError, match="grid_offset"):
        _out((1.5, 0.0))
