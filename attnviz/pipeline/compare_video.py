"""``attnviz compare-explanations --model NAME``: any video classifier's explanations
(:mod:`attnviz.explain.video_methods`: ``gradcam``, ``gradcam++``, ``ig``, ``occlusion``) in
the table of :mod:`attnviz.pipeline.compare`, next to the paper model's ``attention`` when it
is asked for.

What differs from the paper model's comparison, and why:

* sampling: both models see the same sampled frames (``frames`` uniform samples, default the
  video model's clip length, or ``fps``); the video model explains them in windows of its clip
  length (stride half a clip), the paper's model as the explain command does;
* faithfulness: the video model's frames and cells (the target layer's grid) are removed by
  their blurred copies and every point of a curve is a forward pass of the whole network
  (:func:`~attnviz.explain.video_methods.clip_scorers`); its random orders are the
  ``random order`` row. The attention's curves are the paper model's, against its own random
  orders (``random order (paper model)``): each model is compared with its own reference;
* sanity: the video model re-initialised in two stages, its last linear layer (the
  classifier) and then every layer;
* ``top1``: the accuracy of the model behind each method on the compared videos.

Localization, pointing and energy are scored by the same functions as for the paper's model
(:func:`attnviz.pipeline.scoring.score_maps` through :mod:`attnviz.pipeline.compare`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence

import numpy as np

from attnviz.errors import AttnvizError

__all__ = ["PAPER_RANDOM_ROW", "VIDEO_STAGES", "VideoFaithfulness", "video_sanity"]

#: The paper model's random-order reference when a video model is compared.
PAPER_RANDOM_ROW = "random order (paper model)"
#: Cascading randomisation of a video model: its classifier, then every layer.
VIDEO_STAGES = ("classifier", "all")


class CurveSet:
    """Deletion and insertion curves (frames and cells) of every clip, for each method and for
    random orders: what the paper model's and a video model's faithfulness share (``curves``,
    ``clips``, :meth:`mean_curves`); subclasses give the scorers in their ``on_clip``.

    Args:
        methods: the methods compared.
        batch: perturbed clips per forward pass.
        spatial_steps, temporal_steps, random_orders, seed: as ``compare_explanations``.
        random_row: the name of the random-order row.
    """

    def __init__(
        self, methods, *, batch, spatial_steps, temporal_steps, random_orders, seed, random_row
    ) -> None:
        self.batch = batch
        self.spatial = dict(steps=spatial_steps, batch=batch, seed=seed)
        self.temporal = dict(steps=temporal_steps, batch=batch, seed=seed)
        self.random_orders = random_orders
        self.random_row = random_row
        self.curves: dict[str, dict[str, list]] = {m: {} for m in [*methods, random_row]}
        self.clips = 0

    def _add(self, method: str, kind: str, curve) -> None:
        self.curves[method].setdefault(kind, []).append(curve)

    def add_method(self, method: str, importance, mask, ts, ss) -> None:
        """One method's four curves on one clip: frames removed / added in the order of
        ``importance`` (scored by ``ts``), cells in the order of ``mask`` (``ss``)."""
        from attnviz.metrics import deletion_curve, insertion_curve

        self._add(method, "deletion_frames", deletion_curve(importance, ts, **self.temporal))
        self._add(method, "insertion_frames", insertion_curve(importance, ts, **self.temporal))
        self._add(method, "deletion_cells", deletion_curve(mask, ss, **self.spatial))
        self._add(method, "insertion_cells", insertion_curve(mask, ss, **self.spatial))

    def add_random(self, frames_shape: tuple, cells_shape: tuple, ts, ss) -> None:
        """The random-order row's curves on one clip."""
        from attnviz.metrics import random_order_curves

        shapes = {
            "frames": (frames_shape, ts, self.temporal),
            "cells": (cells_shape, ss, self.spatial),
        }
        for what, (shape, scorer, kw) in shapes.items():
            d, i = random_order_curves(shape, scorer, repeats=self.random_orders, **kw)
            self._add(self.random_row, f"deletion_{what}", d)
            self._add(self.random_row, f"insertion_{what}", i)

    def mean_curves(self) -> dict[str, dict[str, object]]:
        """``{method: {kind: mean curve}}`` over the clips (random orders as ``random_row``)."""
        from attnviz.metrics import mean_curve

        return {m: {k: mean_curve(v) for k, v in c.items() if v} for m, c in self.curves.items()}


