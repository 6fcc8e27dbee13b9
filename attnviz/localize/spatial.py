"""Spatial masks -> boxes.

The rules (parameters in :class:`~attnviz.localize.LocalizeParams`):

1. upsample the mask ``[h, w]`` to the source frame ``(H, W)`` bilinearly, pixel centres
   aligned (as OpenCV's ``INTER_LINEAR`` and torch's ``align_corners=False``), each cell placed
   where the network centres it (``AttentionOutput.grid_offset``: a ResNet's cell ``i`` sits
   on input pixel ``stride * i``, not on the middle of its ``stride``-pixel block);
2. optionally normalise: min-max per frame, or min-max over the whole clip's masks;
3. threshold: pixels strictly above the threshold (paper: 0.5; a model may carry its own,
   :meth:`~attnviz.localize.LocalizeParams.for_output`) are *on*; a frame with no
   pixel on gets no box;
4. optionally keep only the largest 8-connected region of *on* pixels;
5. the box is the tightest one around the *on* pixels, in pixel-edge coordinates: a region
   spanning columns ``c0..c1`` and rows ``r0..r1`` gives ``(c0, r0, c1 + 1, r1 + 1)``;
6. score: the class probability times the mean of the (normalised) upsampled mask inside the
   box (default), the probability alone, or the mean alone.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from attnviz.localize.params import LocalizeParams

__all__ = ["mask_to_box", "upsample_mask"]


def upsample_mask(
    mask: np.ndarray, size: tuple[int, int], offset: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """Bilinear upsampling of ``mask [h, w]`` to ``size = (H, W)`` with pixel centres aligned
    (``align_corners=False``, as OpenCV's ``INTER_LINEAR`` and torch's default), cell ``i``
    centred on pixel ``(i + 0.5 + offset) * H / h - 0.5`` (``offset = (dy, dx)`` in cells,
    :attr:`attnviz.types.AttentionOutput.grid_offset`; beyond the outer cells' centres the
    edge value is kept). A mask already of size ``(H, W)`` with no offset comes back as it is
    (a copy), so a caller can upsample once and pass the result on.

    Returns:
        ndarray[H, W] float32.
    """
    m = np.asarray(mask, dtype=np.float32)
    h, w = m.shape
    big_h, big_w = size
    if (h, w) == (big_h, big_w) and not any(offset):
        return m.copy()  # what the rule gives at scale 1: every pixel on its own centre

    def axis(n_in: int, n_out: int, off: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5 - off
        x = np.clip(x, 0, n_in - 1)
        lo = np.floor(x).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (x - lo).astype(np.float32)

    y0, y1, fy = axis(h, big_h, float(offset[0]))
    x0, x1, fx = axis(w, big_w, float(offset[1]))
    rows = m[y0] * (1 - fy)[:, None] + m[y1] * fy[:, None]  # [H, w]
    return rows[:, x0] * (1 - fx)[None, :] + rows[:, x1] * fx[None, :]


def _normalise(m: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def mask_to_box(
    mask: np.ndarray,
    frame_size: tuple[int, int],
    params: LocalizeParams = LocalizeParams(),
    *,
    clip_range: tuple[float, float] | None = None,
    prob: float = 1.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> tuple[tuple[float, float, float, float], float] | None:
    """The box of one frame's mask.

    Args:
        mask (ndarray[h, w]): importance in [0, 1] on the feature grid.
        frame_size: source ``(H, W)``.
        params: threshold, normalisation, largest component, score rule.
        clip_range: ``(min, max)`` of the clip's masks for ``mask_norm="clip"``.
        prob: the class probability used by the score rule.
        offset: the grid's cell centres, ``(dy, dx)`` in cells (:func:`upsample_mask`).

    Returns:
        ``((x1, y1, x2, y2), score)`` in pixels (the tightest box around the pixels above
        threshold: ``x2 = last column + 1``), or ``None`` when no pixel is above threshold.
    """
    if np.ndim(mask) != 2:
        raise ValueError(f"mask must be [h, w], got shape {np.shape(mask)}")
    up = upsample_mask(mask, frame_size, offset)
    if params.mask_norm == "frame":
        up = _normalise(up, float(up.min()), float(up.max()))
    elif params.mask_norm == "clip":
        lo, hi = clip_range if clip_range is not None else (float(up.min()), float(up.max()))
        up = _normalise(up, lo, hi)
    on = up > params.threshold_value
    if not on.any():
        return None
    if params.largest_component:
        lab, n = ndimage.label(on, structure=np.ones((3, 3), dtype=bool))
        if n > 1:
            sizes = np.bincount(lab.ravel())[1:]
            on = lab == (int(np.argmax(sizes)) + 1)
    rows = np.flatnonzero(on.any(axis=1))
    cols = np.flatnonzero(on.any(axis=0))
    y1, y2 = int(rows[0]), int(rows[-1]) + 1
    x1, x2 = int(cols[0]), int(cols[-1]) + 1
    inside = float(up[y1:y2, x1:x2].mean())
    if params.box_score == "prob_x_mean_mask":
        score = prob * inside
    elif params.box_score == "prob":
        score = prob
    else:
        score = inside
    return (float(x1), float(y1), float(x2), float(y2)), float(score)
