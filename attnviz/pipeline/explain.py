"""Explain a video: where and when the model looks, as pictures and as numbers.

:func:`explain_video` decodes the video as a stream, runs the model and returns one
:class:`~attnviz.types.AttentionOutput` in source-video coordinates. :func:`spatial_map`,
:func:`temporal_map` and :func:`localize_maps` write the outputs of the commands of the same
names; :func:`detect_segments_in_videos` runs the temporal localization over a folder.

Sampling:

* ``uniform`` (default, the paper's n = 25): ``frames`` frames spread uniformly over the frames
  that really decode (:func:`attnviz.io.video.sample_uniform`), one clip through the model.
* ``fps``: the video is sampled at ``fps`` frames per second and cut into windows of ``window``
  sampled frames every ``stride`` samples, the last window ending on the last sample
  (:func:`attnviz.io.video.window_starts`). Backbone features are computed once per sampled
  frame; the attention head runs once per window. A sampled frame's mask and importance are the
  means over the windows that cover it (the importance of a frame inside a window by
  ``importance_rule``, default the mean over steps of its temporal weight); the video's class
  probabilities are the mean of the windows' softmax outputs. Memory is bounded: only the
  features of one window and the frames whose values are not final yet are held, whatever the
  video's length.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError, ParameterError
from attnviz.io.atomic import output_dir
from attnviz.localize import (
    LocalizeParams,
    mask_to_box,
    normalise_importance,
    segment_bounds,
    segments_from_attention,
    upsample_mask,
    with_importance,
)
from attnviz.pipeline.scoring import detections_from_maps
from attnviz.types import AttentionOutput, Segment, TemporalDetections

__all__ = [
    "DEFAULT_MODEL",
    "default_checkpoint",
    "detect_segments_in_videos",
    "explain_video",
    "load_model",
    "localize_maps",
    "spatial_map",
    "temporal_map",
    "temporal_run_file",
]

#: Where the embedded default model is looked for, inside the installed package.
DEFAULT_MODEL = "resources/default_model.pt"

#: ``on_final(t, index0, rgb, mask, importance)``: sampled frame ``t`` (0-based source index
#: ``index0``, image ``rgb [H, W, 3] uint8``) with its final ``mask [h, w]`` and importance.
FinalHook = Callable[[int, int, np.ndarray, np.ndarray, float], None]


# --------------------------------------------------------------------------- model
def default_checkpoint() -> Path:
    """The embedded default model shipped in the package (``attnviz/resources/default_model.pt``).

    Raises:
        AttnvizError: this install has none yet.
    """
    path = Path(str(resources.files("attnviz").joinpath(DEFAULT_MODEL)))
    if not path.is_file():
        raise ParameterError(
            "checkpoint",
            "not given, and no default model is shipped with this install yet (attnviz/"
            f"{DEFAULT_MODEL} is missing)",
        )
    return path


def _device(device: str):
    import torch

    if device != "cpu" and not device.startswith("cuda"):
        raise ParameterError("device", f"must be cpu or cuda, got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError("device", f"{device}: CUDA is not available on this machine")
    return torch.device(device)


def _check_precision(precision: str) -> None:
    if precision not in ("fp32", "bf16"):
        raise ParameterError("precision", f"must be fp32 or bf16, got {precision!r}")


def model_params(params: LocalizeParams, model) -> LocalizeParams:
    """``params`` with an unset ``threshold`` set to the one ``model`` was built for (its
    checkpoint's ``localize.threshold``), else the paper's 0.5."""
    return params.with_default(getattr(model, "localize_threshold", None))


def load_model(checkpoint: str | os.PathLike[str] | None, device: str = "cpu"):
    """``(model, info)`` from ``checkpoint`` (the embedded default when ``None``), on
    ``device``, in eval mode.

    Raises:
        AttnvizError: missing or foreign checkpoint, a features-only model, no CUDA.
    """
    from attnviz.models import load_checkpoint

    dev = _device(device)
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint()
    model, info = load_checkpoint(path, map_location="cpu")
    if model.backbone is None:
        raise AttnvizError(f"{path}: this model takes cached features, not video frames")
    return model.to(dev).eval(), info


class _Runner:
    """The model in two halves: backbone features per frame (in chunks), then the attention
    head per clip, under the chosen precision."""

    def __init__(self, model, precision: str, chunk: int = 16) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        self.precision = precision
        self.chunk = chunk

    def features(self, frames: Sequence[np.ndarray]):
        """``frames`` (``[H, W, 3] uint8`` each) -> ``Tensor[n, C, h, w]`` on the device."""
        import torch

        from attnviz.data.transforms import preprocess
        from attnviz.models import autocast

        out = []
        for i in range(0, len(frames), self.chunk):
            x = preprocess(np.stack(frames[i : i + self.chunk]), self.model.input_size)
            with torch.inference_mode(), autocast(self.device.type, self.precision):
                out.append(self.model.extract_features(x.to(self.device)))
        return torch.cat(out)

    def head(self, feats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``feats [T, C, h, w]`` -> ``(mask [T, h, w], temporal [T, T], probs [K])`` numpy."""
        import torch

        from attnviz.models import autocast

        with torch.inference_mode(), autocast(self.device.type, self.precision):
            out = self.model.head(feats[None])
        probs = torch.softmax(out.logits.float(), dim=1)[0].cpu().numpy()
        return (
            out.mask[0].float().cpu().numpy().astype(np.float32),
            out.temporal[0].float().cpu().numpy().astype(np.float32),
            probs.astype(np.float32),
        )


@contextlib.contextmanager
def _eval_mode(model) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _bar(quiet: bool, desc: str, unit: str = "frame", total: int | None = None):
    """A progress bar on a terminal only (``disable=None``): on a redirected stderr a bar that
    cannot erase itself would leave a stray ``0frame [00:00, ?frame/s]`` line."""
    from tqdm.auto import tqdm

    return tqdm(
        desc=desc, unit=unit, total=total, disable=quiet or None, leave=False, dynamic_ncols=True
    )


# --------------------------------------------------------------------------- explain
def explain_video(
    video: str | os.PathLike[str],
    *,
    model=None,
    checkpoint: str | os.PathLike[str] | None = None,
    frames: int = 25,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    device: str = "cpu",
    precision: str = "fp32",
    importance_rule: str = "mean",
    quiet: bool = False,
    on_final: FinalHook | None = None,
    decoded=None,
) -> AttentionOutput:
    """Run the model over ``video`` and return where and when it looked.

    Args:
        video: the video file (anything OpenCV decodes).
        model / checkpoint: a loaded recognizer (it is run in eval mode), or a checkpoint
            (default: the embedded model); or a
            :class:`~attnviz.explain.video_methods.VideoExplainer` (any video classifier with
            one method, in windows of its clip length: ``window`` is ignored).
        frames: uniform sampling of this many frames over the whole video (the paper's
            n = 25); used when ``fps`` is None.
        fps, window, stride: instead, sample at ``fps`` frames per second in windows of
            ``window`` sampled frames every ``stride`` samples (long videos).
        device, precision: ``cpu`` / ``cuda``; ``fp32`` / ``bf16``.
        importance_rule: per-frame importance from the temporal weights (``mean`` over steps,
            ``max``, ``last``; see :mod:`attnviz.localize.temporal`).
        quiet: no progress bar.
        on_final: called once per sampled frame, in order, when its values are final (see
            :data:`FinalHook`), for rendering while streaming.
        decoded: frames decoded elsewhere (e.g. in a worker process) instead of decoding
            ``video`` here: for uniform sampling ``(VideoInfo, [(index, rgb), ...])`` as
            :func:`~attnviz.io.video.sample_uniform` returns it; with ``fps``
            ``(video_fps, iterable of (index, rgb))`` as :func:`~attnviz.io.video.iter_sampled`
            yields them. ``video`` then only names the output (its stem).

    Returns:
        AttentionOutput: ``[T, T]`` temporal weights for uniform sampling, ``[W, n, n]`` with
        ``window_starts`` for windows.

    Raises:
        AttnvizError: unreadable video, bad options, unusable checkpoint. A video that stops
        decoding partway gives a :class:`~attnviz.io.video.TruncatedVideoWarning` and is
        explained from the frames that decoded.
    """
    _check_precision(precision)
    if hasattr(model, "explain_video"):  # any video classifier with one method (--model)
        return model.explain_video(
            video, frames=frames, fps=fps, stride=stride, quiet=quiet, on_final=on_final,
            precision=precision,
        )  # fmt: skip
    if importance_rule not in ("mean", "max", "last"):
        raise AttnvizError(f"importance rule must be mean, max or last, got {importance_rule!r}")
    if fps is None and frames < 1:
        raise ParameterError("frames", f"must be >= 1, got {frames}")
    if fps is not None and not fps > 0:
        raise ParameterError("fps", f"must be positive, got {fps}")
    if fps is not None and (window < 1 or not 1 <= stride <= window):
        raise AttnvizError(f"need 1 <= stride <= window, got window={window}, stride={stride}")
    if model is None:
        model, _ = load_model(checkpoint, device)
    runner = _Runner(model, precision)
    with _eval_mode(model):
        if fps is None:
            return _explain_uniform(
                Path(video), runner, frames, importance_rule, quiet, on_final, decoded
            )
        return _explain_windows(
            Path(video), runner, fps, window, stride, importance_rule, quiet, on_final, decoded
        )


def _explain_uniform(path: Path, runner: _Runner, n: int, rule, quiet, on_final, decoded=None):
    from attnviz.io.video import sample_uniform
    from attnviz.localize import frame_importance

    if decoded is not None:
        info, got = decoded
    else:
        with _bar(quiet, f"{path.name}: decoding") as bar:
            info, got = sample_uniform(path, n, progress=bar.update)
    index = [i for i, _ in got]
    unique = sorted(set(index))  # short videos repeat frames: run the backbone once each
    first = {i: next(f for j, f in got if j == i) for i in unique}
    feats = runner.features([first[i] for i in unique])
    pos = {i: k for k, i in enumerate(unique)}
    mask, temporal, probs = runner.head(feats[[pos[i] for i in index]])
    imp = frame_importance(temporal, rule).astype(np.float32)
    if on_final is not None:
        for t, (i0, f) in enumerate(got):
            on_final(t, i0, f, mask[t], float(imp[t]))
    return AttentionOutput(
        frame_indices=np.asarray(index, dtype=np.int64) + 1,
        timestamps=np.asarray(index, dtype=np.float64) / info.fps,
        frame_size=(info.height, info.width),
        mask=mask,
        temporal=temporal,
        frame_importance=imp,
        scores=probs,
        class_names=tuple(runner.model.class_names),
        video=path.stem,
        grid_offset=runner.model.grid_offset,
        threshold=getattr(runner.model, "localize_threshold", None),
        fps=info.fps,
    )


class _Stitch:
    """Running sums of the windows' masks and importances per sampled frame (grown as the
    video streams: a few floats per frame)."""

    def __init__(self) -> None:
        self.mask = np.zeros((0, 1, 1))
        self.imp = np.zeros(0)
        self.count = np.zeros(0)

    def add(self, start: int, mask: np.ndarray, imp: np.ndarray) -> None:
        end = start + len(mask)
        if end > len(self.count):
            cap = max(end, 2 * len(self.count), 64)
            grown = np.zeros((cap, *mask.shape[1:]))
            grown[: len(self.mask)] = self.mask if len(self.count) else 0
            self.mask = grown
            self.imp = np.r_[self.imp, np.zeros(cap - len(self.imp))]
            self.count = np.r_[self.count, np.zeros(cap - len(self.count))]
        self.mask[start:end] += mask
        self.imp[start:end] += imp
        self.count[start:end] += 1

    def final(self, t: int) -> tuple[np.ndarray, float]:
        c = self.count[t]
        return (self.mask[t] / c).astype(np.float32), float(self.imp[t] / c)


def _explain_windows(
    path: Path, runner: _Runner, sample_fps, window, stride, rule, quiet, hook, decoded=None
):
    import torch

    from attnviz.io.video import iter_sampled, stream_fps
    from attnviz.localize import frame_importance

    vfps = stream_fps(path) if decoded is None else float(decoded[0])
    stitch = _Stitch()
    index: list[int] = []  # source index of each sampled frame
    feats: list = []  # features of samples feat_base, feat_base + 1, ...
    feat_base = 0
    pending: list[tuple[int, np.ndarray]] = []  # frames waiting for the backbone
    held: dict[int, np.ndarray] = {}  # frames whose values are not final (for on_final)
    done = 0  # samples handed to on_final
    next_start = 0
    blocks: list[np.ndarray] = []
    starts: list[int] = []
    prob_sum = None
    size = None

    def run(start: int, n: int) -> None:
        nonlocal prob_sum
        clip = torch.stack(feats[start - feat_base : start - feat_base + n])
        mask, temporal, probs = runner.head(clip)
        stitch.add(start, mask, frame_importance(temporal, rule))
        blocks.append(temporal)
        starts.append(start)
        prob_sum = probs.astype(np.float64) if prob_sum is None else prob_sum + probs

    def finalise(upto: int) -> None:
        nonlocal done
        while done < upto:
            if hook is not None:
                m, v = stitch.final(done)
                hook(done, index[done], held.pop(done), m, v)
            done += 1

    def featurise() -> None:
        nonlocal feat_base, next_start
        if not pending:
            return
        feats.extend(runner.features([f for _, f in pending]).unbind(0))
        pending.clear()
        seen = feat_base + len(feats)
        while seen >= next_start + window:
            run(next_start, window)
            next_start += stride
        keep_from = max(feat_base, min(next_start, seen - window))
        del feats[: keep_from - feat_base]
        feat_base = keep_from
        finalise(keep_from)  # no window that is still to come covers these samples

    with _bar(quiet or decoded is not None, f"{path.name}: explaining") as bar:
        samples = (
            iter_sampled(path, sample_fps, fps=vfps, progress=bar.update)
            if decoded is None
            else decoded[1]
        )
        for i0, f in samples:
            size = f.shape[:2]
            if hook is not None:
                held[len(index)] = f
            index.append(i0)
            pending.append((i0, f))
            if len(pending) >= runner.chunk:
                featurise()
        featurise()
    total = len(index)
    if total == 0:
        raise AttnvizError(f"{path}: no frame could be decoded")
    if not starts:
        run(0, total)  # shorter than one window: one window of all the samples
    elif starts[-1] + window < total:
        run(total - window, window)  # the last window ends on the last sample
    finalise(total)
    n = blocks[0].shape[0]
    return AttentionOutput(
        frame_indices=np.asarray(index, dtype=np.int64) + 1,
        timestamps=np.asarray(index, dtype=np.float64) / vfps,
        frame_size=(int(size[0]), int(size[1])),
        mask=(stitch.mask[:total] / stitch.count[:total, None, None]).astype(np.float32),
        temporal=np.stack(blocks).reshape(len(blocks), n, n).astype(np.float32),
        frame_importance=(stitch.imp[:total] / stitch.count[:total]).astype(np.float32),
        scores=(prob_sum / len(blocks)).astype(np.float32),
        class_names=tuple(runner.model.class_names),
        video=path.stem,
        grid_offset=runner.model.grid_offset,
        threshold=getattr(runner.model, "localize_threshold", None),
        fps=vfps,
        window_starts=np.asarray(starts, dtype=np.int64),
    )


# --------------------------------------------------------------------------- outputs
def _top5(out: AttentionOutput) -> list[tuple[str, float]]:
    order = np.argsort(-out.scores, kind="stable")[:5]
    return [(out.class_names[k], float(out.scores[k])) for k in order]


def _class_ids(names: Sequence[str]) -> list[int]:
    """Run-file class ids: THUMOS14's (UCF101 ids) when every class is a THUMOS14 detection
    class, else 1..K in the model's order."""
    from attnviz.io.thumos import default_class_list

    ids, th_names = default_class_list()
    lookup = dict(zip(th_names, ids, strict=True))
    if all(n in lookup for n in names):
        return [lookup[n] for n in names]
    return list(range(1, len(names) + 1))


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise AttnvizError(f"{path}: PNG encoding failed")
    path.write_bytes(buf.tobytes())


def _write_boxes(folder: Path, out: AttentionOutput, params: LocalizeParams) -> int:
    from attnviz.io.detections import write_frame_detections, write_tubes

    dets = detections_from_maps([out], params, kinds=("frame", "tube"))
    write_frame_detections(folder / "boxes.csv", dets.frames, out.class_names)
    write_tubes(folder / "tubes.json", dets.tubes)
    return len(dets.frames)


def _write_segments(folder: Path, out: AttentionOutput, params: LocalizeParams) -> int:
    import pandas as pd

    from attnviz.io.atomic import atomic_write_text
    from attnviz.io.thumos import write_run_file

    dets = detections_from_maps([out], params, kinds=("temporal",)).temporal
    table = pd.DataFrame(
        {
            "video": dets.video,
            "t_start": dets.start,
            "t_end": dets.end,
            "class": [out.class_names[k] for k in dets.label],
            "score": dets.score,
        }
    )
    atomic_write_text(folder / "segments.csv", table.to_csv(index=False))
    write_run_file(folder / "run.txt", dets, _class_ids(out.class_names))
    return len(dets)


def _check_video(video: str | os.PathLike[str]) -> Path:
    from attnviz.io.video import stream_fps

    stream_fps(video)  # opens it: a missing file or a non-video fails here, before any output
    return Path(video)


class _StripPicker:
    """Keeps at most ``2 * limit`` thumbnails of a stream of unknown length (every k-th, k
    doubling), then picks ``limit`` evenly spaced ones."""

    def __init__(self, limit: int, height: int) -> None:
        self.limit = max(1, limit)
        self.height = height
        self.every = 1
        self.items: list[tuple[int, np.ndarray, np.ndarray, float]] = []

    def add(self, t: int, rgb: np.ndarray, mask: np.ndarray, imp: float) -> None:
        import cv2

        if t % self.every:
            return
        h, w = rgb.shape[:2]
        thumb = cv2.resize(
            rgb, (max(1, round(w * self.height / h)), self.height), interpolation=cv2.INTER_AREA
        )
        self.items.append((t, thumb, mask, imp))
        if len(self.items) > 2 * self.limit:
            self.every *= 2
            self.items = [x for x in self.items if x[0] % self.every == 0]

    def pick(self) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
        if len(self.items) <= self.limit:
            return self.items
        sel = np.unique(np.linspace(0, len(self.items) - 1, self.limit).round().astype(int))
        return [self.items[i] for i in sel]


def spatial_map(
    video: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    model=None,
    frames: int = 25,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    threshold: float | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    alpha: float = 0.5,
    colormap: str = "jet",
    strip_frames: int = 16,
    quiet: bool = False,
    params: LocalizeParams | None = None,
    html: bool = True,
) -> dict:
    """Where the model looks. Writes into ``out_dir`` (all or nothing):

    * ``overlay.mp4``: every sampled frame with the heatmap blended in (``alpha``,
      ``colormap``) and the predicted box drawn in red (at 5 frames per second for uniform
      sampling, at ``fps`` for windows);
    * ``strip.png``: the paper's Fig. 4 layout (frames, heatmaps, temporal attention as gray
      levels) over up to ``strip_frames`` evenly spaced sampled frames;
    * ``boxes.csv`` (``video,frame,class,score,x1,y1,x2,y2``; 1-based source frames, pixels)
      and ``tubes.json`` (:func:`~attnviz.localize.tubes_from_attention`);
    * ``maps.npz``: the :class:`~attnviz.types.AttentionOutput`;
    * with ``html``: ``index.html`` + ``video.webm``, the interactive page
      (:func:`attnviz.pipeline.page.write_video_page`).

    Returns:
        a summary: ``top5`` ``[(class, probability)]``, ``frames`` (sampled), ``boxes``,
        ``out``.
    """
    from attnviz.io.maps import save_attention
    from attnviz.io.video_writer import VideoWriter
    from attnviz.render.overlay import PRED_COLOR, attention_strip, draw_boxes, overlay_heatmap

    params = (params or LocalizeParams()).replace(threshold=threshold, window=window, stride=stride)
    if fps is not None and params.mask_norm == "clip":
        raise AttnvizError(
            "mask normalisation 'clip' needs the whole video's masks before the first frame is "
            "drawn: use 'frame' or 'none' with {fps} (or `attnviz localize` on maps.npz)",
            params=("fps",),
        )
    if not 0.0 <= alpha <= 1.0:
        raise AttnvizError(f"alpha must be in [0, 1], got {alpha}")
    _check_precision(precision)
    if model is None:
        model, _ = load_model(checkpoint, device)
    params = model_params(params, model)
    path = _check_video(video)
    strip = _StripPicker(strip_frames, 96)
    deferred: list[tuple[int, np.ndarray, np.ndarray]] | None = [] if fps is None else None
    with output_dir(out_dir) as tmp:
        writer = VideoWriter(tmp / "overlay.mp4", fps if fps else 5.0)

        offset = getattr(model, "grid_offset", (0.0, 0.0))

        def render(rgb: np.ndarray, mask: np.ndarray, label: str | None, rng=None) -> None:
            up = upsample_mask(mask, rgb.shape[:2], offset)  # once for the heatmap and the box
            img = overlay_heatmap(rgb, up, alpha=alpha, colormap=colormap)
            res = mask_to_box(up, rgb.shape[:2], params, clip_range=rng)
            if res is not None:
                img = draw_boxes(img, [res[0]], color=PRED_COLOR, labels=label and [label])
            writer.write(img)

        def on_final(t: int, i0: int, rgb: np.ndarray, mask: np.ndarray, imp: float) -> None:
            strip.add(t, rgb, mask, imp)
            if deferred is not None:
                deferred.append((t, rgb, mask))
            else:
                render(rgb, mask, None)

        try:
            out = explain_video(
                path, model=model, frames=frames, fps=fps, window=window, stride=stride,
                precision=precision, importance_rule=params.importance, quiet=quiet,
                on_final=on_final,
            )  # fmt: skip
            if deferred is not None:  # uniform: the class and the clip's range are known
                k = out.top_class if params.class_index is None else params.class_index
                rng = (float(out.mask.min()), float(out.mask.max()))
                for _, rgb, mask in deferred:
                    render(rgb, mask, out.class_names[k], rng)
                deferred.clear()
        finally:
            writer.close()
        sel = strip.pick()
        _write_png(
            tmp / "strip.png",
            attention_strip(
                [x[1] for x in sel],
                np.stack([x[2] for x in sel]),
                np.array([x[3] for x in sel]),
                height=96,
                colormap=colormap,
                values=True,
                offset=offset,
            ),
        )
        save_attention(tmp / "maps.npz", out)
        n_boxes = _write_boxes(tmp, out, params)
        if html:
            from attnviz.pipeline.page import write_video_page

            write_video_page(tmp, out, video=path, params=params, colormap=colormap)
    return {"top5": _top5(out), "frames": out.num_frames, "boxes": n_boxes, "out": str(out_dir)}


def temporal_map(
    video: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    model=None,
    frames: int = 25,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    threshold: float | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    quiet: bool = False,
    params: LocalizeParams | None = None,
    html: bool = True,
) -> dict:
    """When the model looks. Writes into ``out_dir`` (all or nothing): ``temporal.png`` (the
    normalised importance over the video's time axis, detected segments shaded),
    ``segments.csv`` (``video,t_start,t_end,class,score``, seconds), ``run.txt`` (a THUMOS14
    run file ``video t_start t_end class_id score``; THUMOS14 class ids when the model's
    classes are THUMOS14's, else 1..K), ``maps.npz`` and, with ``html``, the interactive page
    ``index.html`` + ``video.webm``.

    Returns:
        a summary: ``top5``, ``frames``, ``segments``, ``out``.
    """
    from attnviz.io.maps import save_attention

    params = (params or LocalizeParams()).replace(threshold=threshold, window=window, stride=stride)
    _check_precision(precision)
    if model is None:
        model, _ = load_model(checkpoint, device)
    params = model_params(params, model)
    path = _check_video(video)
    with output_dir(out_dir) as tmp:
        out = explain_video(
            path, model=model, frames=frames, fps=fps, window=window, stride=stride,
            precision=precision, importance_rule=params.importance, quiet=quiet,
        )  # fmt: skip
        _plot_curve(tmp / "temporal.png", out, params)
        save_attention(tmp / "maps.npz", out)
        n_segs = _write_segments(tmp, out, params)
        if html:
            from attnviz.pipeline.page import write_video_page

            write_video_page(tmp, out, video=path, params=params)
    return {"top5": _top5(out), "frames": out.num_frames, "segments": n_segs, "out": str(out_dir)}


def _plot_curve(path: Path, out: AttentionOutput, params: LocalizeParams) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnviz.render.curves import plot_temporal_curve

    segs = segments_from_attention(out, params)
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=150)
    try:
        k = segs[0].label if segs else out.top_class
        plot_temporal_curve(
            ax,
            out.timestamps,
            normalise_importance(out.frame_importance, params.importance_norm, params.flat_range),
            segments=[(s.start, s.end) for s in segs],
            threshold=params.for_output(out).threshold,
            raw=out.frame_importance,
            flat_range=params.flat_range,
            title=f"{out.video}: {out.class_names[k]} ({out.scores[k]:.2f})",
            time_range=(0.0, float(segment_bounds(out.timestamps)[-1])),
        )
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def localize_maps(
    maps: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    params: LocalizeParams | None = None,
    importance: str | None = None,
) -> dict:
    """Turn a saved ``maps.npz`` (from attnviz or any model writing the same layout) into
    ``boxes.csv``, ``tubes.json``, ``segments.csv`` and ``run.txt`` in ``out_dir`` by the rules
    of :mod:`attnviz.localize`. ``importance`` recomputes the per-frame importance from the
    stored temporal weights by that rule instead of using the stored curve.

    Returns:
        a summary: ``top5``, ``frames``, ``boxes``, ``segments``, ``out``.
    """
    from attnviz.io.maps import load_attention

    params = params or LocalizeParams()
    out = load_attention(maps)
    if importance is not None:
        try:
            out = with_importance(out, importance)
        except ValueError as exc:
            raise AttnvizError(f"{maps}: {exc}") from None
    if params.class_index is not None and params.class_index >= len(out.class_names):
        raise ParameterError(
            "class_index",
            f"{params.class_index} is out of range: {maps} has {len(out.class_names)} classes",
        )
    with output_dir(out_dir) as tmp:
        n_boxes = _write_boxes(tmp, out, params)
        n_segs = _write_segments(tmp, out, params)
    return {
        "top5": _top5(out),
        "frames": out.num_frames,
        "boxes": n_boxes,
        "segments": n_segs,
        "out": str(out_dir),
    }


