"""Hand-made attention records for the figure and table tests (no model, no video decoding).

A module of its own (not conftest) so that test files import it by a name no other test folder
uses."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from attnviz.types import AttentionOutput, EvalResult  # noqa: E402

T, H, W = 10, 60, 80  # sampled frames, source frame size
FPS = 5.0


def make_output(video: str = "vid_a", label: int = 1) -> AttentionOutput:
    """Ten sampled frames (source frames 1, 3, ..., 19 of a 5 fps video, so 0.0, 0.4, ... 3.6 s)
    whose 8x8 mask is 1 on the top-left quarter of the frame and 0 elsewhere, with importance
    peaking on sampled frames 4..6; class ``Jump`` (index 1) has probability 0.7."""
    mask = np.zeros((T, 8, 8), dtype=np.float32)
    mask[:, :4, :4] = 1.0  # top-left quarter of the frame
    imp = np.array([0.0, 0.0, 0.0, 0.1, 1.0, 1.0, 1.0, 0.1, 0.0, 0.0], dtype=np.float32)
    imp = imp / imp.sum()
    temporal = np.tile(imp, (T, 1)).astype(np.float32)
    scores = np.array([0.1, 0.7, 0.2], dtype=np.float32)
    if label != 1:
        scores = np.roll(scores, label - 1)
    frame_indices = np.arange(T, dtype=np.int64) * 2 + 1  # source frames 1, 3, ..., 19
    return AttentionOutput(
        frame_indices=frame_indices,
        timestamps=(frame_indices - 1) / FPS,
        frame_size=(H, W),
        mask=mask,
        temporal=temporal,
        frame_importance=imp,
        scores=scores,
        class_names=("Walk", "Jump", "Run"),
        video=video,
        fps=FPS,
    )


def make_frames(out: AttentionOutput) -> list[np.ndarray]:
    """Solid colour frames: frame t has every channel equal to 20 * (t + 1)."""
    h, w = out.frame_size
    return [np.full((h, w, 3), 20 * (t + 1), dtype=np.uint8) for t in range(out.num_frames)]


def make_result(metric: str, thresholds, m_ap, protocol: str = "thumos14") -> EvalResult:
    m_ap = np.asarray(m_ap, dtype=np.float64)
    ap = np.stack([m_ap + 0.05, m_ap - 0.05])
    return EvalResult(metric, protocol, tuple(thresholds), ("Walk", "Jump"), ap, m_ap)
