"""Every explanation method over a whole video, streamed, in the windows of the explain command.

Sampling is that of ``attnviz spatial-map``: ``frames`` uniformly over the video (the paper's
n = 25, one clip), or ``fps`` frames per second cut into windows of ``window`` samples every
``stride`` samples (:func:`attnviz.io.video.window_starts`: the last window ends at the last
sample). The backbone runs once per window and every method reuses its features; a sampled
frame's map and importance are the means over the windows that cover it, the video's class
probabilities the mean of the windows' (weighted by window length). Only the frames of one
window are held in memory.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.explain.clip import Clip, prepare_clip
from attnviz.explain.methods import ClipMaps, Explainer, make_explainer
from attnviz.types import AttentionOutput

__all__ = ["ClipHook", "explain_frames", "explain_video_methods", "stitch"]

#: ``on_clip(clip, start, maps)``: called once per window with the prepared clip, the index of
#: its first sampled frame and each method's :class:`~attnviz.explain.methods.ClipMaps`.
ClipHook = Callable[[Clip, int, Mapping[str, ClipMaps]], None]


@dataclass
class _Stitch:
    """Per-sample running sums for one method."""

    mask_sum: list[np.ndarray] = field(default_factory=list)
    imp_sum: list[float] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    blocks: list[np.ndarray] = field(default_factory=list)

    def add(self, start: int, maps: ClipMaps) -> None:
        n = len(maps.importance)
        while len(self.count) < start + n:
            self.mask_sum.append(np.zeros(maps.mask.shape[1:], dtype=np.float64))
            self.imp_sum.append(0.0)
            self.count.append(0)
        for j in range(n):
            self.mask_sum[start + j] += maps.mask[j]
            self.imp_sum[start + j] += float(maps.importance[j])
            self.count[start + j] += 1
        self.blocks.append(maps.temporal.astype(np.float32))


def stitch(
    windows: Sequence[tuple[int, ClipMaps]], num_samples: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean map and importance of each sampled frame over the windows covering it.

    Args:
        windows: ``(start, maps)`` per window.
        num_samples: T.

    Returns:
        ``(mask [T, h, w] float32, importance [T] float32, temporal [W, n, n] float32)`` (the
        blocks padded with NaN when windows differ in length).
    """
    acc = _Stitch()
    for start, maps in windows:
        acc.add(start, maps)
    return _finish(acc, num_samples)


