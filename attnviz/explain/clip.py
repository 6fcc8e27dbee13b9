"""One clip as every explanation method sees it: the backbone's features of its frames, the
features of a baseline ("removed") version of each frame, and the model's prediction.

The backbone runs once per clip (in chunks); every method then works on the features
``[n, C, h, w]``, the output of the backbone's last block. Because the backbone treats frames
independently, replacing the features of a frame by those of its baseline is exactly what the
model would see if that frame were replaced by its baseline image: temporal occlusion and
deletion cost one pass of the attention head, not of the backbone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from attnviz.errors import AttnvizError

__all__ = [
    "BASELINES",
    "Clip",
    "blur_frames",
    "head_probs",
    "prepare_clip",
    "spatial_scorer",
    "temporal_scorer",
]

#: How a frame (or a feature cell) is "removed": ``blur`` (the features of the frame blurred
#: beyond recognition: averaged down 16x and upsampled), ``zero`` (zero features) or ``mean``
#: (every cell replaced by the clip's mean feature vector).
BASELINES = ("blur", "zero", "mean")


@dataclass
class Clip:
    """A clip ready to be explained.

    Attributes:
        features (Tensor[n, C, h, w]): output of the backbone's last block for each frame.
        baseline (Tensor[n, C, h, w]): features of each frame's baseline.
        probs (Tensor[K]): the model's class probabilities on the intact clip.
        target (int): the class being explained (default: the top class).
        frames (Tensor[n, 3, S, S] or None): the preprocessed frames (kept for pixel-space
            methods only).
        baseline_frames (Tensor[n, 3, S, S] or None): their baselines.
    """

    features: torch.Tensor
    baseline: torch.Tensor
    probs: torch.Tensor
    target: int
    frames: torch.Tensor | None = None
    baseline_frames: torch.Tensor | None = None

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def grid(self) -> tuple[int, int]:
        return int(self.features.shape[-2]), int(self.features.shape[-1])


def blur_frames(frames: torch.Tensor, factor: int = 16) -> torch.Tensor:
    """``frames [n, 3, S, S]`` averaged down by ``factor`` (area) and upsampled back
    (bilinear): a blur that leaves colours and layout but no object."""
    n, c, hh, ww = frames.shape
    small = F.interpolate(frames, size=(max(1, hh // factor), max(1, ww // factor)), mode="area")
    return F.interpolate(small, size=(hh, ww), mode="bilinear", align_corners=False)


@torch.no_grad()
def _features(model, frames: torch.Tensor, chunk: int) -> torch.Tensor:
    return torch.cat(
        [model.extract_features(frames[i : i + chunk]) for i in range(0, len(frames), chunk)]
    )


@torch.no_grad()
def head_probs(model, features: torch.Tensor, *, batch: int = 16) -> torch.Tensor:
    """Softmax class probabilities of the attention head on ``features [S, n, C, h, w]`` (``S``
    clips), ``batch`` clips at a time. Returns ``Tensor[S, K]``."""
    out = [
        torch.softmax(model.head(features[i : i + batch]).logits.float(), dim=1)
        for i in range(0, len(features), batch)
    ]
    return torch.cat(out)


def prepare_clip(
    model,
    frames: np.ndarray | torch.Tensor,
    *,
    baseline: str = "blur",
    target: int | None = None,
    keep_frames: bool = False,
    chunk: int = 32,
) -> Clip:
    """Compute everything the methods share for one clip.

    Args:
        model: a :class:`~attnviz.models.Recognizer` in eval mode.
        frames: ``ndarray[n, H, W, 3] uint8`` RGB frames, a preprocessed ``Tensor[n, 3, S, S]``
            (ImageNet-normalised), or cached features ``Tensor[n, C, h, w]`` (then only the
            ``zero`` and ``mean`` baselines exist).
        baseline: see :data:`BASELINES`.
        target: the class to explain (default: the model's top class on this clip).
        keep_frames: keep the preprocessed frames (pixel-space integrated gradients needs them).
        chunk: frames per backbone call.
    """
    if baseline not in BASELINES:
        raise AttnvizError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    dev = next(model.parameters()).device
    if isinstance(frames, np.ndarray):
        from attnviz.data.transforms import preprocess

        frames = preprocess(frames, model.input_size)
    x = frames.to(dev).float()
    if x.ndim != 4 or len(x) == 0:
        raise AttnvizError(
            f"a clip must be [n, 3, H, W] frames or [n, C, h, w] features, got {tuple(x.shape)}"
        )
    is_frames = x.shape[1] == 3 and model.backbone is not None
    if not is_frames and x.shape[1] != model.feature_channels:
        raise AttnvizError(
            f"a clip must be [n, 3, H, W] frames or [n, {model.feature_channels}, h, w] features, "
            f"got {tuple(x.shape)}"
        )
    is_features = not is_frames
    pix = base_pix = None
    if is_features:
        feats = x
        if baseline == "blur":
            raise AttnvizError("the blur baseline needs frames; cached features allow zero or mean")
    else:
        if model.backbone is None:
            raise AttnvizError("this model takes cached features only; pass features, not frames")
        feats = _features(model, x, chunk)
        if baseline == "blur":
            base_pix = blur_frames(x)
            base = _features(model, base_pix, chunk)
        if keep_frames:
            pix = x
            base_pix = base_pix if base_pix is not None else _pixel_baseline(x, baseline)
    if baseline == "zero":
        base = torch.zeros_like(feats)
    elif baseline == "mean":
        base = feats.mean(dim=(0, 2, 3), keepdim=True).expand_as(feats).clone()
    probs = head_probs(model, feats[None])[0]
    k = int(torch.argmax(probs)) if target is None else int(target)
    if not 0 <= k < len(probs):
        raise AttnvizError(f"target class {k} is not one of the model's {len(probs)} classes")
    return Clip(feats, base, probs, k, pix, base_pix if keep_frames else None)


def _pixel_baseline(x: torch.Tensor, baseline: str) -> torch.Tensor:
    if baseline == "zero":
        return torch.zeros_like(x)
    return x.mean(dim=(0, 2, 3), keepdim=True).expand_as(x).clone()


def temporal_scorer(model, clip: Clip, *, batch: int = 16) -> Callable[[np.ndarray], np.ndarray]:
    """``score(keep [S, n] bool) -> ndarray[S]``: the target's probability when the frames with
    ``keep == False`` are replaced by their baselines (for
    :func:`attnviz.metrics.deletion_curve`). Each frame's share of the head is computed once, for
    the intact and the replaced frame, and mixed per score (:func:`mix_frame_terms`)."""

    from attnviz.explain.methods import _frame_split, mix_frame_terms

    terms, rest, _ = _frame_split(model)
    cache: list[tuple] = []  # the intact and the replaced clip's per-frame terms, once

    @torch.no_grad()
    def score(keep: np.ndarray) -> np.ndarray:
        k = torch.as_tensor(np.asarray(keep, dtype=bool), device=clip.features.device)
        if not cache:
            cache.extend((terms(clip.features[None]), terms(clip.baseline[None])))
        full, removed = cache
        out = [
            torch.softmax(rest(mix_frame_terms(full, removed, k[i : i + batch])).float(), dim=1)
            for i in range(0, len(k), batch)
        ]
        probs = torch.cat(out) if out else torch.zeros(0, 1, device=k.device)
        return probs[:, clip.target].cpu().numpy().astype(np.float64)

    return score


def spatial_scorer(model, clip: Clip, *, batch: int = 16) -> Callable[[np.ndarray], np.ndarray]:
    """``score(keep [S, n, h, w] bool) -> ndarray[S]``: the target's probability when the
    feature cells with ``keep == False`` are replaced by their baselines."""

    def score(keep: np.ndarray) -> np.ndarray:
        k = torch.as_tensor(np.asarray(keep, dtype=bool), device=clip.features.device)
        x = torch.where(k[:, :, None, :, :], clip.features[None], clip.baseline[None])
        return head_probs(model, x, batch=batch)[:, clip.target].cpu().numpy().astype(np.float64)

    return score
