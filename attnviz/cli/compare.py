"""``attnviz compare-explanations``."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, fail, localize_params


@app.command("compare-explanations")
def compare_explanations_cmd(
    data: Path = typer.Option(
        ...,
        "--data",
        help="Data folder with ground truth: videos/, <split>.csv, classes.txt, annotations/ "
        "and/or gt_tubes.json (what attnviz synth writes).",
    ),
    checkpoint: Path = typer.Option(
        None, "--checkpoint", help="Model checkpoint (default: the embedded model)."
    ),
    methods: str = typer.Option(
        "attention,gradcam,occlusion,ig", "--methods", help="Comma list of methods to compare."
    ),
    out: Path = typer.Option(Path("compare"), "--out", help="Output folder."),
    split: str = typer.Option("test", "--split", help="Which split of the data folder."),
    temporal_gt: Path = typer.Option(
        None, "--temporal-gt", help="THUMOS14-style ground truth (default DIR/annotations)."
    ),
    spatial_gt: Path = typer.Option(
        None, "--spatial-gt", help="UCF101-24-style tubes (default DIR/gt_tubes.json)."
    ),
    classes: Path = typer.Option(
        None, "--classes", help="'id name' class list (default DIR/classes.txt)."
    ),
    max_videos: int = typer.Option(None, "--max-videos", help="Only the first N videos."),
    frames: int = typer.Option(
        None,
        "--frames",
        help="Uniformly sampled frames (default: the model's training clip length, else 25).",
    ),
    fps: float = typer.Option(None, "--fps", help="Instead: sample at this rate in windows."),
    window: int = typer.Option(25, "--window", help="Sampled frames per window (with --fps)."),
    stride: int = typer.Option(12, "--stride", help="Window stride in samples (with --fps)."),
    baseline: str = typer.Option(
        "blur", "--baseline", help="How frames/cells are removed: blur, zero or mean."
    ),
    batch: int = typer.Option(16, "--batch", help="Perturbed clips per forward pass."),
    ig_steps: int = typer.Option(32, "--ig-steps", help="Integrated-gradients path points."),
    ig_space: str = typer.Option(
        "features", "--ig-space", help="Integrated gradients on features or pixels."
    ),
    occlusion_window: int = typer.Option(
        1, "--occlusion-window", help="Frames dropped together for temporal occlusion."
    ),
    occlusion_spatial_window: int = typer.Option(
        5, "--occlusion-spatial-window", help="Frames per block of spatial occlusion."
    ),
    spatial_steps: int = typer.Option(
        16, "--spatial-steps", help="Steps of the spatial deletion/insertion curves."
    ),
    temporal_steps: int = typer.Option(
        None, "--temporal-steps", help="Steps of the frame curves (default: one frame a step)."
    ),
    random_orders: int = typer.Option(
        3, "--random-orders", help="Random orders averaged for the baseline curves."
    ),
    sanity_videos: int = typer.Option(
        4, "--sanity-videos", help="Videos of the randomisation check (0: skip)."
    ),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Binarisation threshold (default: for the attention method the one the model was "
        "built for, for the others and models without one the paper's 0.5).",
    ),
    figure_video: str = typer.Option(
        None,
        "--figure-video",
        help="Video key shown in maps.png (default: the first with ground truth).",
    ),
    save_maps: bool = typer.Option(
        False, "--save-maps", help="Also write maps/<method>/<video>.npz for attnviz localize."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    seed: int = typer.Option(0, "--seed", help="Seed of random orders and re-initialisation."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
    html: bool = typer.Option(
        True, "--html/--no-html", help="Also write index.html and videos/<key>/index.html."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the outputs of an earlier run in --out."
    ),
    model: str = typer.Option(
        None,
        "--model",
        help="Compare another video classifier's explanations (r3d_18, r2plus1d_18, ..., a "
        "TorchScript file or package.module:factory; methods gradcam, gradcam++, ig, occlusion) "
        "next to the paper model's attention (--checkpoint) when 'attention' is in --methods.",
    ),
    weights: str = typer.Option(
        None,
        "--weights",
        help="With --model: DEFAULT, KINETICS400_V1, none (random, with the data's classes) or "
        "a weights FILE.",
    ),
    target_layer: str = typer.Option(
        None, "--target-layer", help="With --model: the layer whose output holds the features."
    ),
    whole_frame: bool = typer.Option(
        False, "--resize-whole-frame", help="With --model: resize the whole frame, no crop."
    ),
    precision: str = typer.Option("fp32", "--precision", help="With --model: fp32 or bf16."),
) -> None:
    """Attention vs Grad-CAM, occlusion and integrated gradients: one table (localization,
    faithfulness, sanity), deletion/insertion curves and the maps side by side."""
    from attnviz.io.outdir import output_folder
    from attnviz.pipeline.compare import compare_explanations

    if fps is not None and fps <= 0:
        raise fail(f"--fps must be positive, got {fps}")
    if frames is not None and frames < 1:
        raise fail(f"--frames must be >= 1, got {frames}")
    if model is None and (weights, target_layer, whole_frame, precision) != (
        None, None, False, "fp32"
    ):  # fmt: skip
        raise fail(
            "--weights, --target-layer, --resize-whole-frame and --precision go with --model"
        )
    params = localize_params(threshold=threshold, window=window, stride=stride)
    with output_folder(
        out, command="compare-explanations", source=str(Path(data).resolve()),
        overwrite=overwrite,
    ):  # fmt: skip
        summary = compare_explanations(
            data, out, checkpoint=checkpoint, methods=methods.split(","), split=split,
            temporal_gt=temporal_gt, spatial_gt=spatial_gt, classes=classes,
            max_videos=max_videos, frames=frames, fps=fps, window=window, stride=stride,
            baseline=baseline, batch=batch,
            ig_steps=ig_steps, ig_space=ig_space, occlusion_window=occlusion_window,
            occlusion_spatial_window=occlusion_spatial_window, spatial_steps=spatial_steps,
            temporal_steps=temporal_steps,
            random_orders=random_orders, sanity_videos=sanity_videos, params=params,
            figure_video=figure_video, save_maps=save_maps, device=device, seed=seed, quiet=quiet,
            html=html, model=model, weights=weights, target_layer=target_layer,
            resize_whole_frame=whole_frame, precision=precision,
        )  # fmt: skip
    typer.echo(summary["markdown"])
    if not quiet:
        typer.echo(f"wrote {summary['out']} ({summary['videos']} videos)", err=True)
