"""``attnviz spatial-map``, ``temporal-map`` and ``localize``: thin wrappers over
:mod:`attnviz.pipeline.explain`."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import typer

from attnviz.cli._app import app, fail, info, localize_params, warn

_FRAMES = (
    "Uniformly sample this many frames over the video (default 25, the paper's; with --model "
    "the model's clip length)."
)
_FPS = "Instead of --frames: sample at this rate, in sliding windows (paper, THUMOS14: 10)."
_WINDOW = "Sampled frames per window (with --fps)."
_STRIDE = "Window stride in sampled frames (with --fps)."
_HTML = "Also write index.html (+ video.webm): an interactive page that opens from file://."
_CKPT = "Model checkpoint, or a run folder (its best.pt) (default: the model shipped with attnviz)."
_VIDEO = "The video file (--input works too)."
DEFAULT_MODEL_NOTE = (
    "note: no --checkpoint: using the small model shipped with attnviz, trained only on "
    "attnviz's synthetic shapes (classes such as YellowSquareOrbit); on real videos its classes "
    "and boxes mean nothing. To explain a real model pass --checkpoint runs/x/best.pt "
    "(made by `attnviz train`, see the README)."
)


_MODEL = (
    "Explain another video classifier: r3d_18, mc3_18, r2plus1d_18, s3d, mvit_v1_b, mvit_v2_s, "
    "swin3d_t/s/b, paper, a TorchScript file or package.module:factory (default: the paper's "
    "model and its attention)."
)
_WEIGHTS = (
    "With --model: DEFAULT (the default for torchvision's models), KINETICS400_V1, none (the "
    "default for your own module) or a state-dict FILE."
)
_METHOD = "With --model: gradcam, gradcam++, ig or occlusion."
_LAYER = "With --model: the layer whose output holds the features (default: the last block)."
_WHOLE = "With --model: resize the whole frame to the model's input instead of centre-cropping."

_OVERWRITE = "Replace the outputs of an earlier run in --out (see README: output folders)."


@contextlib.contextmanager
def _claim(out: Path, command: str, source: Path, overwrite: bool) -> Iterator[None]:
    """The output-folder rule (:mod:`attnviz.io.outdir`) around one command."""
    from attnviz.io.outdir import output_folder

    with output_folder(out, command=command, source=str(Path(source).resolve()),
                       overwrite=overwrite):  # fmt: skip
        yield


def _sampling(frames: int | None, fps: float | None) -> int | None:
    """``--frames`` unless ``--fps`` is given; both together are refused. ``None``: the
    default (25, or with ``--model`` the model's clip length)."""
    if fps is not None and frames is not None:
        raise fail("give --frames (uniform sampling) or --fps (windows at a fixed rate), not both")
    return frames


def _model_note(checkpoint: Path | None, quiet: bool) -> None:
    if checkpoint is None:
        info(DEFAULT_MODEL_NOTE, quiet)


def _video_model(model, weights, method, target_layer, whole, checkpoint, device, precision):
    """``None`` without ``--model``; else the explainer of that model and method."""
    if model is None:
        return None
    from attnviz.explain.video_methods import build_video_explainer

    return build_video_explainer(
        model, weights=weights, method=method, target_layer=target_layer,
        resize_whole_frame=whole, checkpoint=checkpoint, device=device, precision=precision,
    )  # fmt: skip


@contextlib.contextmanager
def _video_warnings(quiet: bool) -> Iterator[None]:
    """Print decoding warnings (truncated videos) as ``warning: ...`` lines on stderr."""
    from attnviz.explain.video_methods import ShortClipWarning
    from attnviz.io.video import TruncatedVideoWarning

    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("default")
            try:
                yield
            finally:
                caught = list(recorded)
    finally:  # outside the recording context: showwarning would record into the list again
        for w in caught:
            if issubclass(w.category, (TruncatedVideoWarning, ShortClipWarning)):
                if not quiet:
                    warn(str(w.message))
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _report(summary: dict, quiet: bool) -> None:
    typer.echo("top-5 classes:")
    for name, p in summary["top5"]:
        typer.echo(f"  {p:6.3f}  {name}")
    extra = ", ".join(f"{k}: {summary[k]}" for k in ("frames", "boxes", "segments") if k in summary)
    info(f"wrote {summary['out']} ({extra})", quiet)


@app.command("spatial-map")
def spatial_map_cmd(
    video: Path = typer.Option(..., "--video", "--input", help=_VIDEO),
    checkpoint: Path = typer.Option(None, "--checkpoint", help=_CKPT),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    frames: int = typer.Option(None, "--frames", help=_FRAMES),
    fps: float = typer.Option(None, "--fps", help=_FPS),
    window: int = typer.Option(25, "--window", help=_WINDOW),
    stride: int = typer.Option(12, "--stride", help=_STRIDE),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Mask threshold (default: the one the model was built for, else the paper's 0.5).",
    ),
    alpha: float = typer.Option(0.5, "--alpha", help="Heatmap opacity in the overlay."),
    colormap: str = typer.Option("jet", "--colormap", help="jet, turbo, inferno, viridis, hot."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    precision: str = typer.Option("fp32", "--precision", help="fp32 or bf16."),
    model: str = typer.Option(None, "--model", help=_MODEL),
    weights: str = typer.Option(None, "--weights", help=_WEIGHTS),
    method: str = typer.Option("gradcam", "--method", help=_METHOD),
    target_layer: str = typer.Option(None, "--target-layer", help=_LAYER),
    whole_frame: bool = typer.Option(False, "--resize-whole-frame", help=_WHOLE),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars, notes or warnings."),
    html: bool = typer.Option(True, "--html/--no-html", help=_HTML),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE),
) -> None:
    """Where the model looks: overlay.mp4, strip.png (Fig. 4), boxes.csv, tubes.json, maps.npz,
    index.html; prints the top-5 classes."""
    from attnviz.pipeline.explain import spatial_map

    frames = _sampling(frames, fps)
    params = localize_params(threshold=threshold, window=window, stride=stride)
    _model_note(checkpoint or model, quiet)
    if colormap not in ("jet", "turbo", "inferno", "viridis", "hot"):
        raise fail(f"--colormap must be jet, turbo, inferno, viridis or hot, got {colormap!r}")
    with _claim(out, "spatial-map", video, overwrite), _video_warnings(quiet):
        vmodel = _video_model(
            model, weights, method, target_layer, whole_frame, checkpoint, device, precision
        )
        if vmodel is None and frames is None:
            frames = 25
        summary = spatial_map(
            video, out, checkpoint=checkpoint, model=vmodel, frames=frames, fps=fps, window=window,
            stride=stride, threshold=threshold, device=device, precision=precision, alpha=alpha,
            colormap=colormap, quiet=quiet, params=params, html=html,
        )  # fmt: skip
    _report(summary, quiet)


@app.command("temporal-map")
def temporal_map_cmd(
    video: Path = typer.Option(..., "--video", "--input", help=_VIDEO),
    checkpoint: Path = typer.Option(None, "--checkpoint", help=_CKPT),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    frames: int = typer.Option(None, "--frames", help=_FRAMES),
    fps: float = typer.Option(None, "--fps", help=_FPS),
    window: int = typer.Option(25, "--window", help=_WINDOW),
    stride: int = typer.Option(12, "--stride", help=_STRIDE),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Importance threshold (default: the one the model was built for, else the "
        "paper's 0.5).",
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    precision: str = typer.Option("fp32", "--precision", help="fp32 or bf16."),
    model: str = typer.Option(None, "--model", help=_MODEL),
    weights: str = typer.Option(None, "--weights", help=_WEIGHTS),
    method: str = typer.Option("gradcam", "--method", help=_METHOD),
    target_layer: str = typer.Option(None, "--target-layer", help=_LAYER),
    whole_frame: bool = typer.Option(False, "--resize-whole-frame", help=_WHOLE),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars, notes or warnings."),
    html: bool = typer.Option(True, "--html/--no-html", help=_HTML),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE),
) -> None:
    """When the model looks: temporal.png (curve, segments shaded), segments.csv, run.txt
    (THUMOS14 run file), maps.npz, index.html; prints the top-5 classes."""
    from attnviz.pipeline.explain import temporal_map

    frames = _sampling(frames, fps)
    params = localize_params(threshold=threshold, window=window, stride=stride)
    _model_note(checkpoint or model, quiet)
    with _claim(out, "temporal-map", video, overwrite), _video_warnings(quiet):
        vmodel = _video_model(
            model, weights, method, target_layer, whole_frame, checkpoint, device, precision
        )
        if vmodel is None and frames is None:
            frames = 25
        summary = temporal_map(
            video, out, checkpoint=checkpoint, model=vmodel, frames=frames, fps=fps, window=window,
            stride=stride, threshold=threshold, device=device, precision=precision, quiet=quiet,
            params=params, html=html,
        )  # fmt: skip
    _report(summary, quiet)


@app.command("localize")
def localize_cmd(
    maps: Path = typer.Option(..., "--maps", help="maps.npz written by attnviz or another model."),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Threshold for masks and importance (default: the one stored with the maps by "
        "their model, else the paper's 0.5).",
    ),
    mask_norm: str = typer.Option("none", "--mask-norm", help="none, frame or clip (min-max)."),
    largest_component: bool = typer.Option(
        False, "--largest-component", help="Keep the largest region above threshold only."
    ),
    box_score: str = typer.Option(
        "prob_x_mean_mask", "--box-score", help="prob_x_mean_mask, prob or mean_mask."
    ),
    frame_boxes: str = typer.Option(
        "interpolated",
        "--frame-boxes",
        help="interpolated (also every frame between two sampled frames with a box) or "
        "sampled (the sampled frames only; the paper's).",
    ),
    importance: str = typer.Option(
        None,
        "--importance",
        help="Recompute frame importance from the temporal weights: mean, max or last "
        "(default: the stored curve).",
    ),
    importance_norm: str = typer.Option("minmax", "--importance-norm", help="minmax or max."),
    segment_score: str = typer.Option(
        "prob_x_mean_importance",
        "--segment-score",
        help="prob_x_mean_importance, prob or mean_importance.",
    ),
    class_index: int = typer.Option(
        None, "--class", help="Localize this class index (default: the top class)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No notes on stderr."),
    overwrite: bool = typer.Option(False, "--overwrite", help=_OVERWRITE),
) -> None:
    """Saved attention maps -> boxes.csv, tubes.json, segments.csv and a THUMOS14 run file, by
    the same rules as spatial-map and temporal-map."""
    from attnviz.pipeline.explain import localize_maps

    params = localize_params(
        threshold=threshold, mask_norm=mask_norm, largest_component=largest_component,
        box_score=box_score, importance=importance or "mean", importance_norm=importance_norm,
        segment_score=segment_score, class_index=class_index, frame_boxes=frame_boxes,
    )  # fmt: skip
    with _claim(out, "localize", maps, overwrite):
        summary = localize_maps(maps, out, params=params, importance=importance)
    _report(summary, quiet)
