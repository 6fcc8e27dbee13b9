"""Tiny random-init recognizers and generated videos for the explanation-method tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch


def tiny_model(seed: int = 0, *, classes: int = 4, input_size: int = 64, **kw):
    """ResNet-18 trunk at 64x64 (a 2x2 feature grid) with a narrow attention head."""
    from attnviz.models import build_recognizer

    torch.manual_seed(seed)
    opts = dict(hidden_channels=16, spatial_widths=(16, 8), energy_dim=8, dropout=0.0)
    opts.update(kw)
    return build_recognizer(
        "resnet18",
        classes,
        weights=None,
        random_init=True,
        input_size=input_size,
        class_names=[f"class{k}" for k in range(classes)],
        **opts,
    ).eval()


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def frames():
    """Six 48x64 RGB frames: noise with a bright square that moves."""
    rng = np.random.default_rng(0)
    out = rng.integers(0, 120, size=(6, 48, 64, 3), dtype=np.uint8)
    for t in range(6):
        out[t, 10:26, 5 + 6 * t : 21 + 6 * t] = (240, 40, 40)
    return out


def write_video(path: Path, n: int, width: int = 64, height: int = 48, fps: float = 10.0) -> Path:
    """An MJPG .avi of ``n`` frames (a square moving over noise)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG .avi")
    rng = np.random.default_rng(1)
    for t in range(n):
        img = rng.integers(0, 120, size=(height, width, 3), dtype=np.uint8)
        x = (3 * t) % (width - 16)
        img[8:24, x : x + 16] = (40, 40, 240)
        writer.write(img)
    writer.release()
    return path


@pytest.fixture(name="tiny_model")
def tiny_model_fixture():
    return tiny_model


@pytest.fixture(name="write_video")
def write_video_fixture():
    return write_video