# --------------------------------------------------------------------------- folders
def detect_segments_in_videos(
    videos_dir: str | os.PathLike[str],
    checkpoint: str | os.PathLike[str] | None = None,
    *,
    model=None,
    frames: int = 25,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    device: str = "cpu",
    precision: str = "fp32",
    params: LocalizeParams | None = None,
    quiet: bool = False,
) -> TemporalDetections:
    """Temporal detections over every video of a folder (files ending in
    :data:`attnviz.io.video.VIDEO_SUFFIXES`, sorted by name), sampled as ``temporal-map``
    samples: ``frames`` uniformly (default 25, the paper's n), or with ``fps`` (10 in the paper
    for THUMOS14) in sliding windows; segments by :func:`~attnviz.localize.segments_from_attention`.

    Returns:
        TemporalDetections: ``video`` the file stems, ``label`` indices into the model's
        classes, in video order.

    Raises:
        AttnvizError: no video in the folder, or a video where nothing decodes (a truncated one
        only warns).
    """
    params = (params or LocalizeParams()).replace(window=window, stride=stride)
    folder = Path(videos_dir)
    if not folder.is_dir():
        raise AttnvizError(f"{folder}: not a folder of videos")
    from attnviz.io.video import VIDEO_SUFFIXES, video_files

    files = video_files(folder)
    if not files:
        raise AttnvizError(f"{folder}: no video files ({', '.join(VIDEO_SUFFIXES)})")
    if model is None:
        model, _ = load_model(checkpoint, device)
    segs: list[Segment] = []
    with _bar(quiet, "videos", unit="video", total=len(files)) as bar:
        for f in files:
            out = explain_video(
                f, model=model, frames=frames, fps=fps, window=window, stride=stride,
                precision=precision, importance_rule=params.importance, quiet=True,
            )  # fmt: skip
            segs += segments_from_attention(out, params)  # one video's maps held at a time
            bar.update(1)
    return TemporalDetections.from_segments(segs)


def temporal_run_file(
    videos: str | os.PathLike[str],
    *,
    checkpoint: str | os.PathLike[str] | None,
    gt: str | os.PathLike[str] | None = None,
    frames: int = 25,
    fps: float | None = None,
    window: int = 25,
    stride: int = 12,
    quiet: bool = False,
    out: str | os.PathLike[str] | None = None,
) -> Path:
    """:func:`detect_segments_in_videos` (same sampling defaults as ``temporal-map``) written as
    a THUMOS14 run file (at ``out``, or in a new temporary folder); returns its path. ``gt`` is
    accepted for the caller's convenience and not read."""
    import tempfile

    from attnviz.io.thumos import write_run_file

    del gt
    model, _ = load_model(checkpoint, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        dets = detect_segments_in_videos(
            videos,
            model=model,
            frames=frames,
            fps=fps,
            window=window,
            stride=stride,
            quiet=quiet,
        )
    path = (
        Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="attnviz-run-")) / "run.txt"
    )
    write_run_file(path, dets, _class_ids(model.class_names))
    return path
