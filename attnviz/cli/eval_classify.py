"""``attnviz eval-classify``: top-1 / top-5 accuracy in the layout of the paper's Tables 2-4."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, fail


@app.command("eval-classify")
def eval_classify_cmd(
    checkpoint: list[Path] = typer.Option(..., "--checkpoint", help="Model(s); repeat for rows."),
    data: str = typer.Option(..., "--data", help="Video list (CSV, split folder or GT file)."),
    dataset: str = typer.Option("csv", "--dataset", help="csv, ucf101, hmdb51, ucf24 or thumos14."),
    subset: str = typer.Option("test", "--subset", help="test (or train / val)."),
    split: int = typer.Option(1, "--split", help="Official split number (UCF101, HMDB51)."),
    root: Path = typer.Option(
        None, "--root", help="Folder of the videos (not needed with --features)."
    ),
    classes: Path = typer.Option(None, "--classes", help="Class list 'id name'."),
    features: Path = typer.Option(None, "--features", help="Cached features of these videos."),
    frames: int = typer.Option(None, "--frames", help="Frames per video (default: the model's)."),
    name: list[str] = typer.Option(None, "--name", help="Row name per checkpoint."),
    batch_size: int = typer.Option(8, "--batch-size", help="Videos per forward."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    precision: str = typer.Option("fp32", "--precision", help="fp32 or bf16."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
    per_class: bool = typer.Option(False, "--per-class", help="Also top-1 per class (table)."),
    out: Path = typer.Option(None, "--out", help="Write the report here instead of stdout."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Classification accuracy of one or more checkpoints on a list of videos."""
    from attnviz.io.atomic import atomic_write_text
    from attnviz.io.splits import read_video_list
    from attnviz.pipeline.train import classify_checkpoints, format_classify

    if fmt not in ("table", "json", "csv", "markdown"):
        raise fail(f"--format must be table, json, csv or markdown, got {fmt!r}")
    if root is None and features is None:
        raise fail("give --root (the videos) or --features (their cached features)")
    videos = read_video_list(
        data, dataset=dataset, subset=subset, split=split, root=root, classes=classes
    )
    results = classify_checkpoints(
        list(checkpoint),
        videos,
        features=features,
        frames=frames,
        batch_size=batch_size,
        device=device,
        precision=precision,
        names=list(name) if name else None,
        quiet=quiet,
    )
    text = format_classify(results, fmt, dataset=Path(str(data)).name, per_class=per_class)
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)
