"""Writing videos with OpenCV, atomically (a temporary file renamed into place).

The codec follows the file's extension unless one is named: ``.mp4`` / ``.mov`` / ``.mkv``
mp4v, ``.avi`` MJPG (the first of a short list that this OpenCV build can open).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.io.atomic import atomic_path

__all__ = ["VideoWriter", "open_video_writer", "write_video"]

_CODECS = {
    ".mp4": ("mp4v", "avc1"),
    ".mov": ("mp4v", "avc1"),
    ".avi": ("MJPG", "XVID"),
    ".mkv": ("mp4v", "MJPG"),
}


class VideoWriter:
    """Append RGB frames to a video opened lazily on the first frame (its size fixes the
    video's); use :func:`open_video_writer` to get one that is renamed into place on success."""

    def __init__(self, path: str | os.PathLike[str], fps: float, codec: str | None = None) -> None:
        if codec is not None and len(codec) != 4:
            raise ValueError(f"codec must be a four-character code like 'mp4v', got {codec!r}")
        self.path = Path(path)
        self.codec = codec
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self._writer = None
        self.count = 0
        self.size: tuple[int, int] | None = None

    def _open(self, width: int, height: int) -> None:
        import cv2

        if self.codec is not None:
            codecs: tuple[str, ...] = (self.codec,)
        else:
            codecs = _CODECS.get(self.path.suffix.lower(), ("mp4v",))
        for code in codecs:
            w = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*code), self.fps, (width, height)
            )
            if w.isOpened():
                self._writer = w
                return
            w.release()
        raise AttnvizError(
            f"{self.path}: cannot write a {self.path.suffix!r} video with codec "
            f"{' or '.join(codecs)} (unsupported by this OpenCV build, or folder not writable)"
        )

    def write(self, frame: np.ndarray) -> None:
        """Append one ``ndarray[H, W, 3] uint8`` RGB frame (same size as the first)."""
        import cv2

        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frames must be [H, W, 3] uint8 RGB, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        if self._writer is None:
            self._open(w, h)
            self.size = (h, w)
        elif self.size != (h, w):
            raise ValueError(f"frame size {(h, w)} differs from the video's {self.size}")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.count += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


@contextlib.contextmanager
def open_video_writer(
    path: str | os.PathLike[str], fps: float, codec: str | None = None
) -> Iterator[VideoWriter]:
    """``with open_video_writer("out.mp4", 10) as w: w.write(frame)``: the file appears only
    when the block ends without error and at least one frame was written."""
    with atomic_path(path) as tmp:
        writer = VideoWriter(tmp, fps, codec)
        try:
            yield writer
        finally:
            writer.close()
        if writer.count == 0:
            raise AttnvizError(f"{path}: no frame to write")


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    fps: float,
    codec: str | None = None,
) -> Path:
    """Write ``frames`` (``ndarray[H, W, 3] uint8`` RGB each) as a video, atomically, with
    ``codec`` (a four-character code) or the extension's default."""
    with open_video_writer(path, fps, codec) as w:
        for f in frames:
            w.write(np.ascontiguousarray(f))
    return Path(path)
