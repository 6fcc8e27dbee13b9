"""Explanation methods for any :class:`~attnviz.models.video_model.ExplainableVideoModel`
(torchvision's 3D CNNs and video transformers, a user's model, the paper's recognizer), and a
whole video explained in windows of the model's clip length into the same
:class:`~attnviz.types.AttentionOutput` as the paper's attention.

Methods, on one preprocessed clip ``x [1, 3, T, S, S]`` and a target class:

``gradcam``
    Grad-CAM in 3D: the target layer's activations ``A [C, T', h, w]`` and the gradients ``G``
    of the target's logit; channel weights ``G`` averaged over ``T', h, w``; ``ReLU(sum_c w_c
    A_c)``.
``gradcam++``
    Grad-CAM++ (Chattopadhyay et al.), the closed form of pytorch-grad-cam in 3D:
    ``alpha = G^2 / (2 G^2 + sum_{T',h,w}(A) G^3)``, weights ``sum_{T',h,w} alpha ReLU(G)``.
``ig``
    Integrated gradients on the pixels from a blurred copy of the clip (captum), summed over
    colour channels and sum-pooled onto the target layer's ``h x w`` grid; per-frame
    importance: the sum of a frame's (signed) attributions.
``occlusion``
    The drop of the target's probability when one frame (a block of ``temporal_window``
    frames) is replaced by its blurred copy (per-frame importance), and when one cell of a
    ``grid`` (default the target layer's ``h x w``) is blurred in a block of
    ``spatial_window`` frames (default the whole clip).

Attention rollout is not offered: torchvision's ``mvit_*`` and ``swin3d_*`` compute their
attention probabilities inside ``forward`` (a ``softmax`` in ``MultiscaleAttention`` and in
``shifted_window_attention_3d``) and expose them through no module output a hook could read;
MViT also pools queries between stages and Swin mixes shifted windows, so there is no single
token-to-token matrix per layer to multiply.

**Time rule.** A 3D network shortens time (``T = 16`` frames become ``T' = 8`` or ``2``).
Sampled frame ``k`` of a clip of ``T`` gets the map at its centre time on the ``T'`` steps,
``u = (k + 0.5) T' / T - 0.5`` clamped to ``[0, T' - 1]``, linearly interpolated between the
two nearest steps (``F.interpolate(mode="linear", align_corners=False)``);
:func:`steps_to_frames`.

**Precision.** ``precision="bf16"`` runs every forward pass (and Grad-CAM's and integrated
gradients' backward passes) under :func:`attnviz.models.autocast`, as the paper's model does
with ``--precision bf16``; maps and probabilities come back as float32.

**Space.** Maps are made non-negative, divided by the clip's maximum (as for the paper's
post-hoc methods) and placed on the whole source frame by the model's
:class:`~attnviz.models.video_model.ClipTransform` (zero outside the centre crop).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from attnviz.errors import AttnvizError
from attnviz.explain.clip import blur_frames
from attnviz.types import AttentionOutput

__all__ = [
    "VIDEO_METHODS",
    "ShortClipWarning",
    "VideoClipMaps",
    "VideoExplainer",
    "build_video_explainer",
    "clip_scorers",
    "explain_clip",
    "explain_video_model",
    "gradcam_3d",
    "steps_to_frames",
]

VIDEO_METHODS = ("gradcam", "gradcam++", "ig", "occlusion")


class ShortClipWarning(UserWarning):
    """A video shorter than the model's clip: frames were repeated to fill it."""


@dataclass(frozen=True)
class VideoClipMaps:
    """One clip explained.

    Attributes:
        mask (ndarray[T, h, w] float32): in [0, 1] on the model's input grid.
        importance (ndarray[T] float64): per-frame importance (the method's scale).
        probs (ndarray[K] float32): class probabilities on the intact clip.
        target (int): the class explained.
    """

    mask: np.ndarray
    importance: np.ndarray
    probs: np.ndarray
    target: int


