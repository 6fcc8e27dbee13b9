"""Frames from either a video file or a folder of JPEG frames (the layout many datasets ship:
``<video>/00001.jpg``, ``<video>/img_00001.jpg``, ...).

A frame folder's frames are its image files (``.jpg``, ``.jpeg``, ``.png``) in natural order of the
number in their names (``img_2`` before ``img_10``); frame ``i`` (0-based) is the ``i``-th file.
Its frame rate is unknown: ``fps`` (default 25) is used for timestamps.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError

__all__ = ["IMAGE_EXTENSIONS", "list_frame_files", "probe_source", "read_source_frames"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _natural_key(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def list_frame_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files of a frame folder in frame order.

    Raises:
        AttnvizError: the folder holds no image.
    """
    base = Path(folder)
    files = [p for p in base.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    if not files:
        raise AttnvizError(f"{base}: no frame images ({', '.join(IMAGE_EXTENSIONS)}) in the folder")
    return sorted(files, key=lambda p: _natural_key(p.name))


def probe_source(path: str | os.PathLike[str], fps: float = 25.0) -> tuple[int, float, tuple]:
    """``(num_frames, fps, (H, W))`` of a video file (frames that really decode) or a frame
    folder (its image count; the size of its first image; ``fps`` as given)."""
    import cv2

    p = Path(path)
    if p.is_dir():
        files = list_frame_files(p)
        first = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)
        if first is None:
            raise AttnvizError(f"{files[0]}: not a readable image")
        return len(files), float(fps), (int(first.shape[0]), int(first.shape[1]))
    from attnviz.io.video import probe

    info = probe(p)
    return info.num_frames, info.fps, (info.height, info.width)


def read_source_frames(path: str | os.PathLike[str], indices: Sequence[int]) -> np.ndarray:
    """``ndarray[n, H, W, 3] uint8`` RGB of the 0-based ``indices`` (ascending, repeats
    allowed) from a video file (streamed, sequential) or a frame folder.

    Raises:
        AttnvizError: a frame that cannot be read (the message names the file), or frames of
            different sizes in one folder.
    """
    import cv2

    p = Path(path)
    if not p.is_dir():
        from attnviz.io.video import read_frames

        return read_frames(p, indices)
    files = list_frame_files(p)
    out = []
    cache: dict[int, np.ndarray] = {}
    for i in indices:
        i = int(i)
        if not 0 <= i < len(files):
            raise AttnvizError(f"{p}: frame {i + 1} asked for, the folder has {len(files)}")
        if i not in cache:
            bgr = cv2.imread(str(files[i]), cv2.IMREAD_COLOR)
            if bgr is None:
                raise AttnvizError(f"{files[i]}: not a readable image")
            cache = {i: cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)}
        if out and cache[i].shape != out[0].shape:
            raise AttnvizError(
                f"{files[i]}: size {cache[i].shape[:2]} differs from the first frame's "
                f"{out[0].shape[:2]}"
            )
        out.append(cache[i])
    if not out:
        raise AttnvizError(f"{p}: no frame asked for")
    return np.stack(out)