def _finish(acc: _Stitch, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.asarray(acc.count[:t], dtype=np.float64)
    if len(counts) < t or (counts == 0).any():
        raise AttnvizError("internal error: a sampled frame is covered by no window")
    mask = np.stack(acc.mask_sum[:t]) / counts[:, None, None]
    imp = np.asarray(acc.imp_sum[:t]) / counts
    wmax = max(b.shape[0] for b in acc.blocks)
    temporal = np.full((len(acc.blocks), wmax, wmax), np.nan, dtype=np.float32)
    for b, blk in enumerate(acc.blocks):
        temporal[b, : blk.shape[0], : blk.shape[1]] = blk
    return mask.astype(np.float32), imp.astype(np.float32), temporal


def _explainers(model, methods, options) -> dict[str, Explainer]:
    if isinstance(methods, Mapping):
        return dict(methods)
    return {m: make_explainer(m, model, **(options or {})) for m in methods}


class _Runner:
    """Runs every method on each window and keeps the per-method sums."""

    def __init__(self, model, explainers, *, baseline, target, keep_frames, on_clip, timings):
        self.model = model
        self.explainers = explainers
        self.baseline = baseline
        self.target = target
        self.keep_frames = keep_frames or any(
            getattr(e, "space", "") == "pixels" for e in explainers.values()
        )
        self.on_clip = on_clip
        self.timings = timings
        self.acc = {m: _Stitch() for m in explainers}
        self.starts: list[int] = []
        self.prob_sum: np.ndarray | None = None
        self.weight = 0

    def __call__(self, frames: list[np.ndarray], start: int) -> None:
        t0 = time.perf_counter()
        clip = prepare_clip(
            self.model,
            np.stack(frames),
            baseline=self.baseline,
            target=self.target,
            keep_frames=self.keep_frames,
        )
        self._time("features", t0)
        maps = {}
        for name, ex in self.explainers.items():
            t0 = time.perf_counter()
            maps[name] = ex(clip)
            self._time(name, t0)
            self.acc[name].add(start, maps[name])
        probs = clip.probs.float().cpu().numpy().astype(np.float64)
        n = len(frames)
        self.prob_sum = probs * n if self.prob_sum is None else self.prob_sum + probs * n
        self.weight += n
        self.starts.append(start)
        if self.on_clip is not None:
            self.on_clip(clip, start, maps)

    def _time(self, key: str, t0: float) -> None:
        if self.timings is not None:
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - t0

    def _offset(self, explainer) -> tuple[float, float]:
        # maps of the features lie on the backbone's cells; pixel maps are sum-pooled onto
        # blocks of ``stride`` pixels, centred as bilinear upsampling assumes
        if getattr(explainer, "space", "features") == "pixels":
            return (0.0, 0.0)
        return tuple(getattr(self.model, "grid_offset", (0.0, 0.0)))

    def _threshold(self, method: str) -> float | None:
        # the model's own threshold applies to its own attention maps only
        if method != "attention":
            return None
        return getattr(self.model, "localize_threshold", None)

    def outputs(
        self, *, indices, timestamps, size, name, fps, windowed
    ) -> dict[str, AttentionOutput]:
        t = len(indices)
        scores = (self.prob_sum / self.weight).astype(np.float32)
        out = {}
        for m, acc in self.acc.items():
            mask, imp, temporal = _finish(acc, t)
            out[m] = AttentionOutput(
                frame_indices=np.asarray(indices, dtype=np.int64) + 1,
                timestamps=np.asarray(timestamps, dtype=np.float64),
                frame_size=(int(size[0]), int(size[1])),
                mask=mask,
                temporal=temporal if windowed else temporal[0],
                frame_importance=imp,
                scores=scores,
                class_names=tuple(self.model.class_names),
                video=name,
                fps=float(fps),
                window_starts=np.asarray(self.starts, dtype=np.int64) if windowed else None,
                grid_offset=self._offset(self.explainers[m]),
                threshold=self._threshold(m),
            )
        return out


def explain_video_methods(
    video: str | os.PathLike[str],
    model,
    methods: Sequence[str] | Mapping[str, Explainer] = ("attention",),
    *,
    frames: int = 25,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    baseline: str = "blur",
    target: int | None = None,
    name: str | None = None,
    options: Mapping[str, object] | None = None,
    on_clip: ClipHook | None = None,
    timings: dict[str, float] | None = None,
    quiet: bool = False,
) -> dict[str, AttentionOutput]:
    """Explain ``video`` with each method; one :class:`~attnviz.types.AttentionOutput` each.

    Args:
        video: the video file.
        model: a :class:`~attnviz.models.Recognizer` with a backbone, in eval mode.
        methods: names (``attention``, ``gradcam``, ``occlusion``, ``ig``) or ready
            :class:`~attnviz.explain.methods.Explainer` objects by name.
        frames: uniform sampling of this many frames (used when ``fps`` is None).
        fps, window, stride: sliding windows of sampled frames, as the explain command.
        baseline: how frames / cells are removed (:data:`attnviz.explain.clip.BASELINES`).
        target: the class every window explains (default: each window's top class).
        name: the video's identifier in the outputs (default: the file stem).
        options: constructor options for the explainers built from names.
        on_clip: per-window hook (faithfulness metrics use it while the features are at hand).
        timings: if given, seconds spent per method (and ``features``) are added to it.
        quiet: no progress bar.
    """
    from tqdm.auto import tqdm

    from attnviz.explain.clip import BASELINES
    from attnviz.io.video import iter_sampled, sample_uniform, stream_fps

    if model.backbone is None:
        raise AttnvizError("this model takes cached features, not video frames")
    if baseline not in BASELINES:
        raise AttnvizError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    path = Path(video)
    vid = path.stem if name is None else name
    runner = _Runner(
        model,
        _explainers(model, methods, options),
        baseline=baseline,
        target=target,
        keep_frames=False,
        on_clip=on_clip,
        timings=timings,
    )
    bar = tqdm(desc=vid, unit="frame", disable=quiet or None, leave=False)
    try:
        if fps is None:
            if frames < 1:
                raise AttnvizError(f"frames must be >= 1, got {frames}")
            info, got = sample_uniform(path, frames, progress=bar.update)
            runner([f for _, f in got], 0)
            idx = [i for i, _ in got]
            return runner.outputs(
                indices=idx,
                timestamps=[i / info.fps for i in idx],
                size=got[0][1].shape[:2],
                name=vid,
                fps=info.fps,
                windowed=False,
            )
        if not fps > 0 or window < 1 or not 1 <= stride <= window:
            raise AttnvizError(
                f"need fps > 0 and 1 <= stride <= window; got fps={fps}, window={window}, "
                f"stride={stride}"
            )
        vfps = stream_fps(path)
        buf: deque[np.ndarray] = deque(maxlen=window)
        idx = []
        size = None
        next_start, last_end = 0, 0
        for i0, f in iter_sampled(path, fps, fps=vfps, progress=bar.update):
            idx.append(i0)
            size = f.shape[:2]
            buf.append(f)
            if len(idx) - next_start == window:
                runner(list(buf), next_start)
                last_end = len(idx)
                next_start += stride
        t = len(idx)
        if t <= window and last_end == 0:
            runner(list(buf), 0)
        elif last_end < t:
            runner(list(buf), t - window)
        return runner.outputs(
            indices=idx,
            timestamps=[i / vfps for i in idx],
            size=size,
            name=vid,
            fps=vfps,
            windowed=True,
        )
    finally:
        bar.close()


def explain_frames(
    model,
    frames: np.ndarray,
    methods: Sequence[str] | Mapping[str, Explainer] = ("attention",),
    *,
    fps: float = 25.0,
    frame_indices: np.ndarray | None = None,
    baseline: str = "blur",
    target: int | None = None,
    name: str = "",
    options: Mapping[str, object] | None = None,
) -> dict[str, AttentionOutput]:
    """Explain one clip given as ``frames [n, H, W, 3] uint8`` RGB (already sampled); frame
    ``k`` is source frame ``frame_indices[k]`` (0-based; default ``k``) at time
    ``frame_indices[k] / fps``."""
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or len(arr) == 0:
        raise AttnvizError(f"frames must be [n, H, W, 3] uint8 RGB, got shape {arr.shape}")
    idx = np.arange(len(arr)) if frame_indices is None else np.asarray(frame_indices)
    runner = _Runner(
        model,
        _explainers(model, methods, options),
        baseline=baseline,
        target=target,
        keep_frames=False,
        on_clip=None,
        timings=None,
    )
    runner(list(arr), 0)
    return runner.outputs(
        indices=idx.tolist(),
        timestamps=(idx / fps).tolist(),
        size=arr.shape[1:3],
        name=name,
        fps=fps,
        windowed=False,
    )
