"""Explanation methods, each turning a :class:`~attnviz.explain.clip.Clip` into the same
per-clip maps as the model's own attention: a spatial map ``[n, h, w]`` in [0, 1] on the feature
grid and a per-frame importance ``[n]``.

``attention``
    The model's intrinsic maps: the spatial mask of eq. 1 and the temporal weights of eq. 3
    (per-frame importance by :func:`attnviz.localize.frame_importance`, default the mean over
    steps).
``gradcam``
    Layer Grad-CAM on the output of the backbone's last block, per frame: the target's logit
    differentiated with respect to each frame's feature map, gradients averaged over the grid
    as channel weights, weighted channel sum, ReLU (what captum's ``LayerGradCam`` computes).
    Importance of a frame: the sum of its Grad-CAM over the grid.
``occlusion``
    Occlusion on the features, with the rules of captum's ``Occlusion``: temporal importance is
    the drop of the target's probability when ``window`` consecutive frames are replaced by
    their baselines (averaged over the windows covering a frame; ``window=1`` drops one frame at
    a time); the spatial map is the drop when one feature cell is replaced in a block of
    ``spatial_window`` frames.
``ig``
    Integrated gradients of the target's logit from the baseline clip to the clip (the
    Gauss-Legendre rule of captum's ``IntegratedGradients``), either on the features
    (``space="features"``, default: the same as captum's ``LayerIntegratedGradients`` on the
    backbone's last block) or on the pixels (``space="pixels"``, sum-pooled onto the feature
    grid); attributions summed over channels. Importance of a frame: the sum of its
    attributions (signed; by completeness the importances add up to the logit's change from
    the baseline clip).

Perturbed and interpolated clips are built here on the clip's shared features and evaluated
``batch`` at a time (captum would build each one in Python); the tests compare every map with
captum's on the same model.

Post-hoc spatial maps keep their positive part and are divided by the clip's maximum (so that
frames with little evidence stay dark and the paper's 0.5 threshold means "half the strongest
evidence in the clip"). The base class :class:`Explainer` does that; each method overrides
:meth:`Explainer.attribute`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

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
    "map_batches",
    "parse_methods",
]

T = TypeVar("T")
R = TypeVar("R")


def map_batches(fn: Callable[[T], R], jobs: Sequence[T], like: torch.Tensor) -> Iterator[R]:
    """``fn(job)`` for each of ``jobs``, yielded in order. On the CPU with more than one
    intra-op thread (and no autocast), the jobs run in that many Python threads with one
    intra-op thread each until the last result is taken: the head's many small per-step
    operations keep the cores busier that way than when each operation is split across them
    (occlusion of the default model on 2 cores: about 20 % less time). Otherwise one after
    the other, each result yielded before the next job starts. Each job computes what it
    computes alone; grad mode is the caller's. ``like``: a tensor on the jobs' device."""
    threads = torch.get_num_threads()
    dev = like.device.type
    if (
        dev != "cpu" or threads < 2 or len(jobs) < 2 or torch.is_autocast_enabled(dev)
        or not _THREADED.acquire(blocking=False)  # another caller has set the thread count
    ):  # fmt: skip
        for job in jobs:
            yield fn(job)
        return
    grad = torch.is_grad_enabled()

    def run(job: T) -> R:
        with torch.set_grad_enabled(grad):  # grad mode is per thread
            return fn(job)

    from concurrent.futures import ThreadPoolExecutor

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(min(threads, len(jobs))) as pool:
            yield from pool.map(run, jobs)
    finally:
        torch.set_num_threads(threads)
        _THREADED.release()


#: Held while :func:`map_batches` runs jobs in threads (torch's thread count is per process).
_THREADED = threading.Lock()


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
    """Layer Grad-CAM on the output of the backbone's last block (the clip's features), per
    frame."""

    name = "gradcam"

    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        feats = clip.features.detach().requires_grad_(True)
        with torch.enable_grad():
            logit = self.model.head(feats[None]).logits[0, clip.target]
            (grad,) = torch.autograd.grad(logit, feats)
        weights = grad.mean(dim=(2, 3), keepdim=True)  # [n, C, 1, 1]
        cam = (weights * feats.detach()).sum(dim=1).clamp(min=0)  # [n, h, w]
        return cam, cam.sum(dim=(1, 2))


def _frame_split(model: nn.Module):
    """``(terms, rest, splice)``: the model's head cut into what it computes for each frame
    alone (``terms(features [B, T, C, h, w])``, a tuple of ``[B, T, ...]`` tensors or None), the
    rest (``rest(terms) -> logits``) and ``splice(base, part, start)`` (one clip's terms with
    frames from ``start`` on replaced by ``part``'s, see
    :meth:`~attnviz.models.Recognizer.splice_terms`). A model without :meth:`frame_terms` gives
    its features as the only term and its whole head as the rest."""
    if all(hasattr(model, a) for a in ("frame_terms", "head_from_terms", "splice_terms")):
        return model.frame_terms, lambda t: model.head_from_terms(t).logits, model.splice_terms

    def splice(base: tuple, part: tuple, start: int) -> tuple:
        (b,), (p,) = base, part
        e = b.expand(len(p), *b.shape[1:])
        return (torch.cat([e[:, :start], p, e[:, start + p.shape[1] :]], dim=1),)

    return (lambda f: (f,)), (lambda t: model.head(t[0]).logits), splice


class OcclusionExplainer(Explainer):
    """Occlusion of frames (temporal) and of feature cells in blocks of frames (spatial), with
    the rules of captum's ``Occlusion`` (a window's drop is given to every element it covers,
    averaged over the windows that cover it; a last block shorter than ``spatial_window`` when
    it does not divide n).

    Occluded clips are built on the shared features and evaluated ``batch`` at a time; where the
    model separates what its head computes for each frame alone (the paper's model:
    :meth:`~attnviz.models.Recognizer.frame_terms`), only the occluded frames' terms are
    recomputed and spliced into the intact clip's.

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

    def _probs(self, rest, terms: tuple, target: int) -> torch.Tensor:
        return torch.softmax(rest(terms).float(), dim=1)[:, target]

    @torch.no_grad()
    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, h, w = clip.features.shape
        terms, rest, splice = _frame_split(self.model)
        x, base = clip.features[None], clip.baseline[None]
        full = terms(x)
        p0 = self._probs(rest, full, clip.target)  # [1]
        # temporal: windows of kt frames at every start, each frame replaced by its baseline
        kt = min(self.window, n)
        removed = terms(base)
        starts = list(range(n - kt + 1))

        def windows(i: int) -> torch.Tensor:
            group = starts[i : i + self.batch]
            keep = torch.ones(len(group), n, dtype=torch.bool, device=x.device)
            for j, s in enumerate(group):
                keep[j, s : s + kt] = False
            mixed = mix_frame_terms(full, removed, keep)
            return p0 - self._probs(rest, mixed, clip.target)

        d = torch.cat(list(map_batches(windows, range(0, len(starts), self.batch), x)))
        total = torch.zeros(n, device=x.device)
        count = torch.zeros(n, device=x.device)
        for s, v in zip(starts, d, strict=True):
            total[s : s + kt] += v
            count[s : s + kt] += 1
        temporal = total / count
        # spatial: one cell replaced on a block of ks frames; blocks at 0, ks, 2 ks, ...
        ks = min(self.spatial_window, n)
        spatial = torch.zeros(n, h, w, device=x.device)
        cells = torch.eye(h * w, dtype=torch.bool, device=x.device).reshape(h * w, h, w)
        jobs = [(a, i) for a in range(0, n, ks) for i in range(0, h * w, self.batch)]

        def block(job: tuple[int, int]) -> torch.Tensor:
            a, i = job
            size = min(ks, n - a)
            f_blk, b_blk = x[:, a : a + size], base[:, a : a + size]
            hit = cells[i : i + self.batch][:, None, None]  # [P, 1, 1, h, w]
            part = terms(torch.where(hit, b_blk, f_blk))  # [P, size, ...]
            return p0 - self._probs(rest, splice(full, part, a), clip.target)

        for (a, i), d in zip(jobs, map_batches(block, jobs, x), strict=True):
            size = min(ks, n - a)
            spatial[a : a + size].view(size, -1)[:, i : i + len(d)] = d[None]
        return spatial, temporal

    def __repr__(self) -> str:
        return (
            f"OcclusionExplainer(batch={self.batch}, window={self.window}, "
            f"spatial_window={self.spatial_window})"
        )


