"""The spatio-temporal attention recognizer of the paper (Sec. 3, Fig. 1).

``frames [B, T, 3, H, W]`` (or cached features ``[B, T, C, h, w]``) -> backbone -> spatial mask
``M_i`` and masked features ``X~_i = X_i * M_i`` (eq. 1) -> temporal attention ``w_ti`` (eq. 2-3)
-> ``Y_t = (1/n) sum_i w_ti X~_i`` (eq. 4) -> ConvLSTM initialised by eq. 5 -> mean hidden state
-> fully connected classifier.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from attnviz.errors import AttnvizError
from attnviz.models.attention import (
    AdditiveEnergy,
    ConvLSTMCell,
    ScalarEnergy,
    SpatialAttention,
    StateInit,
)
from attnviz.models.backbone import build_backbone, feature_channels

__all__ = ["FrameTerms", "ModelOutput", "Recognizer", "SplicedFrames", "build_recognizer"]


class ModelOutput(NamedTuple):
    """What the recognizer returns.

    Attributes:
        logits (Tensor[B, K]): class scores before softmax.
        mask (Tensor[B, T, h, w]): spatial importance in [0, 1] on the feature grid.
        temporal (Tensor[B, T, T]): ``temporal[b, t, i] = w_ti``, rows sum to 1.
    """

    logits: torch.Tensor
    mask: torch.Tensor
    temporal: torch.Tensor


class SplicedFrames(NamedTuple):
    """``P`` clips' per-frame tensor ``[P, T, *S]`` that equals ``base`` except on frames
    ``start .. start+size-1``, where it is ``part``; kept unexpanded so that what the head
    computes from every frame (the mean over frames, the attention mix) reads the shared frames
    once for all ``P`` clips (:meth:`Recognizer.splice_terms`).

    Attributes:
        base (Tensor[T, *S]): the shared frames.
        start (int): first replaced frame.
        part (Tensor[P, size, *S]): the replaced frames of each clip.
    """

    base: torch.Tensor
    start: int
    part: torch.Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.part), *self.base.shape)

    @property
    def device(self) -> torch.device:
        return self.base.device

    def _outside(self) -> tuple[torch.Tensor, torch.Tensor]:
        end = self.start + self.part.shape[1]
        return self.base[: self.start], self.base[end:]

    def mean(self) -> torch.Tensor:
        """The mean over frames, ``[P, *S]``."""
        before, after = self._outside()
        total = self.part.sum(dim=1) + (before.sum(dim=0) + after.sum(dim=0))[None]
        return total / self.base.shape[0]

    def mix(self, w: torch.Tensor) -> torch.Tensor:
        """``sum_i w[:, i] frame_i`` for ``w [P, T]``, flattened: ``[P, prod(S)]``."""
        before, after = self._outside()
        end = self.start + self.part.shape[1]
        out = torch.bmm(w[:, None, self.start : end], self.part.flatten(2))[:, 0]
        if len(before):
            out = out + w[:, : self.start] @ before.flatten(1)
        if len(after):
            out = out + w[:, end:] @ after.flatten(1)
        return out

    def materialize(self) -> torch.Tensor:
        """The full ``[P, T, *S]`` tensor."""
        before, after = self._outside()
        p = len(self.part)
        return torch.cat(
            [before.expand(p, *before.shape), self.part, after.expand(p, *after.shape)], dim=1
        )


class _MixStep(torch.autograd.Function):
    """``x_gates_t = sum_i w_ti (W_x * X~_i)``, ``[B, D]`` from ``w [B, T]`` and the frames'
    gates ``[B, T, D]``, whose backward returns the gradient of ``w`` only and leaves the
    gradient of the gates to :class:`_GatesTap`: autograd would add ``T`` outer products of
    ``[B, T, D]`` (one per step), the tap computes their sum as one product."""

    @staticmethod
    def forward(ctx, w, zx, steps):
        ctx.save_for_backward(w, zx)
        ctx.steps = steps
        return torch.bmm(w[:, None, :], zx)[:, 0]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        w, zx = ctx.saved_tensors
        ctx.steps.append((w, grad))
        grad_w = torch.bmm(grad[:, None, :], zx.transpose(1, 2))[:, 0]
        return grad_w, None, None


class _GatesTap(torch.autograd.Function):
    """Identity on the frames' gates; its backward is ``W^T G`` over the steps that
    :class:`_MixStep` recorded (``W [B, steps, T]``, ``G [B, steps, D]``)."""

    @staticmethod
    def forward(ctx, zx, steps):
        ctx.steps = steps
        return zx.view_as(zx)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        if not ctx.steps:
            return grad, None
        ws = torch.stack([w for w, _ in ctx.steps], dim=1)
        gs = torch.stack([g for _, g in ctx.steps], dim=1)
        ctx.steps.clear()
        return torch.bmm(ws.transpose(1, 2).to(gs.dtype), gs), None


class FrameTerms(NamedTuple):
    """What the head computes for each frame alone (:meth:`Recognizer.frame_terms`).

    Attributes:
        mask (Tensor[B, T, h, w]): the spatial mask ``M_i``.
        masked (Tensor[B, T, C, h, w] or SplicedFrames): ``X~_i = X_i * M_i`` (eq. 1).
        gates (Tensor[B, T, 4*hidden*h*w], SplicedFrames or None): ``W_x * X~_i`` (the
            ``fast`` form).
        phi_x (Tensor[B, T, dim] or None): ``Phi_X(X~_i)`` of eq. 2 (None without temporal
            attention).
    """

    mask: torch.Tensor
    masked: torch.Tensor
    gates: torch.Tensor | None
    phi_x: torch.Tensor | None


class Recognizer(nn.Module):
    """Spatio-temporal attention network. Build it with :func:`build_recognizer`.

    Args:
        backbone: a ResNet trunk (``None`` for a features-only model).
        feature_channels: C of the backbone's output.
        num_classes: K.
        config: JSON-able dict that :func:`build_recognizer` accepts back (checkpoints store it).
        class_names: K names (default ``class_0`` ...).
        input_size: side of the square frames the model expects (pre-processing reads it).
        hidden_channels: ConvLSTM hidden state channels (paper: 512).
        kernel: ConvLSTM kernel (paper: 3).
        spatial_widths: channels of the two hidden conv layers of Table 1 (paper: 1024, 512).
        spatial_kernels: sizes of Table 1's three convolutions (paper: 3, 3, 3).
        spatial_attention: ``False`` replaces the mask by ones (Table 2 ablation).
        temporal_attention: ``False`` uses uniform weights ``1/n`` (Table 2 ablation).
        energy: ``"additive"`` (default) or ``"scalar"`` (literal eq. 2; degenerate, see
            :class:`~attnviz.models.attention.ScalarEnergy`).
        energy_dim: width of the additive energy's hidden layer.
        dropout: dropout before the classifier.
        fast: compute ``W_x * X~_i`` once for all frames and mix (default); ``False`` runs the
            straightforward per-step form ``W_x * Y_t`` (same outputs, for tests and
            benchmarks). Can be changed on a built model.
        channels_last: run the convolutions in channels-last memory layout (faster with
            oneDNN on CPU, above all in bfloat16, and with tensor cores on CUDA); numbers are
            the same. Can be changed on a built model.
        pool: ``"avg"`` (default) or ``"max"``: how ``H_bar`` is pooled over its grid before
            the classifier. ``"max"`` lets an action that fills a small part of the frame
            decide the class instead of being averaged away (the synthetic default model).
        scale_by_n: ``True`` (default) divides ``Y_t`` by n as eq. 4 is written; the weights
            already sum to 1, so this makes the ConvLSTM input n times smaller than a frame's
            features. ``False`` uses the weighted sum ``Y_t = sum_i w_ti X~_i``.
        forget_bias: initial bias of the ConvLSTM forget gate (default 0; 1 is the usual LSTM
            initialisation that keeps the state of eq. 5 alive over the first steps).

    ``localize_threshold`` (attribute, default ``None``: the paper's 0.5) is the binarisation
    threshold of masks and importance the model was built for; :func:`~attnviz.models.
    load_checkpoint` sets it from the checkpoint's ``localize`` entry, and every command uses
    it when ``--threshold`` is not given.

    The classifier is a fully connected layer on the mean hidden state over time
    ``H_bar = (1/n) sum_t H_t``, pooled over its ``h x w`` grid (so the model does not depend
    on the frame size).
    """

    def __init__(
        self,
        backbone: nn.Module | None,
        feature_channels: int,
        num_classes: int,
        *,
        config: dict[str, Any],
        class_names: Sequence[str] | None = None,
        input_size: int = 224,
        hidden_channels: int = 512,
        kernel: int = 3,
        spatial_widths: tuple[int, int] = (1024, 512),
        spatial_kernels: tuple[int, int, int] = (3, 3, 3),
        spatial_attention: bool = True,
        temporal_attention: bool = True,
        energy: str = "additive",
        energy_dim: int = 256,
        dropout: float = 0.5,
        fast: bool = True,
        channels_last: bool = True,
        pool: str = "avg",
        scale_by_n: bool = True,
        forget_bias: float = 0.0,
    ) -> None:
        super().__init__()
        if pool not in ("avg", "max"):
            raise AttnvizError(f"pool must be 'avg' or 'max', got {pool!r}")
        if energy not in ("additive", "scalar"):
            raise AttnvizError(f"energy must be 'additive' or 'scalar', got {energy!r}")
        if class_names is None:
            class_names = [f"class_{k}" for k in range(num_classes)]
        if len(class_names) != num_classes:
            raise AttnvizError(f"{len(class_names)} class names for {num_classes} classes")
        self.config = dict(config)
        self.localize_threshold: float | None = None
        self.class_names = tuple(str(c) for c in class_names)
        self.num_classes = num_classes
        self.input_size = input_size
        self.feature_channels = feature_channels
        self.hidden_channels = hidden_channels
        self.use_spatial = spatial_attention
        self.use_temporal = temporal_attention
        self.fast = fast
        self.channels_last = channels_last
        self.backbone = backbone
        self.spatial = (
            SpatialAttention(feature_channels, spatial_widths, spatial_kernels)
            if spatial_attention
            else None
        )
        energy_cls = AdditiveEnergy if energy == "additive" else ScalarEnergy
        self.energy = (
            energy_cls(feature_channels, hidden_channels, energy_dim)
            if temporal_attention
            else None
        )
        self.cell = ConvLSTMCell(feature_channels, hidden_channels, kernel)
        self.init_h = StateInit(feature_channels, hidden_channels)
        self.init_c = StateInit(feature_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_channels, num_classes)
        self.pool = pool
        self.scale_by_n = bool(scale_by_n)
        if forget_bias:
            with torch.no_grad():  # gates are [i, f, o, g]
                self.cell.bias[hidden_channels : 2 * hidden_channels] += float(forget_bias)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return x.contiguous(memory_format=fmt)

    # ------------------------------------------------------------------ backbone
    def extract_features(self, frames: torch.Tensor) -> torch.Tensor:
        """Backbone alone: ``frames [N, 3, H, W]`` (ImageNet-normalised) -> ``[N, C, h, w]``."""
        if self.backbone is None:
            raise AttnvizError("this model was built for cached features and has no backbone")
        if frames.ndim != 4 or frames.shape[1] != 3:
            raise AttnvizError(f"frames must be [N, 3, H, W], got {tuple(frames.shape)}")
        return self.backbone(self._layout(frames))

    # ------------------------------------------------------------------ head
    def _weights(self, phi_x: torch.Tensor | None, h: torch.Tensor, n: int) -> torch.Tensor:
        """Eq. 3: ``w [B, T]`` (float32) at one step, from ``H_{t-1} = h``."""
        if self.energy is None or phi_x is None:
            return torch.full((h.shape[0], n), 1.0 / n, device=h.device, dtype=torch.float32)
        return torch.softmax(self.energy(phi_x, h).float(), dim=1)

    def head(self, features: torch.Tensor) -> ModelOutput:
        """Attention + ConvLSTM + classifier on ``features [B, T, C, h, w]``.

        ``temporal`` is float32 whatever the autocast setting, so its rows sum to 1 within
        float32 rounding; ``logits`` and ``mask`` have the dtype the computation ran in.
        Equal to ``head_from_terms(frame_terms(features))``.
        """
        return self.head_from_terms(self.frame_terms(features))

    def frame_terms(self, features: torch.Tensor) -> FrameTerms:
        """The part of :meth:`head` that treats each frame alone (eq. 1, ``Phi_X``, ``W_x * X~_i``)
        on ``features [B, T, C, h, w]``. Every field is ``[B, T, ...]``: the terms of different
        clips can be spliced along T (perturbation methods recompute only the frames they
        change) and given to :meth:`head_from_terms`."""
        if features.ndim != 5 or features.shape[2] != self.feature_channels:
            raise AttnvizError(
                f"features must be [B, T, {self.feature_channels}, h, w], got "
                f"{tuple(features.shape)}"
            )
        b, n, c, hh, ww = features.shape
        if n < 1 or b < 1:
            raise AttnvizError(
                f"features must hold at least one frame, got {tuple(features.shape)}"
            )
        autocasting = torch.is_autocast_enabled(features.device.type)
        param_dtype = self.classifier.weight.dtype
        if not autocasting and features.is_floating_point() and features.dtype != param_dtype:
            features = features.to(param_dtype)  # e.g. float16 cached features
        flat = self._layout(features.reshape(b * n, c, hh, ww))
        if self.spatial is not None:
            mask = self.spatial(flat)  # [B*T, 1, h, w], Table 1
            masked = flat * mask  # eq. 1
        else:
            mask = flat.new_ones(b * n, 1, hh, ww)
            masked = flat
        xt = masked.reshape(b, n, c, hh, ww)
        phi_x = self.energy.project_frames(xt) if self.energy is not None else None
        zx = None
        if self.fast:
            # W_x * X~_i once for every frame, as one batch: by linearity of W_x (no bias),
            # W_x * Y_t = (1/n) sum_i w_ti (W_x * X~_i); only W_h * H_{t-1} is left per step.
            mix = torch.promote_types(masked.dtype, torch.float32)
            zx = self.cell.conv_x(masked).to(mix).reshape(b, n, -1)  # [B, T, 4*hid*h*w]
        return FrameTerms(mask.reshape(b, n, hh, ww), xt, zx, phi_x)

    @staticmethod
    def splice_terms(base: FrameTerms, part: FrameTerms, start: int) -> FrameTerms:
        """The terms of ``P`` clips equal to one clip's ``base`` (``[1, T, ...]``) except on
        frames ``start .. start+size-1``, taken from ``part`` (``[P, size, ...]``): what
        occlusion of a block of frames gives :meth:`head_from_terms`. The large per-frame
        tensors stay shared (:class:`SplicedFrames`)."""

        def cat(b, p):
            if b is None:
                return None
            e = b.expand(len(p), *b.shape[1:])
            return torch.cat([e[:, :start], p.to(b.dtype), e[:, start + p.shape[1] :]], dim=1)

        def shared(b, p):
            return None if b is None else SplicedFrames(b[0], start, p.to(b.dtype))

        return FrameTerms(
            cat(base.mask, part.mask),
            shared(base.masked, part.masked),
            shared(base.gates, part.gates),
            cat(base.phi_x, part.phi_x),
        )

    def head_from_terms(self, terms: FrameTerms) -> ModelOutput:
        """The rest of :meth:`head` (eq. 2-5, ConvLSTM, classifier) from :meth:`frame_terms`
        (or :meth:`splice_terms`)."""
        mask, xt, zx, phi_x = terms
        b, n, c, hh, ww = xt.shape
        dev = xt.device.type
        autocasting = torch.is_autocast_enabled(dev)
        spliced = isinstance(xt, SplicedFrames)
        if (
            isinstance(zx, SplicedFrames) and not torch.is_grad_enabled() and not autocasting
            and zx.base.dtype == torch.float32
        ):  # fmt: skip
            return self._head_spliced(terms)
        mean_x = self._layout(xt.mean() if spliced else xt.mean(dim=1))  # (1/n) sum_i X~_i
        h = self.init_h(mean_x)  # eq. 5
        cstate = self.init_c(mean_x)
        hidden_weight = None
        dtype = (xt.base if spliced else xt).dtype
        mix = torch.promote_types(dtype, torch.float32)  # the attention mix runs in it
        if zx is not None:
            if dev == "cpu" and not autocasting:
                hidden_weight = self.cell.hidden_weight_matrix()
        else:
            xflat = (xt.materialize() if spliced else xt).to(mix).reshape(b, n, -1)
        hidden_sum = torch.zeros((), device=mean_x.device, dtype=mix)
        # gradients in eval mode (explanation methods): the gates' gradient as one product
        # (same numbers up to float rounding); training keeps autograd's own, bit for bit
        tap = (
            torch.is_tensor(zx) and zx.requires_grad and not self.training
            and torch.is_grad_enabled()
        )  # fmt: skip
        if tap:
            steps: list = []
            zx = _GatesTap.apply(zx, steps)
        weights = []
        for _ in range(n):
            w = self._weights(phi_x, h, n)  # [B, T], eq. 2-3 with H_{t-1} = h
            weights.append(w)
            w = w.to(mix)
            if zx is not None:
                with torch.autocast(dev, enabled=False):
                    if isinstance(zx, SplicedFrames):
                        x_gates = zx.mix(w).reshape(b, -1, hh, ww)
                    elif tap:
                        x_gates = _MixStep.apply(w, zx, steps).reshape(b, -1, hh, ww)
                    else:
                        x_gates = torch.bmm(w[:, None, :], zx).reshape(b, -1, hh, ww)
                    if self.scale_by_n:
                        x_gates = x_gates / n
            else:
                with torch.autocast(dev, enabled=False):
                    y = torch.bmm(w[:, None, :], xflat).reshape(b, c, hh, ww)  # eq. 4
                    if self.scale_by_n:
                        y = y / n
                x_gates = self.cell.conv_x(self._layout(y))
            h, cstate = self.cell.step(x_gates, h, cstate, hidden_weight=hidden_weight)
            hidden_sum = hidden_sum + h
        h_bar = hidden_sum / n
        pooled = h_bar.mean(dim=(-2, -1)) if self.pool == "avg" else h_bar.amax(dim=(-2, -1))
        logits = self.classifier(self.dropout(pooled))
        temporal = torch.stack(weights, dim=1)  # [B, T(step), T(frame)]
        return ModelOutput(logits, mask, temporal)

    def _head_spliced(self, terms: FrameTerms) -> ModelOutput:
        """:meth:`head_from_terms` for the ``P`` clips of :meth:`splice_terms` without
        gradients (occlusion), the same numbers up to float rounding. The recurrence runs
        channel-major (``[channels, P, h*w]``): the hidden gates of all clips are one matrix
        product, and the gates ``i, f, o, g`` are contiguous blocks for the element-wise
        updates. The attention mix is the intact clip's frames mixed for all ``P`` clips at
        once plus each clip's change on its replaced frames."""
        mask, xt, zx, phi_x = terms
        p, n, c, hh, ww = xt.shape
        hw, hid = hh * ww, self.hidden_channels
        g4 = 4 * hid
        start, size = zx.start, zx.part.shape[1]
        mean_x = self._layout(xt.mean())
        # [hid, P, h*w] states from eq. 5
        h = self.init_h(mean_x).transpose(0, 1).reshape(hid, p, hw)
        cstate = self.init_c(mean_x).transpose(0, 1).reshape(hid, p, hw)
        base = zx.base.reshape(n, g4, hw).transpose(0, 1).contiguous()  # [4hid, T, h*w]
        delta = (zx.part - zx.base[start : start + size]).reshape(p, size, g4 * hw)
        bias = self.cell.bias.reshape(g4, 1, 1)
        k = self.cell.kernel
        weight = self.cell.conv_h.weight.reshape(g4, -1) if k == 1 else None
        hidden_sum = torch.zeros_like(h)
        weights = []
        for _ in range(n):
            # eq. 2-3 from H_{t-1}: the energy averages over the grid, here the last axis
            w = self._weights(phi_x, h.transpose(0, 1)[..., None], n)  # [P, T]
            weights.append(w)
            x_gates = torch.matmul(w, base)  # [4hid, P, h*w]: every clip mixes the intact frames
            change = torch.bmm(w[:, None, start : start + size], delta)[:, 0]  # [P, 4hid*h*w]
            x_gates += change.reshape(p, g4, hw).transpose(0, 1)
            if self.scale_by_n:
                x_gates /= n
            if weight is not None:
                x_gates += (weight @ h.reshape(hid, p * hw)).reshape(g4, p, hw)
            else:
                h4 = h.reshape(hid, p, hh, ww).transpose(0, 1)
                x_gates += self.cell.conv_h(h4).transpose(0, 1).reshape(g4, p, hw)
            x_gates += bias
            i, f, o, g = x_gates.chunk(4, dim=0)
            cstate = torch.sigmoid(f) * cstate + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(cstate)
            hidden_sum += h
        h_bar = hidden_sum / n  # [hid, P, h*w]
        pooled = h_bar.mean(dim=-1) if self.pool == "avg" else h_bar.amax(dim=-1)
        logits = self.classifier(self.dropout(pooled.t()))
        return ModelOutput(logits, mask, torch.stack(weights, dim=1))

    @property
    def grid_offset(self) -> tuple[float, float]:
        """``(dy, dx)``: where the mask's cells are centred, in cells, relative to the bilinear
        convention (:func:`attnviz.models.backbone.feature_grid_offset`; the frames are resized
        whole, so both axes share it)."""
        from attnviz.models.backbone import feature_grid_offset

        off = feature_grid_offset(int(self.config.get("backbone_stage", 4)))
        return (off, off)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        """``x``: frames ``[B, T, 3, H, W]`` or cached features ``[B, T, C, h, w]``."""
        if x.ndim != 5:
            raise AttnvizError(
                f"input must be [B, T, 3, H, W] frames or [B, T, C, h, w] features, got "
                f"{tuple(x.shape)}"
            )
        if x.shape[2] == 3 and self.feature_channels != 3:
            b, n = x.shape[:2]
            feats = self.extract_features(x.reshape(b * n, *x.shape[2:]))
            x = feats.reshape(b, n, *feats.shape[1:])
        return self.head(x)


def build_recognizer(
    backbone: str,
    num_classes: int,
    *,
    weights: str | os.PathLike[str] | None = "imagenet",
    random_init: bool = False,
    class_names: Sequence[str] | None = None,
    input_size: int = 224,
    backbone_stage: int = 4,
    features_only: bool = False,
    hidden_channels: int = 512,
    kernel: int = 3,
    spatial_widths: Sequence[int] = (1024, 512),
    spatial_kernels: Sequence[int] = (3, 3, 3),
    spatial_attention: bool = True,
    temporal_attention: bool = True,
    energy: str = "additive",
    energy_dim: int = 256,
    dropout: float = 0.5,
    fast: bool = True,
    channels_last: bool = True,
    pool: str = "avg",
    scale_by_n: bool = True,
    forget_bias: float = 0.0,
) -> Recognizer:
    """Build the paper's recognizer.

    Args:
        backbone: ``resnet18`` / ``resnet34`` / ``resnet50`` / ``resnet101`` / ``resnet152``.
        num_classes: K.
        weights: ``"imagenet"`` (torchvision's file in the torch hub cache, never downloaded),
            a torchvision weights name such as ``"IMAGENET1K_V2"`` (as torchvision does it:
            from the cache, else downloaded into it), a state_dict file, or ``None`` (then
            ``random_init=True`` is required).
        random_init: explicitly train the backbone from scratch.
        class_names: K names stored with the model.
        input_size: frames are resized to ``input_size x input_size``.
        backbone_stage: cut the ResNet after ``layer{stage}`` (4 = the paper's last conv block).
        features_only: no backbone (the model takes cached features only); ``feature_channels``
            are those of ``backbone`` at ``backbone_stage``. No weights are read.
        hidden_channels, kernel: ConvLSTM (paper: 512, 3).
        spatial_widths: Table 1's hidden widths (paper: 1024, 512).
        spatial_kernels: Table 1's convolution sizes (paper: 3, 3, 3; odd).
        spatial_attention, temporal_attention: Table 2 ablation switches (the regulariser
            ablations are the loss weights of :func:`~attnviz.models.attention_loss`).
        energy: ``"additive"`` (default) or ``"scalar"`` (literal eq. 2, degenerate).
        energy_dim, dropout: width of the additive energy and classifier dropout.
        fast, channels_last: execution choices that do not change the numbers (see
            :class:`Recognizer`); not part of ``config``.
        pool, scale_by_n, forget_bias: head variants (see :class:`Recognizer`); the defaults
            are the paper's model as written.

    Returns:
        Recognizer; ``model.config`` rebuilds it (``build_recognizer(**config, weights=None,
        random_init=True)``, then load the state dict), which is what
        :func:`~attnviz.models.load_checkpoint` does.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise AttnvizError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    if hidden_channels < 1 or energy_dim < 1:
        raise AttnvizError(
            f"hidden_channels and energy_dim must be >= 1, got {hidden_channels}, {energy_dim}"
        )
    if kernel < 1 or kernel % 2 == 0:
        raise AttnvizError(f"ConvLSTM kernel must be odd and positive, got {kernel}")
    if len(spatial_widths) != 2 or min(spatial_widths) < 1:
        raise AttnvizError(f"spatial_widths must be two positive widths, got {spatial_widths!r}")
    if len(spatial_kernels) != 3 or any(int(k) < 1 or int(k) % 2 == 0 for k in spatial_kernels):
        raise AttnvizError(f"spatial_kernels must be three odd sizes, got {spatial_kernels!r}")
    if not 0.0 <= dropout < 1.0:
        raise AttnvizError(f"dropout must be in [0, 1), got {dropout}")
    channels = feature_channels(backbone, backbone_stage)  # checks the name and the stage
    config: dict[str, Any] = {
        "backbone": backbone,
        "num_classes": int(num_classes),
        "input_size": int(input_size),
        "backbone_stage": int(backbone_stage),
        "features_only": bool(features_only),
        "hidden_channels": int(hidden_channels),
        "kernel": int(kernel),
        "spatial_widths": [int(w) for w in spatial_widths],
        "spatial_attention": bool(spatial_attention),
        "temporal_attention": bool(temporal_attention),
        "energy": energy,
        "energy_dim": int(energy_dim),
        "dropout": float(dropout),
        "class_names": [str(c) for c in class_names] if class_names is not None else None,
    }
    if (pool, bool(scale_by_n), float(forget_bias)) != ("avg", True, 0.0):
        # stored only when not the defaults, so older checkpoints and configs stay valid
        config.update(pool=pool, scale_by_n=bool(scale_by_n), forget_bias=float(forget_bias))
    if tuple(int(k) for k in spatial_kernels) != (3, 3, 3):
        config["spatial_kernels"] = [int(k) for k in spatial_kernels]
    if features_only:
        trunk = None
    else:
        trunk, channels = build_backbone(
            backbone, weights=weights, random_init=random_init, stage=backbone_stage
        )
    return Recognizer(
        trunk,
        channels,
        num_classes,
        config=config,
        class_names=class_names,
        input_size=input_size,
        hidden_channels=hidden_channels,
        kernel=kernel,
        spatial_widths=(int(spatial_widths[0]), int(spatial_widths[1])),
        spatial_kernels=tuple(int(k) for k in spatial_kernels),
        spatial_attention=spatial_attention,
        temporal_attention=temporal_attention,
        energy=energy,
        energy_dim=energy_dim,
        dropout=dropout,
        fast=fast,
        channels_last=channels_last,
        pool=pool,
        scale_by_n=scale_by_n,
        forget_bias=forget_bias,
    )
