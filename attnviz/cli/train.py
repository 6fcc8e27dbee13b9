"""``attnviz train``: train the recognizer (one process, or ``torchrun`` DDP)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from attnviz.cli._app import app, info

# what a training run writes into its folder (backbone.pt is kept: a rerun with the same
# settings reuses it, see attnviz.pipeline.train)
_TRAIN_FILES = (
    "epoch_*.pt", "best.pt", "last.pt", "log.csv", "backbone_log.csv", "best.pth", "last.pth",
)  # fmt: skip


@app.command("train")
def train_cmd(
    recipe: Path = typer.Option(None, "--recipe", help="Recipe JSON; options below override it."),
    data: str = typer.Option(None, "--data", help="Training list (CSV, split folder, GT file)."),
    dataset: str = typer.Option(None, "--dataset", help="csv, ucf101, hmdb51, ucf24 or thumos14."),
    root: Path = typer.Option(None, "--root", help="Folder of the videos or frame folders."),
    classes: Path = typer.Option(None, "--classes", help="Class list 'id name'."),
    split: int = typer.Option(None, "--split", help="Official split number (UCF101, HMDB51)."),
    val: str = typer.Option(None, "--val", help="Validation list (never the test split)."),
    val_fraction: float = typer.Option(
        None, "--val-fraction", help="Or hold out this fraction of the training list."
    ),
    test: str = typer.Option(
        None, "--test", help="Test list: checked to share no video with --val."
    ),
    features: Path = typer.Option(
        None, "--features", help="Train on cached features (filled first)."
    ),
    backbone: str = typer.Option(
        None, "--backbone", help="resnet18 ... resnet152 (default resnet50)."
    ),
    weights: str = typer.Option(None, "--weights", help="imagenet (default) or a state_dict file."),
    random_init: bool = typer.Option(
        None, "--random-init/--no-random-init", help="Random backbone."
    ),
    stage: int = typer.Option(None, "--stage", help="Cut the ResNet after layer1..4 (default 4)."),
    input_size: int = typer.Option(None, "--input-size", help="Frame size (default 224)."),
    frames: int = typer.Option(None, "--frames", help="Frames per video (default 25)."),
    hidden: int = typer.Option(None, "--hidden", help="ConvLSTM channels (default 512)."),
    no_spatial: bool = typer.Option(None, "--no-spatial", help="Ablation: no spatial attention."),
    no_temporal: bool = typer.Option(
        None, "--no-temporal", help="Ablation: no temporal attention."
    ),
    epochs: int = typer.Option(None, "--epochs", help="Epochs (default 20)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Videos per step and process."),
    lr: float = typer.Option(None, "--lr", help="Adam learning rate (paper: 1e-4)."),
    weight_decay: float = typer.Option(None, "--weight-decay", help="Adam weight decay (1e-4)."),
    lambda_tv: float = typer.Option(None, "--lambda-tv", help="TV weight (paper: 1e-5)."),
    lambda_contrast: float = typer.Option(
        None, "--lambda-contrast", help="Contrast weight (1e-4)."
    ),
    lambda_unimodal: float = typer.Option(None, "--lambda-unimodal", help="Unimodal weight (1)."),
    seed: int = typer.Option(None, "--seed", help="Shuffling / dropout seed."),
    out: Path = typer.Option(None, "--out", help="Run folder: checkpoints and log.csv."),
    resume: Path = typer.Option(None, "--resume", help="Continue from this checkpoint."),
    device: str = typer.Option(None, "--device", help="cpu or cuda."),
    precision: str = typer.Option(None, "--precision", help="fp32 or bf16."),
    workers: int = typer.Option(None, "--workers", help="DataLoader workers."),
    save_every: int = typer.Option(
        None,
        "--save-every",
        help="Also keep epoch_XXX.pt every N epochs (default: only last.pt and best.pt).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier run's checkpoints and log in --out."
    ),
) -> None:
    """Train weakly supervised (class labels only) with the loss of eq. 6."""
    from attnviz.pipeline.train import load_recipe, merge_recipe, run_recipe

    base = load_recipe(recipe) if recipe is not None else {}
    spatial = None if no_spatial is None else not no_spatial
    temporal = None if no_temporal is None else not no_temporal
    overrides = {
        "data": {
            "train": data,
            "dataset": dataset,
            "root": str(root) if root else None,
            "classes": str(classes) if classes else None,
            "split": split,
            "val": val,
            "val_fraction": val_fraction,
            "test": test,
        },
        "features": {"cache": str(features)} if features is not None else None,
        "model": {
            "backbone": backbone,
            "weights": weights,
            "random_init": random_init,
            "backbone_stage": stage,
            "input_size": input_size,
            "frames": frames,
            "hidden_channels": hidden,
            "spatial_attention": spatial,
            "temporal_attention": temporal,
        },
        "train": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "weight_decay": weight_decay,
            "lambda_tv": lambda_tv,
            "lambda_contrast": lambda_contrast,
            "lambda_unimodal": lambda_unimodal,
            "seed": seed,
            "device": device,
            "precision": precision,
            "workers": workers,
            "save_every": save_every,
        },
        "out": str(out) if out is not None else None,
    }
    if data is not None:  # a list given on the command line replaces the recipe's data
        base = {k: v for k, v in base.items() if k not in ("synthetic", "data")}
    cfg = merge_recipe(base, overrides)
    run_out = cfg.get("out")
    source = str(recipe) if recipe is not None else str(cfg.get("data", {}).get("train"))
    main_rank = os.environ.get("RANK", "0") == "0"  # under torchrun rank 0 checks the folder
    if resume is None and run_out and main_rank:
        from attnviz.io.outdir import check_output_folder

        check_output_folder(
            run_out, command="train", source=source, overwrite=overwrite,
            rerun_ok=False, owned=_TRAIN_FILES, flag_hint="--resume RUN/last.pt or --overwrite",
        )  # fmt: skip
    summary = run_recipe(cfg, resume=resume, quiet=quiet)
    if run_out and main_rank:
        from attnviz.io.outdir import record_output_folder

        record_output_folder(run_out, command="train", source=source)
    # the result, printed even with --quiet (which silences progress only)
    info(f"best epoch {summary['best_epoch']}: {summary['best']} (log: {summary['log']})")
    if "export" in summary:
        info(f"exported {summary['export']}")
