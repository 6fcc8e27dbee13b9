"""A small recognizer checkpoint (resnet18, random init, 64 px input, narrow head) and videos
of a bright square moving over a dark background, written by the tests."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

CLASSES = ("walk", "run", "jump")


def moving_square(i: int, width: int, height: int) -> np.ndarray:
    """Frame ``i`` (BGR): a bright square whose position follows ``i``; the top-left pixel
    holds ``i`` so that frames can be told apart."""
    img = np.full((height, width, 3), 30, dtype=np.uint8)
    s = max(4, min(width, height) // 4)
    x = (i * 3) % max(1, width - s)
    y = (i * 2) % max(1, height - s)
    img[y : y + s, x : x + s] = (40, 200, 240)
    return img


def write_video(path, n=30, width=64, height=48, fps=10.0, fourcc="mp4v"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        pytest.skip(f"this OpenCV build cannot write {fourcc} into {path.suffix}")
    for i in range(n):
        writer.write(moving_square(i, width, height))
    writer.release()
    return path


@pytest.fixture(scope="session")
def small_model():
    import torch

    from attnviz.models import build_recognizer

    torch.manual_seed(0)
    model = build_recognizer(
        "resnet18", len(CLASSES), weights=None, random_init=True, class_names=CLASSES,
        input_size=64, spatial_widths=(16, 8), hidden_channels=16, energy_dim=8,
    )  # fmt: skip
    return model.eval()


@pytest.fixture(scope="session")
def checkpoint(small_model, tmp_path_factory):
    from attnviz.models import save_checkpoint

    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "small.pt", small_model)


@pytest.fixture
def make_video(tmp_path):
    """``make_video(name="v.mp4", n=30, width=64, height=48, fps=10.0, fourcc="mp4v")``."""

    def make(name="v.mp4", **kw):
        return write_video(tmp_path / name, **kw)

    return make