def _bcast(keep: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``keep [P, n]`` shaped to broadcast against ``like [1, n, ...]``."""
    return keep.reshape(*keep.shape, *([1] * (like.ndim - 2)))


def mix_frame_terms(full: tuple, removed: tuple, keep: torch.Tensor) -> tuple:
    """The per-frame terms (:func:`_frame_split`) of ``P`` clips that keep frame ``t`` of the
    intact clip (``full``, each field ``[1, n, ...]``) where ``keep [P, n]`` is true and take
    its replacement's (``removed``) elsewhere: what replacing whole frames gives, without
    recomputing any frame's terms."""
    mixed = tuple(
        None if f is None else torch.where(_bcast(keep, f), f, r)
        for f, r in zip(full, removed, strict=True)
    )
    return type(full)(*mixed) if hasattr(full, "_fields") else mixed


#: Largest interpolated batch integrated gradients builds on the CPU, in bytes. Past about
#: 32 MiB each tensor of that size is a fresh ``mmap`` of the allocator, whose pages fault in
#: again on every use: 16 clips of 25 frames x 128 x 14 x 14 (40 MiB a tensor) cost 5-6x a
#: forward pass, 6-12 clips 3.9-4.2x (``benchmarks/explain_methods_speed.py``).
IG_CHUNK_BYTES = 24 * 2**20


def ig_chunks(steps: int, batch: int, clip_bytes: int, limit: int | None = IG_CHUNK_BYTES) -> int:
    """Clips per interpolated batch: at most ``batch``, at most ``limit`` bytes (``None``: no
    limit), and the ``steps`` split as evenly as that allows (32 steps by at most 9: 8 a batch)."""
    most = batch if limit is None else max(1, min(batch, limit // max(1, clip_bytes)))
    parts = -(-steps // most)
    return -(-steps // parts)


def gauss_legendre(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Points ``alpha [steps]`` in (0, 1) and weights ``[steps]`` (summing to 1) of the
    Gauss-Legendre rule on [0, 1] (captum's default rule for integrated gradients)."""
    x, wts = np.polynomial.legendre.leggauss(steps)
    return 0.5 * (1 + x), 0.5 * wts


class IGExplainer(Explainer):
    """Integrated gradients from the baseline clip, reduced to the feature grid.

    ``attr = (x - x0) * sum_k w_k grad f(x0 + alpha_k (x - x0))`` with the Gauss-Legendre
    points and weights of :func:`gauss_legendre` (as captum's ``IntegratedGradients`` computes
    it), the interpolated clips evaluated ``batch`` at a time (``batch // 8`` on pixels), fewer
    on the CPU when a batch would pass :data:`IG_CHUNK_BYTES` (:func:`ig_chunks`; the same
    numbers up to float rounding).

    Args:
        steps: points of the path integral.
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

    def _integrate(self, forward, x: torch.Tensor, x0: torch.Tensor, batch: int) -> torch.Tensor:
        """``(x - x0) * sum_k w_k d forward(x_k)[target] / d x_k`` for ``x [n, ...]``."""
        alphas, wts = gauss_legendre(self.steps)
        x, x0 = x.detach(), x0.detach()
        diff = x - x0
        total = torch.zeros_like(x)
        limit = IG_CHUNK_BYTES if x.device.type == "cpu" else None
        batch = ig_chunks(self.steps, batch, x.numel() * x.element_size(), limit)

        def chunk(i: int) -> torch.Tensor:
            a = torch.as_tensor(alphas[i : i + batch], dtype=x.dtype, device=x.device)
            k = torch.as_tensor(wts[i : i + batch], dtype=x.dtype, device=x.device)
            shape = (len(a),) + (1,) * x.ndim
            xs = (x0[None] + a.reshape(shape) * diff[None]).requires_grad_(True)
            with torch.enable_grad():
                (grad,) = torch.autograd.grad(forward(xs).sum(), xs)
            return torch.tensordot(k, grad, dims=1)  # sum_k w_k grad_k in one product

        for part in map_batches(chunk, range(0, self.steps, batch), x):
            total += part  # in the order of the steps, whichever thread computed them
        return total * diff

    def attribute(self, clip: Clip) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = clip.grid
        k = clip.target
        if self.space == "features":
            attr = self._integrate(
                lambda v: self.model.head(v).logits[:, k], clip.features, clip.baseline, self.batch
            )
            grid = attr.sum(dim=1)
        else:
            if clip.frames is None or clip.baseline_frames is None:
                raise AttnvizError(
                    "pixel-space integrated gradients need prepare_clip(keep_frames=True)"
                )
            attr = self._integrate(
                lambda v: self.model(v).logits[:, k],
                clip.frames,
                clip.baseline_frames,
                max(1, self.batch // 8),
            )
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
