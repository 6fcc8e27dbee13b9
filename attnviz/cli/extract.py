"""``attnviz extract-features``: the resumable, shardable feature cache."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, fail, info


@app.command("extract-features")
def extract_cmd(
    data: str = typer.Option(..., "--data", help="Video list (CSV, split folder or GT file)."),
    out: Path = typer.Option(..., "--out", help="Cache folder."),
    dataset: str = typer.Option("csv", "--dataset", help="csv, ucf101, hmdb51, ucf24 or thumos14."),
    subset: str = typer.Option("train", "--subset", help="train, test (THUMOS14: val or test)."),
    split: int = typer.Option(1, "--split", help="Official split number (UCF101, HMDB51)."),
    root: Path = typer.Option(..., "--root", help="Folder of the videos or frame folders."),
    classes: Path = typer.Option(None, "--classes", help="Class list 'id name'."),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="Use this model's backbone."),
    backbone: str = typer.Option("resnet50", "--backbone", help="resnet18 ... resnet152."),
    weights: str = typer.Option("imagenet", "--weights", help="imagenet or a state_dict file."),
    random_init: bool = typer.Option(False, "--random-init", help="Random backbone weights."),
    seed: int = typer.Option(0, "--seed", help="Seed of --random-init."),
    stage: int = typer.Option(4, "--stage", help="Cut the ResNet after layer1..4."),
    input_size: int = typer.Option(224, "--input-size", help="Frames resized to this square."),
    frames: int = typer.Option(25, "--frames", help="Frames per video, sampled uniformly."),
    dtype: str = typer.Option("float16", "--dtype", help="float16 or float32."),
    batch: int = typer.Option(64, "--batch", help="Frames per backbone forward."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (cuda:LOCAL_RANK)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Cache last-conv features per video (resumable; sharded across torchrun ranks)."""
    import os

    from attnviz.io.splits import read_video_list
    from attnviz.pipeline.features import extract_features

    if dtype not in ("float16", "float32"):
        raise fail(f"--dtype must be float16 or float32, got {dtype!r}")
    videos = read_video_list(
        data, dataset=dataset, subset=subset, split=split, root=root, classes=classes
    )
    if device == "cuda" and "LOCAL_RANK" in os.environ:
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    counts = extract_features(
        videos,
        out,
        frames=frames,
        dtype=dtype,
        batch=batch,
        device=device,
        quiet=quiet,
        checkpoint=checkpoint,
        backbone=backbone,
        weights=weights,
        random_init=random_init,
        seed=seed,
        stage=stage,
        input_size=input_size,
    )
    info(
        f"{out}: {counts['done']} extracted, {counts['skipped']} already complete, "
        f"{counts['redone']} damaged and redone ({counts['total']} videos in this shard)",
        quiet,
    )
