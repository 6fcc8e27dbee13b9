"""``attnviz eval-multisports``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attnviz.cli._app import app, fail, warn


@app.command("eval-multisports")
def eval_multisports_cmd(
    gt: Annotated[Path, typer.Option("--gt", help="multisports_GT.pkl (the ACT layout).")] = None,
    pred: Annotated[
        Path,
        typer.Option(
            "--pred",
            help="frame: [N, 8] pickle (video index into test_videos[0]) or CSV with video "
            "names; video: {label: [(video, score, tube)]} pickle or tubes.json.",
        ),
    ] = None,
    metric: Annotated[str, typer.Option("--metric", help="frame or video.")] = "frame",
    iou: Annotated[
        str,
        typer.Option(
            "--iou",
            help="Thresholds: comma list or start:stop:step (e.g. 0.05:0.45:0.05, 0.1:0.9:0.1, "
            "0.5:0.95:0.05 as videoAP_all). Default: frame 0.5, video 0.2,0.5.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json, csv or markdown.")] = "table",
    out: Annotated[Path, typer.Option("--out", help="Write the report here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No warnings on stderr.")] = False,
) -> None:
    """MultiSports frame-AP / video-AP, equal to the official evaluate_multisports.py."""
    from attnviz.io.atomic import atomic_write_text
    from attnviz.pipeline.multisports import eval_multisports, format_multisports
    from attnviz.report import FORMATS

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if gt is None:
        raise fail("--gt is required")
    if pred is None:
        raise fail("--pred is required")
    result = eval_multisports(gt, pred, metric=metric, iou=iou)
    text = format_multisports(result, fmt)
    if not quiet:
        for w in result.warnings:
            warn(w)
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)
