"""The loss of eq. 6: cross entropy plus the TV (eq. 7), contrast (eq. 8) and unimodality
(eq. 9) regularisers, with the paper's weights (Sec. 4.1) as defaults.

Reduction: each regulariser is the paper's sum over the frames (and steps) of one clip; the
batch value is the mean over clips, like the cross entropy.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from attnviz.errors import AttnvizError

__all__ = [
    "LossTerms",
    "area_loss",
    "attention_loss",
    "contrast_loss",
    "tv_loss",
    "unimodal_loss",
]


class LossTerms(NamedTuple):
    """Each term of eq. 6 (unweighted) and the weighted ``total``; scalar tensors."""

    total: torch.Tensor
    ce: torch.Tensor
    tv: torch.Tensor
    contrast: torch.Tensor
    unimodal: torch.Tensor
    area: torch.Tensor


def tv_loss(mask: torch.Tensor) -> torch.Tensor:
    """Total variation of eq. 7, ``mask [B, T, h, w]`` -> mean over B of
    ``sum_i (sum |M[j+1,k] - M[j,k]| + sum |M[j,k+1] - M[j,k]|)``."""
    dv = (mask[..., 1:, :] - mask[..., :-1, :]).abs().sum(dim=(-3, -2, -1))
    dh = (mask[..., :, 1:] - mask[..., :, :-1]).abs().sum(dim=(-3, -2, -1))
    return (dv + dh).mean()


def contrast_loss(mask: torch.Tensor) -> torch.Tensor:
    """Contrast of eq. 8, ``mask [B, T, h, w]`` -> mean over B of
    ``sum_i sum_jk (-1/2 M B + 1/2 M (1 - B))`` with ``B = 1[M > 0.5]`` carrying no gradient."""
    b = (mask > 0.5).to(mask.dtype).detach()
    per = -0.5 * mask * b + 0.5 * mask * (1.0 - b)
    return per.sum(dim=(-3, -2, -1)).mean()


def area_loss(mask: torch.Tensor) -> torch.Tensor:
    """Mask area, ``mask [B, T, h, w]`` -> mean over B of ``sum_i sum_jk M`` (not in the paper:
    with ``H_bar`` max-pooled over the grid nothing else keeps the mask off the background)."""
    return mask.sum(dim=(-3, -2, -1)).mean()


def unimodal_loss(temporal: torch.Tensor) -> torch.Tensor:
    """Log-concavity penalty of eq. 9, ``temporal [B, T, n]`` -> mean over B of
    ``sum_t sum_{i=2}^{n-1} max(0, w[t,i-1] w[t,i+1] - w[t,i]^2)``."""
    if temporal.shape[-1] < 3:
        return temporal.new_zeros(())
    w = temporal
    viol = torch.relu(w[..., :-2] * w[..., 2:] - w[..., 1:-1] ** 2)
    return viol.sum(dim=(-2, -1)).mean()


def attention_loss(
    output,
    target: torch.Tensor,
    *,
    lambda_tv: float = 1e-5,
    lambda_contrast: float = 1e-4,
    lambda_unimodal: float = 1.0,
    lambda_area: float = 0.0,
) -> LossTerms:
    """Eq. 6: ``CE + lambda_TV TV + lambda_contrast contrast + lambda_unimodal unimodal``.

    Args:
        output (ModelOutput): logits ``[B, K]``, mask ``[B, T, h, w]``, temporal ``[B, T, T]``.
        target (LongTensor[B]): class indices.
        lambda_tv, lambda_contrast, lambda_unimodal: weights (paper: 1e-5, 1e-4, 1; set one to
            0 for the Table 2 ablations).
        lambda_area: weight of :func:`area_loss` (default 0: the paper's eq. 6).

    Returns:
        LossTerms with every term computed in float32 (also under bf16 autocast). Each
        regulariser is returned unweighted; ``total`` is eq. 6. A term whose weight is 0 still
        appears (for logging) but adds nothing to ``total``'s gradient.
    """
    for name, lam in (
        ("lambda_tv", lambda_tv),
        ("lambda_contrast", lambda_contrast),
        ("lambda_unimodal", lambda_unimodal),
        ("lambda_area", lambda_area),
    ):
        if not lam >= 0:
            raise AttnvizError(f"{name} must be >= 0, got {lam}")
    logits, mask, temporal = output.logits.float(), output.mask.float(), output.temporal.float()
    b = logits.shape[0]
    if logits.ndim != 2 or mask.ndim != 4 or temporal.ndim != 3:
        raise AttnvizError(
            f"expected logits [B, K], mask [B, T, h, w], temporal [B, T, T]; got "
            f"{tuple(logits.shape)}, {tuple(mask.shape)}, {tuple(temporal.shape)}"
        )
    if mask.shape[0] != b or temporal.shape[0] != b or tuple(target.shape) != (b,):
        raise AttnvizError(
            f"batch sizes differ: logits {tuple(logits.shape)}, mask {tuple(mask.shape)}, "
            f"temporal {tuple(temporal.shape)}, target {tuple(target.shape)}"
        )
    ce = F.cross_entropy(logits, target)
    tv = tv_loss(mask)
    contrast = contrast_loss(mask)
    unimodal = unimodal_loss(temporal)
    area = area_loss(mask)
    total = ce + lambda_tv * tv + lambda_contrast * contrast + lambda_unimodal * unimodal
    if lambda_area:
        total = total + lambda_area * area
    return LossTerms(total, ce, tv, contrast, unimodal, area)