def steps_to_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """``x [T', ...]`` on the network's time steps -> ``[frames, ...]`` by the time rule of the
    module docstring (linear, ``align_corners=False``; ``T' == frames`` is the identity)."""
    tp = x.shape[0]
    if tp == frames:
        return x
    flat = x.reshape(tp, -1).T[None].float()  # [1, N, T']
    out = F.interpolate(flat, size=frames, mode="linear", align_corners=False)
    return out[0].T.reshape(frames, *x.shape[1:])


class _Capture:
    """Forward hook keeping the target layer's last output."""

    def __init__(self, vm) -> None:
        self.vm = vm
        self.out = None
        self._handle = None

    def __enter__(self) -> _Capture:
        def hook(_m, _i, out):
            self.out = out

        try:
            self._handle = self.vm.layer().register_forward_hook(hook)
        except RuntimeError as exc:  # TorchScript modules take no hooks
            raise AttnvizError(
                f"{self.vm.name}: cannot hook {self.vm.target_layer!r} ({exc})"
            ) from None
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()


def _forward(vm, x: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
    """``vm.forward(x)`` under ``precision``'s autocast, as float32 logits."""
    from attnviz.models.precision import autocast

    with autocast(x.device.type, precision):
        return vm.forward(x).float()


def _acts_grads(vm, x: torch.Tensor, target: int | None, precision: str = "fp32"):
    """``(A [C, T', h, w], G [C, T', h, w], logits [K])`` for ``target`` (default: top)."""
    with torch.enable_grad(), _Capture(vm) as cap:
        logits = _forward(vm, x, precision)[0]
        k = int(torch.argmax(logits)) if target is None else int(target)
        feats = vm.features_tensor(cap.out)
        (grad,) = torch.autograd.grad(logits[k], feats)
    t = x.shape[2]
    a = vm.to_bcthw(cap.out, clip_len=t)[0].detach().float()
    g = vm.to_bcthw(cap.out, grad, clip_len=t)[0].float()
    return a, g, logits.detach(), k


def gradcam_3d(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Grad-CAM of ``A, G [C, T', h, w]``: ``ReLU(sum_c mean_{T',h,w}(G_c) A_c)`` ->
    ``[T', h, w]``."""
    w = g.mean(dim=(1, 2, 3))
    return torch.relu((w[:, None, None, None] * a).sum(0))


def gradcam_pp_3d(a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++ of ``A, G [C, T', h, w]`` -> ``[T', h, w]`` (module docstring)."""
    g2, g3 = g.pow(2), g.pow(3)
    s = a.sum(dim=(1, 2, 3), keepdim=True)
    alpha = g2 / (2 * g2 + s * g3 + 1e-7)
    alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
    w = (alpha * torch.relu(g)).sum(dim=(1, 2, 3))
    return torch.relu((w[:, None, None, None] * a).sum(0))


class VideoExplainer:
    """A model with one method: ``explainer(frames [T, H, W, 3] uint8)`` explains a clip
    (:func:`explain_clip`), :meth:`explain_video` a video (used by ``spatial-map`` /
    ``temporal-map`` when ``--model`` is given).

    Args:
        model: an :class:`~attnviz.models.video_model.ExplainableVideoModel`.
        method: one of :data:`VIDEO_METHODS`.
        steps, batch: integrated gradients' path points and interpolated clips per pass.
        grid, spatial_window, temporal_window: occlusion's cell grid, frames per spatial
            block, frames blurred together for per-frame importance (blocks do not overlap).
        target: the class explained (default: each clip's top class).
        precision: ``fp32`` or ``bf16`` (autocast; module docstring).
    """

    def __init__(
        self,
        model,
        method: str = "gradcam",
        *,
        steps: int = 16,
        batch: int = 4,
        grid: tuple[int, int] | None = None,
        spatial_window: int | None = None,
        temporal_window: int = 1,
        target: int | None = None,
        precision: str = "fp32",
    ) -> None:
        from attnviz.models.precision import PRECISIONS

        if precision not in PRECISIONS:
            raise AttnvizError(f"precision must be fp32 or bf16, got {precision!r}")
        if method == "rollout":
            raise AttnvizError(
                f"{model.name}: attention rollout is not available: torchvision's video "
                "transformers expose no attention probabilities (see "
                "attnviz.explain.video_methods); use gradcam, gradcam++, ig or occlusion"
            )
        if method not in VIDEO_METHODS:
            raise AttnvizError(
                f"unknown method {method!r} for {model.name}: expected one of "
                f"{', '.join(VIDEO_METHODS)}"
            )
        if steps < 1 or batch < 1 or temporal_window < 1:
            raise AttnvizError(
                f"steps, batch and temporal_window must be >= 1, got {steps}, {batch}, "
                f"{temporal_window}"
            )
        self.model = model
        self.method = method
        self.steps = steps
        self.batch = batch
        self.grid = grid
        self.spatial_window = spatial_window
        self.temporal_window = temporal_window
        self.target = target
        self.precision = precision

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.model.class_names

    def __call__(self, frames: np.ndarray) -> VideoClipMaps:
        return explain_clip(self, frames)

    def explain_video(self, video, **kwargs) -> AttentionOutput:
        return explain_video_model(video, self, **kwargs)

    def __repr__(self) -> str:
        return f"VideoExplainer({self.model!r}, method={self.method!r})"


def _grid_of(vm, x: torch.Tensor, precision: str = "fp32") -> tuple[int, int]:
    with torch.no_grad(), _Capture(vm) as cap:
        _forward(vm, x, precision)
    a = vm.to_bcthw(cap.out, clip_len=x.shape[2])
    return int(a.shape[-2]), int(a.shape[-1])


def _pool(pix: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``pix [T, S, S]`` sum-pooled onto ``grid``."""
    area = pix.shape[-2] * pix.shape[-1] / float(grid[0] * grid[1])
    return F.adaptive_avg_pool2d(pix[:, None], grid)[:, 0] * area


def _blurred(x: torch.Tensor) -> torch.Tensor:
    """``x [1, 3, T, S, S]`` with every frame blurred (:func:`attnviz.explain.clip.blur_frames`)."""
    frames = x[0].permute(1, 0, 2, 3)
    return blur_frames(frames).permute(1, 0, 2, 3)[None]


def _probs(vm, x: torch.Tensor, batch: int, precision: str = "fp32") -> torch.Tensor:
    with torch.no_grad():
        return torch.cat(
            [
                torch.softmax(_forward(vm, x[i : i + batch], precision), 1)
                for i in range(0, len(x), batch)
            ]
        )


def _occlusion(ex: VideoExplainer, x: torch.Tensor, k: int, p0: float, grid):
    vm, t = ex.model, x.shape[2]
    base = _blurred(x)
    tw = min(t, ex.temporal_window)
    tstarts = list(range(0, t, tw))
    clips = []
    for s in tstarts:  # one block of frames at a time
        y = x.clone()
        y[:, :, s : s + tw] = base[:, :, s : s + tw]
        clips.append(y)
    drops = p0 - _probs(vm, torch.cat(clips), ex.batch, ex.precision)[:, k]
    temporal = torch.cat([drops[b : b + 1].expand(min(tw, t - s))
                          for b, s in enumerate(tstarts)])  # fmt: skip
    gh, gw = grid
    sh, sw = x.shape[-2:]
    ys = np.linspace(0, sh, gh + 1).round().astype(int)
    xs = np.linspace(0, sw, gw + 1).round().astype(int)
    block = min(t, ex.spatial_window or t)
    starts = list(range(0, t, block))
    clips = []
    for s in starts:
        for i in range(gh):
            for j in range(gw):
                y = x.clone()
                sl = (slice(None), slice(None), slice(s, s + block))
                y[(*sl, slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))] = base[
                    (*sl, slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
                ]
                clips.append(y)
    drops = (p0 - _probs(vm, torch.cat(clips), ex.batch, ex.precision)[:, k]).reshape(
        len(starts), gh, gw
    )
    spatial = torch.cat([drops[b : b + 1].expand(min(block, t - s), -1, -1)
                         for b, s in enumerate(starts)])  # fmt: skip
    return spatial, temporal


def explain_clip(ex: VideoExplainer, frames: np.ndarray) -> VideoClipMaps:
    """One clip, ``frames [T, H, W, 3] uint8`` RGB (``T`` = the model's clip length, or any
    length the network accepts), explained by ``ex``'s method for ``ex.target`` (default: the
    top class). The mask is on the model's input grid (before :meth:`ClipTransform.to_frame`).
    """
    vm = ex.model
    x = vm.preprocess(frames)[None].to(vm.device)
    t = x.shape[2]
    if ex.method in ("gradcam", "gradcam++"):
        a, g, logits, k = _acts_grads(vm, x, ex.target, ex.precision)
        cam = (gradcam_3d if ex.method == "gradcam" else gradcam_pp_3d)(a, g)
        raw = steps_to_frames(cam, t)
        imp = raw.sum(dim=(1, 2))
        probs = torch.softmax(logits.float(), 0)
    else:
        probs = _probs(vm, x, 1, ex.precision)[0]
        k = int(torch.argmax(probs)) if ex.target is None else int(ex.target)
        own = (x.shape[-2] // 16, x.shape[-1] // 16)
        if ex.method == "ig":
            from captum.attr import IntegratedGradients

            grid = _grid_of(vm, x, ex.precision) if vm.target_layer else own
            with torch.enable_grad():
                attr = IntegratedGradients(lambda z: _forward(vm, z, ex.precision)).attribute(
                    x, baselines=_blurred(x), target=k, n_steps=ex.steps,
                    internal_batch_size=ex.batch,
                )[0]  # fmt: skip
            raw = _pool(attr.sum(0).detach().float(), grid)
            imp = raw.sum(dim=(1, 2))
        else:
            grid = ex.grid or (_grid_of(vm, x, ex.precision) if vm.target_layer else own)
            raw, imp = _occlusion(ex, x, k, float(probs[k]), grid)
    if not 0 <= k < len(probs):
        raise AttnvizError(f"target class {k} is not one of the model's {len(probs)} classes")
    raw = raw.detach().float().clamp(min=0).cpu()
    top = float(raw.max()) if raw.numel() else 0.0
    mask = raw / top if top > 0 else torch.zeros_like(raw)
    return VideoClipMaps(
        mask.numpy().astype(np.float32),
        imp.detach().double().cpu().numpy(),
        probs.detach().float().cpu().numpy(),
        k,
    )


def clip_scorers(
    ex: VideoExplainer, frames: np.ndarray, target: int, grid: tuple[int, int]
) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """``(temporal, spatial)`` scorers of one clip for
    :func:`attnviz.metrics.deletion_curve` / :func:`~attnviz.metrics.insertion_curve`:
    ``temporal(keep [S, T] bool) -> ndarray[S]`` and ``spatial(keep [S, T, h, w] bool) ->
    ndarray[S]``, the probability of ``target`` when the frames (the cells of the ``h x w``
    ``grid`` over the model's input, nearest-upsampled) with ``keep == False`` are replaced by
    their blurred copies (the baseline of occlusion and integrated gradients). Each score is a
    forward pass of the whole model (``ex.batch`` clips at a time, ``ex.precision``)."""
    vm = ex.model
    x = vm.preprocess(frames)[None].to(vm.device)
    base = _blurred(x)
    size = tuple(x.shape[2:])

    def run(keep: torch.Tensor) -> np.ndarray:
        k = keep.to(vm.device)[:, None]  # [S, 1, T, Sh, Sw]
        clips = torch.where(k, x, base)
        p = _probs(vm, clips, ex.batch, ex.precision)[:, target]
        return p.cpu().numpy().astype(np.float64)

    def temporal(keep: np.ndarray) -> np.ndarray:
        k = torch.as_tensor(np.asarray(keep, dtype=bool))
        return run(k[:, :, None, None].expand(-1, -1, *size[1:]))

    def spatial(keep: np.ndarray) -> np.ndarray:
        k = torch.as_tensor(np.asarray(keep, dtype=bool))
        if tuple(k.shape[-2:]) != tuple(grid):
            raise AttnvizError(f"keep must be [S, T, {grid[0]}, {grid[1]}], got {tuple(k.shape)}")
        up = F.interpolate(k[:, None].float(), size=size, mode="nearest")[:, 0] > 0.5
        return run(up)

    return temporal, spatial


# --------------------------------------------------------------------------- whole video
def _pad_index(n: int, length: int) -> np.ndarray:
    """Indices ``[length]`` into ``n < length`` frames, each repeated in order."""
    return np.floor(np.arange(length) * n / length).astype(int)


class _Windows:
    """Runs clips and keeps per-sample running sums of the full-frame maps."""

    def __init__(self, ex: VideoExplainer, size: tuple[int, int], on_clip=None) -> None:
        self.ex = ex
        self.size = size
        self.on_clip = on_clip
        self.mask: list[np.ndarray] = []
        self.imp: list[float] = []
        self.count: list[int] = []
        self.blocks: list[np.ndarray] = []
        self.starts: list[int] = []
        self.prob_sum: np.ndarray | None = None

    def run(self, frames: list[np.ndarray], start: int) -> None:
        from attnviz.explain.methods import importance_rows

        n, length = len(frames), self.ex.model.preprocess.clip_len
        idx = _pad_index(n, length) if n < length else np.arange(n)
        clip = np.stack([frames[i] for i in idx])
        maps = self.ex(clip)
        if self.on_clip is not None:
            self.on_clip(clip, start, maps)
        full = self.ex.model.preprocess.to_frame(torch.from_numpy(maps.mask), *self.size).numpy()
        mask = np.stack([full[idx == j].mean(0) for j in range(n)])  # repeats averaged back
        imp = np.array([maps.importance[idx == j].mean() for j in range(n)])
        while len(self.count) < start + n:
            self.mask.append(np.zeros(mask.shape[1:]))
            self.imp.append(0.0)
            self.count.append(0)
        for j in range(n):
            self.mask[start + j] += mask[j]
            self.imp[start + j] += float(imp[j])
            self.count[start + j] += 1
        self.blocks.append(importance_rows(imp))
        self.starts.append(start)
        p = maps.probs.astype(np.float64)
        self.prob_sum = p if self.prob_sum is None else self.prob_sum + p

    def final(self, t: int) -> tuple[np.ndarray, float]:
        return (self.mask[t] / self.count[t]).astype(np.float32), self.imp[t] / self.count[t]


def explain_video_model(
    video: str | os.PathLike[str],
    ex: VideoExplainer,
    *,
    frames: int | None = None,
    fps: float | None = None,
    window: int | None = None,
    stride: int | None = None,
    quiet: bool = False,
    on_final: Callable[[int, int, np.ndarray, np.ndarray, float], None] | None = None,
    on_clip: Callable[[np.ndarray, int, VideoClipMaps], None] | None = None,
    precision: str | None = None,
    name: str | None = None,
    **_ignored,
) -> AttentionOutput:
    """Explain ``video`` with ``ex`` in windows of the model's clip length ``L``.

    Sampling: ``frames`` frames uniformly over the video (default ``L``), or ``fps`` frames per
    second. The samples are cut into windows of ``L`` every ``stride`` samples (default
    ``L // 2``, at most ``L``), the last window ending on the last sample; a sampled frame's map
    and importance are the means over the windows covering it; the video's scores the mean of
    the windows' probabilities. Fewer than ``L`` samples: the clip is filled by repeating each
    frame in order (a :class:`ShortClipWarning`) and the repeats' maps are averaged back.
    ``window`` is ignored (the clip length is the model's). ``on_final`` as in
    :func:`attnviz.pipeline.explain.explain_video`. Only the frames of one window (and those
    not final yet, when ``on_final`` is given) are held. ``on_clip(frames [L, H, W, 3] uint8,
    start, VideoClipMaps)`` is called after each window (the clip as the model saw it, padded
    when short). ``precision`` overrides the explainer's for this video; ``name`` is the
    output's ``video`` (default: the file stem).

    Returns:
        AttentionOutput: masks on the whole frame's grid (:meth:`ClipTransform.frame_grid`),
        ``temporal [W, L, L]`` with ``window_starts`` (rows: the window's importance, shifted
        to be non-negative and normalised).
    """
    from collections import deque

    from tqdm.auto import tqdm

    from attnviz.io.video import iter_sampled, sample_uniform, stream_fps

    if precision is not None and precision != ex.precision:
        import copy

        ex = copy.copy(ex)
        ex.precision = precision
    length = ex.model.preprocess.clip_len
    step = min(length, stride or max(1, length // 2))
    if step < 1:
        raise AttnvizError(f"stride must be >= 1, got {stride}")
    path = Path(video)
    bar = tqdm(desc=path.name, unit="frame", disable=quiet, leave=False)
    try:
        if fps is None:
            n = frames or length
            if n < 1:
                raise AttnvizError(f"frames must be >= 1, got {n}")
            info, got = sample_uniform(path, n, progress=bar.update)
            vfps, source = info.fps, iter(got)
            if info.num_frames < length:
                warnings.warn(
                    f"{path}: {info.num_frames} frames, fewer than {ex.model.name}'s clip of "
                    f"{length}: frames repeated to fill it",
                    ShortClipWarning,
                    stacklevel=2,
                )
        else:
            if not fps > 0:
                raise AttnvizError(f"fps must be positive, got {fps}")
            vfps = stream_fps(path)
            source = iter_sampled(path, fps, fps=vfps, progress=bar.update)
        buf: deque[np.ndarray] = deque(maxlen=length)
        held: dict[int, np.ndarray] = {}
        index: list[int] = []
        win: _Windows | None = None
        next_start = done = 0

        def finalise(upto: int) -> None:
            nonlocal done
            while done < upto:
                if on_final is not None:
                    m, v = win.final(done)
                    on_final(done, index[done], held.pop(done), m, v)
                done += 1

        for i0, f in source:
            if win is None:
                win = _Windows(ex, f.shape[:2], on_clip)
            index.append(i0)
            buf.append(f)
            if on_final is not None:
                held[len(index) - 1] = f
            if len(index) - next_start == length:
                win.run(list(buf), next_start)
                next_start += step
                finalise(min(next_start, len(index) - length))  # later windows start there
        total = len(index)
        if total == 0:
            raise AttnvizError(f"{path}: no frame could be decoded")
        if total < length:
            warnings.warn(
                f"{path}: {total} sampled frames, fewer than {ex.model.name}'s clip of {length}: "
                "frames repeated to fill it",
                ShortClipWarning,
                stacklevel=2,
            )
            win.run(list(buf), 0)
        elif win.starts[-1] + length < total:
            win.run(list(buf), total - length)
        finalise(total)
    finally:
        bar.close()
    n = win.blocks[0].shape[0]
    counts = np.asarray(win.count, dtype=np.float64)
    return AttentionOutput(
        frame_indices=np.asarray(index, dtype=np.int64) + 1,
        timestamps=np.asarray(index, dtype=np.float64) / vfps,
        frame_size=(int(win.size[0]), int(win.size[1])),
        mask=(np.stack(win.mask) / counts[:, None, None]).astype(np.float32),
        temporal=np.stack(win.blocks).reshape(len(win.blocks), n, n).astype(np.float32),
        frame_importance=(np.asarray(win.imp) / counts).astype(np.float32),
        scores=(win.prob_sum / len(win.blocks)).astype(np.float32),
        class_names=tuple(ex.class_names),
        video=name or path.stem,
        fps=float(vfps),
        window_starts=np.asarray(win.starts, dtype=np.int64),
    )


def build_video_explainer(
    model: str,
    *,
    weights: str | None = None,
    method: str = "gradcam",
    target_layer: str | None = None,
    resize_whole_frame: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    class_names: tuple[str, ...] | None = None,
    **options,
) -> VideoExplainer:
    """The explainer behind ``--model/--weights/--method/--target-layer``: the model of
    :func:`~attnviz.models.video_model.load_video_model` with one method. ``weights=None``:
    ``DEFAULT`` for torchvision's models, none for a user's module (its own). ``options``:
    :class:`VideoExplainer`'s (``steps``, ``batch``, ``temporal_window``, ...)."""
    from attnviz.models.video_model import TORCHVISION_VIDEO_MODELS, load_video_model

    if weights is None:
        weights = "DEFAULT" if model in TORCHVISION_VIDEO_MODELS else "none"

    vm = load_video_model(
        model,
        weights=weights,
        target_layer=target_layer,
        mode="resize" if resize_whole_frame else "crop",
        checkpoint=checkpoint,
        device=device,
        class_names=class_names,
    )
    return VideoExplainer(vm, method, precision=precision, **options)
