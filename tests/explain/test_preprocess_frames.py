"""Frame preprocessing: the backbone's input size and ImageNet normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attnviz.data import preprocess
from attnviz.models import IMAGENET_MEAN, IMAGENET_STD


def test_normalisation_of_a_flat_frame():
    frames = np.zeros((2, 10, 12, 3), dtype=np.uint8)
    frames[1] = (255, 128, 0)
    x = preprocess(frames, 8)
    assert x.shape == (2, 3, 8, 8) and x.dtype == torch.float32
    for c in range(3):
        assert x[0, c].flatten().unique().tolist() == pytest.approx(
            [-IMAGENET_MEAN[c] / IMAGENET_STD[c]]
        )
    assert x[1, 0, 0, 0].item() == pytest.approx((1.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0])
    assert x[1, 1, 0, 0].item() == pytest.approx((128 / 255 - IMAGENET_MEAN[1]) / IMAGENET_STD[1])


def test_resize_is_within_one_gray_level_of_float_antialiased_bilinear():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 48, 64, 3), dtype=np.uint8)
    got = preprocess(frames, 16, chunk=2)
    ref = F.interpolate(
        torch.from_numpy(frames).permute(0, 3, 1, 2).float(),
        size=(16, 16),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255
    assert ((got * std + mean) - ref).abs().max().item() <= 1.0
    assert torch.equal(preprocess(frames, 16, chunk=64), got)  # chunking changes nothing


def test_bad_frames():
    with pytest.raises(ValueError, match="uint8"):
        preprocess(np.zeros((1, 4, 4, 3), np.float32), 4)
    with pytest.raises(ValueError, match=r"\[n, H, W, 3\]"):
        preprocess(np.zeros((4, 4, 3), np.uint8), 4)
