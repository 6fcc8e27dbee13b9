"""A grey video and AttentionOutputs whose hot region is known, for the page tests."""

from __future__ import annotations

import numpy as np

from attnviz.types import AttentionOutput, GTTube

CLASSES = ("walk", "run", "jump", "swim", "ride", "climb")
GRID = (8, 8)


def grey_video(path, n: int = 64, width: int = 160, height: int = 120, fps: float = 25.0):
    """A video of ``n`` uniform grey frames (the heatmap's colours are then easy to read)."""
    from attnviz.io.video_writer import write_video

    frame = np.full((height, width, 3), 128, dtype=np.uint8)
    return write_video(path, (frame for _ in range(n)), fps)


def hot_output(
    corner: str = "top-left",
    *,
    t: int = 16,
    n_source: int = 64,
    fps: float = 25.0,
    size: tuple[int, int] = (120, 160),
    video: str = "grey",
) -> AttentionOutput:
    """``t`` uniformly sampled frames of an ``n_source``-frame video; the mask is 1 on the
    quarter of the grid at ``corner`` (``top-left`` or ``bottom-right``) and 0 elsewhere; the
    importance rises over the second half; class ``run`` wins."""
    idx = np.linspace(0, n_source - 1, t).round().astype(np.int64)
    mask = np.zeros((t, *GRID), dtype=np.float32)
    h, w = GRID[0] // 2, GRID[1] // 2
    if corner == "top-left":
        mask[:, :h, :w] = 1.0
    elif corner == "bottom-right":
        mask[:, h:, w:] = 1.0
    else:
        raise ValueError(corner)
    imp = np.where(np.arange(t) >= t // 2, 1.0, 0.1).astype(np.float32)
    temporal = np.tile(imp / imp.sum(), (t, 1)).astype(np.float32)
    scores = np.array([0.1, 0.6, 0.1, 0.1, 0.05, 0.05], dtype=np.float32)
    return AttentionOutput(
        frame_indices=idx + 1,
        timestamps=idx / fps,
        frame_size=size,
        mask=mask,
        temporal=temporal,
        frame_importance=imp,
        scores=scores,
        class_names=CLASSES,
        video=video,
        fps=fps,
    )


def gt_tube(out: AttentionOutput) -> GTTube:
    """A ground-truth box on every sampled frame: the top-left quarter of the frame."""
    h, w = out.frame_size
    rows = [[f, 0, 0, w / 2 - 1, h / 2 - 1] for f in out.frame_indices]
    return GTTube(1, np.asarray(rows, dtype=np.float64))
