"""Pure image functions: an image in, a new image out; nothing is saved here.

Images are ``ndarray[H, W, 3] uint8`` RGB. Masks are ``ndarray[h, w]`` floats in [0, 1] at any
resolution (upsampled bilinearly to the image).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from attnviz.localize.spatial import upsample_mask

__all__ = [
    "GT_COLOR",
    "PRED_COLOR",
    "attention_strip",
    "draw_boxes",
    "heatmap",
    "overlay_heatmap",
]

GT_COLOR = (0, 0, 255)  # blue, as in the paper's Fig. 5
PRED_COLOR = (255, 0, 0)  # red


def _check_image(img: np.ndarray) -> None:
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f"expected one image [H, W, 3] uint8 RGB, got shape {getattr(img, 'shape', None)} "
            "(pass individual images, not batches)"
        )
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {img.dtype}")


def heatmap(
    mask: np.ndarray,
    size: tuple[int, int],
    colormap: str = "jet",
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """``mask [h, w]`` in [0, 1] (values outside are clipped) upsampled bilinearly to
    ``size = (H, W)`` (cells placed by ``offset``, see :func:`attnviz.localize.upsample_mask`)
    -> an RGB heatmap ``[H, W, 3] uint8`` (with ``jet``: red = important, blue = not).
    Colormaps: jet, turbo, inferno, viridis, hot."""
    import cv2

    maps = {"jet": cv2.COLORMAP_JET, "turbo": cv2.COLORMAP_TURBO, "inferno": cv2.COLORMAP_INFERNO,
            "viridis": cv2.COLORMAP_VIRIDIS, "hot": cv2.COLORMAP_HOT}  # fmt: skip
    if colormap not in maps:
        raise ValueError(f"unknown colormap {colormap!r}: expected one of {sorted(maps)}")
    if np.ndim(mask) != 2:
        raise ValueError(f"mask must be [h, w], got shape {np.shape(mask)}")
    up = np.clip(upsample_mask(mask, size, offset), 0.0, 1.0)
    np.nan_to_num(up, copy=False)
    up *= 255
    bgr = cv2.applyColorMap(up.astype(np.uint8), maps[colormap])
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def overlay_heatmap(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    alpha: float = 0.5,
    colormap: str = "jet",
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Blend the heatmap of ``mask`` over ``image``: ``(1 - alpha) * image + alpha * heat``
    (``offset``: the mask grid's cell centres, :func:`heatmap`)."""
    _check_image(image)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    heat = heatmap(mask, image.shape[:2], colormap, offset)
    index = image.astype(np.uint16)
    index <<= 8
    index |= heat
    return _blend_table(float(alpha)).ravel()[index]


@functools.lru_cache(maxsize=8)
def _blend_table(alpha: float) -> np.ndarray:
    """``[256, 256] uint8``: pixel ``a`` under heat ``b`` blended, ``round((1 - alpha) * a +
    alpha * b)`` (halves up) in float32, the same arithmetic as on whole images but done once
    for each of the 65,536 pairs."""
    v = np.arange(256, dtype=np.float32)
    out = np.float32(1.0 - alpha) * v[:, None] + np.float32(alpha) * v[None, :]
    return np.clip(out + np.float32(0.5), 0, 255).astype(np.uint8)