class VideoFaithfulness(CurveSet):
    """:class:`CurveSet` of a video model's clips."""

    def on_clip(self, ex, frames: np.ndarray, maps: Mapping[str, object]) -> None:
        """Curves of one clip (``frames [L, H, W, 3]`` as the model saw them), ``maps``:
        method -> :class:`~attnviz.explain.video_methods.VideoClipMaps`; ``ex``: an
        explainer of the model (its batch and precision are used)."""
        from attnviz.explain.video_methods import clip_scorers

        self.clips += 1
        first = next(iter(maps.values()))
        scorers: dict[tuple[int, int], tuple] = {}

        def get(grid):
            if grid not in scorers:
                scorers[grid] = clip_scorers(ex, frames, first.target, grid)
            return scorers[grid]

        for m, mp in maps.items():
            ts, ss = get(tuple(mp.mask.shape[-2:]))
            self.add_method(m, mp.importance, mp.mask, ts, ss)
        ts, ss = get(tuple(first.mask.shape[-2:]))
        self.add_random((len(first.importance),), tuple(first.mask.shape), ts, ss)


def _last_linear(module):
    from torch import nn

    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise AttnvizError("the video model has no linear classifier to re-initialise")
    return linears[-1]


def video_sanity(
    explainers: Mapping[str, object], clips: Sequence[np.ndarray], *, seed: int = 0
) -> list[dict]:
    """Cascading randomisation of a video model (:data:`VIDEO_STAGES`) on ``clips`` (``[L, H,
    W, 3]`` uint8 each): the mean Spearman correlation of each method's mask and importance
    with the trained model's, per stage. Rows ``{method, stage, rho_mask, rho_importance,
    clips}`` (a map gone flat keeps none of the ranking: 0)."""
    import torch

    from attnviz.explain.randomize import _reinit
    from attnviz.metrics import rank_correlation

    def rho(a, b) -> float:
        r = rank_correlation(a, b)
        if np.isnan(r) and np.ptp(np.asarray(a)) > 0:
            return 0.0
        return r

    if not clips or not explainers:
        return []
    first = next(iter(explainers.values()))
    trained = [{m: ex(c) for m, ex in explainers.items()} for c in clips]
    work = copy.deepcopy(first.model)
    work.module.eval()
    acc: dict[tuple[str, str], list[tuple[float, float]]] = {}
    gen = torch.Generator().manual_seed(seed)
    for stage in VIDEO_STAGES:
        mods = [_last_linear(work.module)] if stage == "classifier" else [work.module]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            for mod in mods:
                _reinit(mod)
        for c, tr in zip(clips, trained, strict=True):
            for m, ex in explainers.items():
                rex = copy.copy(ex)
                rex.model = work
                rex.target = tr[m].target
                maps = rex(c)
                acc.setdefault((m, stage), []).append(
                    (rho(tr[m].mask, maps.mask), rho(tr[m].importance, maps.importance))
                )
    from attnviz.pipeline.compare import sanity_rows

    return sanity_rows(acc, list(explainers), VIDEO_STAGES)


def explain_video_dataset(data, explainers, paper, faith, paper_faith, sampling, run, *, quiet):
    """Every video of ``data`` explained by each video method (``explainers``: name ->
    :class:`~attnviz.explain.video_methods.VideoExplainer`) and, with ``paper = (model,
    explainer)``, by the paper model's attention; fills ``run`` (maps, per-model correctness,
    timings) and the faithfulness curves. Returns the first clip of each video (for the
    sanity check)."""
    from tqdm.auto import tqdm

    from attnviz.explain.video import explain_video_methods
    from attnviz.explain.video_methods import explain_video_model

    first_clips = []
    for key, path in tqdm(data.videos.items(), desc="videos", unit="video", disable=quiet):
        res = {}
        if paper is not None:
            model, explainer = paper
            res.update(
                explain_video_methods(
                    path,
                    model,
                    {"attention": explainer},
                    frames=sampling.frames,
                    fps=sampling.fps,
                    window=sampling.window,
                    stride=sampling.stride,
                    baseline=sampling.baseline,
                    name=key,
                    on_clip=paper_faith.on_clip,
                    timings=run.timings,
                    quiet=quiet,
                )  # fmt: skip
            )
        clips: dict[int, list] = {}
        for m, ex in explainers.items():

            def on_clip(frames, start, maps, m=m, clips=clips):
                clips.setdefault(start, [frames, {}])[1][m] = maps

            t0 = time.perf_counter()
            res[m] = explain_video_model(
                path, ex, frames=sampling.frames, fps=sampling.fps, quiet=True,
                on_clip=on_clip, name=key,
            )  # fmt: skip
            run.timings[m] = run.timings.get(m, 0.0) + time.perf_counter() - t0
        ex0 = next(iter(explainers.values()))
        for start in sorted(clips):
            faith.on_clip(ex0, clips[start][0], clips[start][1])
        if clips:
            first_clips.append(clips[min(clips)][0])
        for m, o in res.items():
            run.outs[m].append(o)
            if key in data.labels:
                run.top1.setdefault(m, []).append(o.class_names[o.top_class] == data.labels[key])
        if key in data.labels:
            o = res[next(iter(explainers))]
            run.correct.append(o.class_names[o.top_class] == data.labels[key])
    return first_clips
