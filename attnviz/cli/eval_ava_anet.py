"""``attnviz eval-ava`` and ``attnviz eval-anet``: AVA and ActivityNet-1.3 as their official
evaluators score them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attnviz.cli._app import app, fail, warn

_FMT = "table, json, csv or markdown."


def _emit(result, fmt: str, out: Path | None, per_class: bool, quiet: bool) -> None:
    from attnviz.io.atomic import atomic_write_text
    from attnviz.report import format_result

    if not quiet:
        for w in result.warnings:
            warn(w)
    text = format_result(result, fmt, per_class=per_class)
    if fmt == "table" and "average_mAP" in result.extra:
        text += f"average mAP: {100 * result.extra['average_mAP']:.2f}\n"
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)


def _check_format(fmt: str) -> None:
    from attnviz.report import FORMATS

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")


@app.command("eval-ava")
def eval_ava_cmd(
    gt: Annotated[
        Path,
        typer.Option(
            "--gt", help="Ground-truth CSV (AVA layout, gzip ok), or ava-v2.1 / ava-v2.2."
        ),
    ],
    pred: Annotated[
        Path,
        typer.Option("--pred", help="Detections CSV: video,timestamp,x1,y1,x2,y2,action,score."),
    ],
    labelmap: Annotated[
        Path | None,
        typer.Option("--labelmap", help="Label map .pbtxt (default: AVA v2.1, 60 classes)."),
    ] = None,
    exclusions: Annotated[
        Path | None,
        typer.Option("--exclusions", help="Excluded keyframes CSV video,timestamp (old releases)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=_FMT)] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
    per_class: Annotated[bool, typer.Option("--per-class", help="Also each class's AP.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No warnings on stderr.")] = False,
) -> None:
    """AVA frame-mAP at IoU 0.5, as get_ava_performance.py computes it."""
    from attnviz.pipeline.ava_anet import eval_ava

    _check_format(fmt)
    result = eval_ava(gt, pred, labelmap=labelmap, exclusions=exclusions)
    _emit(result, fmt, out, per_class, quiet)


@app.command("eval-anet")
def eval_anet_cmd(
    gt: Annotated[
        Path,
        typer.Option(
            "--gt",
            help="Ground-truth JSON (activity_net.v1-3.min.json), or the name activitynet-1.3.",
        ),
    ],
    pred: Annotated[Path, typer.Option("--pred", help="Results JSON of the detection task.")],
    subset: Annotated[
        str | None, typer.Option("--subset", help="Subset of the GT (default: validation).")
    ] = None,
    tiou: Annotated[
        str | None,
        typer.Option(
            "--tiou",
            help="Thresholds (comma list or start:stop:step); default np.linspace(0.5, 0.95, 10).",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=_FMT)] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
    per_class: Annotated[bool, typer.Option("--per-class", help="Also each class's AP.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No warnings on stderr.")] = False,
) -> None:
    """ActivityNet-1.3 detection mAP at tIoU 0.5:0.95 and average mAP, as eval_detection.py."""
    from attnviz.evaluate.params import parse_thresholds
    from attnviz.pipeline.ava_anet import eval_anet

    _check_format(fmt)
    thresholds = None if tiou is None else parse_thresholds(tiou)
    result = eval_anet(gt, pred, subset=subset, tiou=thresholds)
    _emit(result, fmt, out, per_class, quiet)
