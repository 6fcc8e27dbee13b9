"""``attnviz detect``: a thin wrapper over :mod:`attnviz.pipeline.detect`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attnviz.cli._app import app, fail, info, warn
from attnviz.cli.explain import _CKPT, _FPS, _FRAMES, _STRIDE, _WINDOW, _video_warnings

_DATA = (
    "A folder written by `attnviz synth`, a UCF101-24 folder (with --gt pyannot.pkl), a folder "
    "of videos (THUMOS14; with --gt its annotation folder), or a CSV video[,label] (with --root)."
)
_CLASSES = (
    "Which classes get detections: top1 (the paper), topK (e.g. top5) or all (every class, as "
    "the evaluators' authors expect)."
)


@app.command("detect")
def detect_cmd(
    data: Annotated[Path, typer.Option("--data", help=_DATA)],
    out: Annotated[Path, typer.Option("--out", help="Output folder (resumable).")],
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help=_CKPT)] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Another video classifier (r3d_18, r2plus1d_18, ..., a TorchScript file or "
            "package.module:factory), explained by --method; default: the paper's model.",
        ),
    ] = None,
    weights: Annotated[
        str | None,
        typer.Option("--weights", help="With --model: DEFAULT, KINETICS400_V1, none or a FILE."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="With --model: gradcam, gradcam++, ig or occlusion.")
    ] = "gradcam",
    target_layer: Annotated[
        str | None, typer.Option("--target-layer", help="With --model: the feature layer.")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="Split of a synth folder / GT.")] = "test",
    gt: Annotated[
        Path | None,
        typer.Option(
            "--gt",
            help="Ground truth: pyannot.pkl, a THUMOS14 folder, or a name (ucf101-24, thumos14).",
        ),
    ] = None,
    root: Annotated[
        Path | None, typer.Option("--root", help="Where the videos or frame folders are.")
    ] = None,
    class_list: Annotated[
        Path | None,
        typer.Option("--class-list", help="THUMOS14 layout: the 'id name' class file of --gt."),
    ] = None,
    frames: Annotated[int, typer.Option("--frames", help=_FRAMES)] = 25,
    fps: Annotated[float | None, typer.Option("--fps", help=_FPS)] = None,
    window: Annotated[int, typer.Option("--window", help=_WINDOW)] = 25,
    stride: Annotated[int, typer.Option("--stride", help=_STRIDE)] = 12,
    classes: Annotated[str, typer.Option("--classes", help=_CLASSES)] = "top1",
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Mask and importance threshold (default: the one the model was built for, "
            "else the paper's 0.5).",
        ),
    ] = None,
    save_maps: Annotated[
        bool, typer.Option("--save-maps", help="Also write maps/<video>.npz.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", help="Decode threads per rank (0: in the main one).")
    ] = 2,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    precision: Annotated[str, typer.Option("--precision", help="fp32 or bf16.")] = "fp32",
    skip_missing: Annotated[
        bool,
        typer.Option("--skip-missing", help="Exit 0 even if some videos are missing or broken."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress bar, notes or warnings.")
    ] = False,
    html: Annotated[
        bool,
        typer.Option(
            "--html/--no-html",
            help="Also write index.html (the videos) and videos/<key>/index.html (default on).",
        ),
    ] = True,
) -> None:
    """Run the model over every video of a test set: frame_dets.csv (eval-ucf24 --metric
    frame), tubes.json (--metric video), run.txt (eval-thumos), segments.csv, summary.json,
    index.html. Resumable; under torchrun each rank takes its share of the videos."""
    from attnviz.localize import LocalizeParams
    from attnviz.pipeline.detect import DetectSettings, list_videos, run_detect

    if workers < 0:
        raise fail(f"--workers must be >= 0, got {workers}")
    try:
        params = LocalizeParams(threshold=threshold, window=window, stride=stride)
    except ValueError as exc:
        raise fail(str(exc)) from None
    settings = DetectSettings(
        frames=frames, fps=fps, window=window, stride=stride, classes=classes, params=params,
        precision=precision, save_maps=save_maps,
    )  # fmt: skip
    videos = list_videos(data, split=split, gt=gt, root=root, class_list=class_list)
    with _video_warnings(quiet):
        explainer = None
        if model is not None:
            from attnviz.explain.video_methods import build_video_explainer

            explainer = build_video_explainer(
                model, weights=weights, method=method, target_layer=target_layer,
                checkpoint=checkpoint, device=device, precision=precision,
            )  # fmt: skip
        summary = run_detect(
            videos, out, checkpoint=checkpoint, model=explainer, settings=settings,
            device=device, workers=workers, quiet=quiet, html=html,
        )  # fmt: skip
    if "counts" not in summary:  # another rank: rank 0 reports
        return
    c = summary["counts"]
    info(
        f"wrote {out} ({c['videos_done']} videos, {c['frame_detections']} frame detections, "
        f"{c['tubes']} tubes, {c['segments']} segments, {summary['time']['seconds']:.1f} s)",
        quiet,
    )
    failed = summary["failed"]
    if failed:
        for key, why in failed if not quiet else ():
            warn(f"{key}: {why}; no detections")
        msg = f"{len(failed)} of {len(videos)} videos have no detections (first: {failed[0][0]})"
        if not skip_missing:
            raise fail(msg + "; --skip-missing to accept", code=1)
        info(msg, quiet)
