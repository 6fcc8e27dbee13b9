"""Videos made by the tests: frame ``i`` shows ``i`` in binary as eight black/white blocks, so
that a decoded frame says which source frame it is whatever the codec's losses."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


def coded_frame(i: int, width: int, height: int) -> np.ndarray:
    """``[height, width, 3] uint8`` BGR showing ``i`` (0..255) as 8 blocks across the top half."""
    img = np.full((height, width, 3), 128, dtype=np.uint8)
    bw = width // 8
    for b in range(8):
        img[: height // 2, b * bw : (b + 1) * bw] = 255 if (i >> b) & 1 else 0
    return img


def read_code(rgb: np.ndarray) -> int:
    """The number :func:`coded_frame` drew, read back from a decoded frame."""
    h, w = rgb.shape[:2]
    bw = w // 8
    value = 0
    for b in range(8):
        block = rgb[h // 8 : 3 * h // 8, b * bw + bw // 4 : (b + 1) * bw - bw // 4]
        if block.mean() > 128:
            value |= 1 << b
    return value


def write_coded(path: Path, fourcc: str, n: int, width: int, height: int, fps: float = 10.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        pytest.skip(f"this OpenCV build cannot write {fourcc} into {path.suffix}")
    for i in range(n):
        writer.write(coded_frame(i, width, height))
    writer.release()
    return path


@pytest.fixture(name="read_code")
def read_code_fixture():
    """The :func:`read_code` function (fixtures, not imports: every area has a conftest)."""
    return read_code


@pytest.fixture(name="coded_frame")
def coded_frame_fixture():
    return coded_frame


@pytest.fixture
def make_video(tmp_path):
    """``make_video(name, fourcc="MJPG", n=13, width=64, height=48, fps=10.0) -> Path``."""

    def make(name="clip.avi", fourcc="MJPG", n=13, width=64, height=48, fps=10.0):
        return write_coded(tmp_path / name, fourcc, n, width, height, fps)

    return make