def draw_boxes(
    image: np.ndarray,
    boxes: np.ndarray | Sequence[Sequence[float]],
    *,
    color: tuple[int, int, int] = PRED_COLOR,
    labels: Sequence[str] | None = None,
    width: int = 2,
) -> np.ndarray:
    """Draw ``boxes [N, 4]`` (``x1, y1, x2, y2`` pixels, pixel-edge coordinates as
    :mod:`attnviz.localize` gives them) with optional text labels, on a copy of ``image``.
    Ground truth in :data:`GT_COLOR` (blue), predictions in :data:`PRED_COLOR` (red), as in the
    paper's Fig. 5."""
    import cv2

    _check_image(image)
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if labels is not None and len(labels) != len(b):
        raise ValueError(f"{len(labels)} labels for {len(b)} boxes")
    out = np.ascontiguousarray(image.copy())
    for i, (x1, y1, x2, y2) in enumerate(b):
        p1 = (int(round(x1)), int(round(y1)))
        p2 = (max(int(round(x2)) - 1, p1[0]), max(int(round(y2)) - 1, p1[1]))
        cv2.rectangle(out, p1, p2, color, width)
        if labels is not None and labels[i]:
            scale = max(0.35, min(out.shape[:2]) / 600)
            (tw, th), _ = cv2.getTextSize(labels[i], cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            y = max(p1[1], th + 3)
            cv2.rectangle(out, (p1[0], y - th - 3), (p1[0] + tw + 2, y), color, -1)
            cv2.putText(out, labels[i], (p1[0] + 1, y - 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
    return out


def _resize(img: np.ndarray, height: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    width = max(1, int(round(w * height / h)))
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def attention_strip(
    frames: Sequence[np.ndarray],
    masks: np.ndarray,
    importance: np.ndarray,
    *,
    height: int = 96,
    gap: int = 2,
    colormap: str = "jet",
    values: bool = False,
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """The layout of the paper's Fig. 4 as one image: the frames in the top row, their spatial
    heatmaps in the middle row (red = important), and the temporal attention as gray levels in
    the bottom row (brighter = more important; ``importance`` is scaled by its maximum).

    Args:
        frames: ``T`` images ``[H, W, 3] uint8``.
        masks (ndarray[T, h, w]): spatial masks in [0, 1].
        importance (ndarray[T]): per-frame importance (any non-negative scale).
        values: write each frame's raw importance on its gray tile (the scale the gray levels
            stand for), and ``flat`` on the first when the curve is flat
            (:func:`attnviz.localize.temporal.is_flat`, 5 %).
        offset: the mask grid's cell centres (``AttentionOutput.grid_offset``).
    """
    if len(frames) != len(masks) or len(frames) != len(importance):
        raise ValueError(
            f"{len(frames)} frames, {len(masks)} masks and {len(importance)} importance values"
        )
    if len(frames) == 0:
        raise ValueError("no frames")
    raw = np.asarray(importance, dtype=np.float64)
    imp = raw / raw.max() if raw.max() > 0 else np.zeros_like(raw)
    top, mid, bot = [], [], []
    for f, m, v in zip(frames, masks, imp, strict=True):
        _check_image(f)
        t = _resize(f, height)
        top.append(t)
        mid.append(heatmap(m, t.shape[:2], colormap, offset))
        bot.append(np.full_like(t, int(round(255 * v))))
    if values:
        import cv2

        from attnviz.localize.temporal import is_flat

        flat = is_flat(raw, 0.05)
        for i, (tile, r) in enumerate(zip(bot, raw, strict=True)):
            ink = (0, 0, 0) if tile[0, 0, 0] > 127 else (255, 255, 255)
            scale = max(0.3, tile.shape[0] / 200)
            cv2.putText(tile, f"{r:.3g}", (3, tile.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, ink, 1, cv2.LINE_AA)  # fmt: skip
            if flat and i == 0:
                cv2.putText(tile, "flat", (3, int(14 * scale / 0.48)), cv2.FONT_HERSHEY_SIMPLEX,
                            scale, (255, 0, 0), 1, cv2.LINE_AA)  # fmt: skip

    def row(items: list[np.ndarray]) -> np.ndarray:
        sep = np.full((height, gap, 3), 255, dtype=np.uint8)
        parts = []
        for i, it in enumerate(items):
            if i:
                parts.append(sep)
            parts.append(it)
        return np.concatenate(parts, axis=1)

    rows = [row(top), row(mid), row(bot)]
    hsep = np.full((gap, rows[0].shape[1], 3), 255, dtype=np.uint8)
    return np.concatenate([rows[0], hsep, rows[1], hsep, rows[2]], axis=0)
