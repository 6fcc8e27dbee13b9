"""Explanation methods, each turning a :class:`~attnviz.explain.clip.Clip` into the same
per-clip maps as the model's own attention: a spatial map ``[n, h, w]`` in [0, 1] on the feature
grid and a per-frame importance ``[n]``.

``attention``
    The model's intrinsic maps: the spatial mask of eq. 1 and the temporal weights of eq. 3
    (per-frame importance by :func:`attnviz.localize.frame_importance`, default the mean over
    steps).
``gradcam``
    Layer Grad-CAM (captum ``LayerGradCam``) on the output of the backbone's last block, per
    frame: the target's logit differentiated with respect to each frame's feature map, gradients
    averaged over the grid as channel weights, weighted channel sum, ReLU. Importance of a frame:
    the sum of its Grad-CAM over the grid.
``occlusion``
    captum ``Occlusion`` on the features: temporal importance is the drop of the target's
    probability when ``window`` consecutive frames are replaced by their baselines (averaged over
    the windows covering a frame; ``window=1`` drops one frame at a time); the spatial map is the
    drop when one feature cell is replaced in a block of ``spatial_window`` frames.
``ig``
    captum ``IntegratedGradients`` of the target's logit from the baseline clip to the clip,
    either on the features (``space="features"``, default: the same as captum's
    ``LayerIntegratedGradients`` on the backbone's last block) or on the pixels
    (``space="pixels"``, sum-pooled onto the feature grid); attributions summed over channels.
    Importance of a frame: the sum of its attributions (signed; by completeness the importances
    add up to the logit's change from the baseline clip).

Post-hoc spatial maps keep their positive part and are divided by the clip's maximum (so that
frames with little evidence stay dark and the paper's 0.5 threshold means "half the strongest
evidence in the clip"). The base class :class:`Explainer` does that; each method overrides
:meth:`Explainer.attribute`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from attnviz.errors import AttnvizError
from attnviz.explain.clip import Clip

__all__ = [
    "METHODS",
    "AttentionExplainer",
    "ClipMaps",
    "Explainer",
    "GradCAMExplainer",
    "IGExplainer",
    "OcclusionExplainer",
    "make_explainer",
    "parse_methods",
]


@dataclass(frozen=True)
class ClipMaps:
    """What one method says about one clip.

    Attributes:
        mask (ndarray[n, h, w] float32): spatial map in [0, 1].
        importance (ndarray[n] float64): per-frame importance (the method's own scale).
        temporal (ndarray[n, n] float32): rows summing to 1; the model's weights for
            ``attention``, for post-hoc methods every row is the importance shifted to be
            non-negative and normalised (so the ``mean`` rule gives back the same ranking).
    """

    mask: np.ndarray
    importance: np.ndarray
    temporal: np.ndarray


def importance_rows(importance: np.ndarray) -> np.ndarray:
    """``[n, n]`` with every row ``(x - min x) / sum(x - min x)`` (uniform when flat)."""
    x = np.asarray(importance, dtype=np.float64)
    z = x - x.min()
    s = z.sum()
    row = z / s if s > 0 else np.full(len(x), 1.0 / len(x))
    return np.tile(row.astype(np.float32), (len(x), 1))


class Explainer:
    """Base class: computes ``(raw map [n, h, w], importance [n])`` in :meth:`attribute` and
    turns it into :class:`ClipMaps`.

    Args:
        model: a :class:`~attnviz.models.Recognizer` in eval mode.
        batch: perturbed / interpolated clips per forward pass (bounds memory).
    """

    name = "base"

    def __init__(self, model: nn.Module, *, batch: int = 16) -> None:
        if batch < 1:
            raise AttnvizError(f"batch must be >= 1, got {batch}")
        self.model = model
        self.batch = batch

    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        """``(map Tensor[n, h, w], importance Tensor[n])`` for ``clip.target``."""
        raise NotImplementedError

    def __call__(self, clip: Clip) -> ClipMaps:
        raw, imp = self.attribute(clip)
        raw = raw.detach().float().clamp(min=0).cpu()
        top = float(raw.max()) if raw.numel() else 0.0
        mask = (raw / top if top > 0 else torch.zeros_like(raw)).numpy().astype(np.float32)
        importance = imp.detach().double().cpu().numpy()
        return ClipMaps(mask, importance, importance_rows(importance))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch={self.batch})"


class AttentionExplainer(Explainer):
    """The model's own spatial mask and temporal weights.

    Args:
        rule: per-frame importance from the ``[n, n]`` weights (``mean``, ``max`` or ``last``).
    """

    name = "attention"

    def __init__(self, model: nn.Module, *, batch: int = 16, rule: str = "mean") -> None:
        super().__init__(model, batch=batch)
        self.rule = rule

    def __call__(self, clip: Clip) -> ClipMaps:
        from attnviz.localize import frame_importance

        with torch.no_grad():
            out = self.model.head(clip.features[None])
        temporal = out.temporal[0].float().cpu().numpy()
        return ClipMaps(
            out.mask[0].float().cpu().numpy().astype(np.float32),
            frame_importance(temporal, self.rule),
            temporal.astype(np.float32),
        )


class GradCAMExplainer(Explainer):
    """Layer Grad-CAM on the output of the backbone's last block, per frame."""

    name = "gradcam"

    def __init__(self, model: nn.Module, *, batch: int = 16) -> None:
        super().__init__(model, batch=batch)
        from captum.attr import LayerGradCam  # imported here, not in the timed call

        self._cls = LayerGradCam

    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        probe = nn.Identity()  # stands for the last block: its output is the features

        def forward(feats: torch.Tensor) -> torch.Tensor:
            return self.model.head(probe(feats)[None]).logits

        cam = self._cls(forward, probe).attribute(
            clip.features, target=clip.target, relu_attributions=True
        )[:, 0]
        return cam, cam.sum(dim=(1, 2))


class OcclusionExplainer(Explainer):
    """Occlusion of frames (temporal) and of feature cells in blocks of frames (spatial).

    Args:
        window: frames replaced together for temporal importance (stride 1).
        spatial_window: frames per block in which one cell is replaced (blocks do not overlap);
            the spatial map costs ``ceil(n / spatial_window) * h * w`` head passes.
    """

    name = "occlusion"

    def __init__(
        self, model: nn.Module, *, batch: int = 16, window: int = 1, spatial_window: int = 5
    ) -> None:
        super().__init__(model, batch=batch)
        if window < 1 or spatial_window < 1:
            raise AttnvizError(f"occlusion windows must be >= 1, got {window}, {spatial_window}")
        self.window = window
        self.spatial_window = spatial_window
        from captum.attr import Occlusion

        self._cls = Occlusion

    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        def forward(x: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.model.head(x).logits.float(), dim=1)

        n, c, h, w = clip.features.shape
        occ = self._cls(forward)
        x, base = clip.features[None], clip.baseline[None]
        with torch.no_grad():
            kt = min(self.window, n)
            temporal = occ.attribute(
                x,
                sliding_window_shapes=(kt, c, h, w),
                strides=(1, c, h, w),
                baselines=base,
                target=clip.target,
                perturbations_per_eval=self.batch,
            )[0, :, 0, 0, 0]
            ks = min(self.spatial_window, n)
            spatial = occ.attribute(
                x,
                sliding_window_shapes=(ks, c, 1, 1),
                strides=(ks, c, 1, 1),
                baselines=base,
                target=clip.target,
                perturbations_per_eval=self.batch,
            )[0, :, 0]
        return spatial, temporal

    def __repr__(self) -> str:
        return (
            f"OcclusionExplainer(batch={self.batch}, window={self.window}, "
            f"spatial_window={self.spatial_window})"
        )


class IGExplainer(Explainer):
    """Integrated gradients from the baseline clip, reduced to the feature grid.

    Args:
        steps: points of the path integral (Gauss-Legendre, captum's default rule).
        space: ``features`` (default) or ``pixels`` (needs a clip prepared with
            ``keep_frames=True``; costs ``steps`` backbone passes forward and backward).
    """

    name = "ig"

    def __init__(
        self, model: nn.Module, *, batch: int = 16, steps: int = 32, space: str = "features"
    ) -> None:
        super().__init__(model, batch=batch)
        if space not in ("features", "pixels"):
            raise AttnvizError(
                f"integrated gradients space must be features or pixels, got {space!r}"
            )
        if steps < 1:
            raise AttnvizError(f"integrated gradients steps must be >= 1, got {steps}")
        self.steps = steps
        self.space = space
        from captum.attr import IntegratedGradients

        self._cls = IntegratedGradients

    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = clip.grid
        if self.space == "features":

            def forward(x: torch.Tensor) -> torch.Tensor:
                return self.model.head(x).logits

            attr = self._cls(forward).attribute(
                clip.features[None],
                baselines=clip.baseline[None],
                target=clip.target,
                n_steps=self.steps,
                internal_batch_size=self.batch,
            )[0]
            grid = attr.sum(dim=1)
        else:
            if clip.frames is None or clip.baseline_frames is None:
                raise AttnvizError(
                    "pixel-space integrated gradients need prepare_clip(keep_frames=True)"
                )

            def forward(x: torch.Tensor) -> torch.Tensor:
                return self.model(x).logits

            attr = self._cls(forward).attribute(
                clip.frames[None],
                baselines=clip.baseline_frames[None],
                target=clip.target,
                n_steps=self.steps,
                internal_batch_size=max(1, self.batch // 8),
            )[0]
            pix = attr.sum(dim=1, keepdim=True)  # [n, 1, S, S]
            area = pix.shape[-2] * pix.shape[-1] / float(h * w)
            grid = F.adaptive_avg_pool2d(pix, (h, w))[:, 0] * area
        return grid, grid.sum(dim=(1, 2))

    def __repr__(self) -> str:
        return f"IGExplainer(batch={self.batch}, steps={self.steps}, space={self.space!r})"


#: name -> class, in the order tables list them.
METHODS: dict[str, type[Explainer]] = {
    "attention": AttentionExplainer,
    "gradcam": GradCAMExplainer,
    "occlusion": OcclusionExplainer,
    "ig": IGExplainer,
}


def parse_methods(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"attention,gradcam"`` -> ``["attention", "gradcam"]`` (known names, no repeats)."""
    names = [s.strip().lower() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise AttnvizError(
            f"unknown explanation method {unknown[0] if unknown else '(none)'!r}: expected a "
            f"comma list of {', '.join(METHODS)}"
        )
    if len(set(names)) != len(names):
        raise AttnvizError(f"explanation methods repeated in {spec!r}")
    return names


def make_explainer(name: str, model: nn.Module, **options) -> Explainer:
    """An explainer by name; ``options`` are passed to its constructor when it accepts them
    (``batch`` to all; ``window``/``spatial_window`` to occlusion; ``steps``/``space`` to ig;
    ``rule`` to attention)."""
    import inspect

    cls = METHODS[parse_methods([name])[0]]
    accepted = set(inspect.signature(cls.__init__).parameters)
    return cls(model, **{k: v for k, v in options.items() if k in accepted})
