"""``attnviz eval-ucf24`` and ``attnviz convert-gt``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from attnviz.cli._app import app, fail, warn

_GT_HELP = (
    "Ground truth: pyannot .pkl/.json, finalAnnots.mat, ACT .pkl/.json or YOWO .zip (gzip ok); "
    "or a name: ucf101-24 or jhmdb21, shipped with attnviz (see attnviz datasets)."
)
_CONVERT_GT_HELP = (
    "Ground truth to convert: a file as for eval-ucf24 --gt (or THUMOS14 ground truth as for "
    "eval-thumos --gt), or a name of attnviz datasets (thumos14, thumos14-val, ucf101-24, "
    "jhmdb21)."
)


def _spatial_gt(gt: str) -> Path:
    """``--gt`` as a path or a name of spatio-temporal ground truth."""
    from attnviz.io.datasets import resolve_gt

    ref = resolve_gt(gt)
    if ref.dataset is not None and ref.dataset.kind != "spatial":
        raise fail(f"--gt {gt} is {ref.dataset.content}, not spatio-temporal ground truth")
    return ref.path


def _tube_nms(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        v = float(text)
    except ValueError:
        raise fail(f"--tube-nms must be a number in [0, 1] or none, got {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise fail(f"--tube-nms must be a number in [0, 1] or none, got {text!r}")
    return v


def _compare_text(metric: str, comparison, fmt: str) -> str:
    from attnviz.pipeline.ucf24 import PROTOCOL_NOTES, protocol_differences
    from attnviz.report import format_comparison

    results = comparison.results
    if fmt == "json":
        data = {
            "results": [r.to_dict() for r in results],
            "differences": [
                {"protocols": [a, b], "changed": [list(c) for c in counts], "why": why}
                for ((a, b), counts), why in zip(
                    comparison.changed.items(), comparison.reasons.values(), strict=True
                )
            ],
        }
        return json.dumps(data, indent=2) + "\n"
    if fmt in ("csv", "markdown"):
        return format_comparison(results, fmt)
    lines = [f"{metric}-mAP (%) under each protocol", format_comparison(results).rstrip("\n")]
    lines += protocol_differences(comparison)
    for r in results:
        note = PROTOCOL_NOTES.get((metric, r.protocol))
        if note:
            lines.append(f"{r.protocol}: {note}")
    return "\n".join(lines) + "\n"


@app.command("eval-ucf24")
def eval_ucf24_cmd(
    gt: str = typer.Option(None, "--gt", help=_GT_HELP),
    pred: Path = typer.Option(
        None, "--pred", help="Frame detections CSV (or COCO results .json), or tubes .json."
    ),
    metric: str = typer.Option("frame", "--metric", help="frame (frame-mAP) or video (video-mAP)."),
    protocol: str = typer.Option(
        "act", "--protocol", help="frame: act, voc, coco; video: act, voc, ucf24-matlab."
    ),
    iou: str = typer.Option(
        "0.05,0.1,0.2,0.3,0.5,0.75", "--iou", help="Thresholds: comma list or start:stop:step."
    ),
    split: str = typer.Option("test", "--split", help="train, test or all."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
    out: Path = typer.Option(None, "--out", help="Write the report here instead of stdout."),
    per_class: bool = typer.Option(False, "--per-class", help="Also the AP of each class."),
    coco_gt: Path = typer.Option(
        None, "--coco-gt", help="COCO GT (from convert-gt --to coco) that COCO results refer to."
    ),
    tube_nms: str = typer.Option(
        "0.3", "--tube-nms", help="ACT video-mAP 3D NMS overlap, or 'none'."
    ),
    compare: str = typer.Option(
        None, "--compare", help="Several protocols side by side, e.g. act,voc,coco."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No warnings on stderr."),
) -> None:
    """Spatial localization frame-mAP / video-mAP (the paper's Table 5) under a named protocol,
    equal to the protocol's reference code."""
    from attnviz.evaluate.params import parse_thresholds
    from attnviz.io.atomic import atomic_write_text
    from attnviz.pipeline.ucf24 import compare_ucf24, eval_ucf24
    from attnviz.report import FORMATS, format_result

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if gt is None:
        raise fail("--gt is required")
    if pred is None:
        raise fail("--pred is required")
    gt = _spatial_gt(gt)
    thresholds = parse_thresholds(iou)
    nms = _tube_nms(tube_nms)
    kw = dict(metric=metric, iou=thresholds, split=split, coco_gt=coco_gt, tube_nms=nms)
    if compare:
        comparison = compare_ucf24(gt, pred, compare.split(","), **kw)
        results = comparison.results
        text = _compare_text(metric, comparison, fmt)
    else:
        results = (eval_ucf24(gt, pred, protocol=protocol, **kw),)
        text = format_result(results[0], fmt, per_class=per_class)
    if not quiet:
        for r in results:
            for w in r.warnings:
                warn(f"[{r.protocol}] {w}" if compare else w)
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)


@app.command("convert-gt")
def convert_gt_cmd(
    args: list[str] = typer.Argument(
        None,
        metavar="GT OUT",
        help="GT OUT, or OUT alone with --gt (as before: a path or a name).",
    ),
    to: str = typer.Option(
        ...,
        "--to",
        help="act-json, act-pkl, pyannot-json, pyannot-pkl, mat, yowo-zip or coco; for THUMOS14 "
        "ground truth thumos14-folder or activitynet-json.",
    ),
    gt: str = typer.Option(None, "--gt", help=_CONVERT_GT_HELP),
    out: Path = typer.Option(None, "--out", help="Output file (a folder for thumos14-folder)."),
    split: str = typer.Option("test", "--split", help="Split for the COCO and YOWO exports."),
    subset: str = typer.Option(
        None, "--subset", help="THUMOS14 subset of a path (test or val; a name brings its own)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No message on stderr."),
) -> None:
    """Convert ground truth between layouts: UCF101-24 / JHMDB-21 tubes between pyannot,
    finalAnnots.mat, ACT, YOWO and COCO; THUMOS14 segments to the official per-class files or
    ActivityNet JSON."""
    from attnviz.io.datasets import resolve_gt
    from attnviz.io.thumos import TEMPORAL_GT_FORMATS

    rest = list(args or [])
    if gt is None and rest:
        gt = rest.pop(0)
    if out is None and rest:
        out = Path(rest.pop(0))
    if rest:
        raise fail(f"unexpected argument(s): {' '.join(rest)}")
    if gt is None or out is None:
        raise fail("give the ground truth (--gt NAME or PATH) and the output (--out or OUT)")
    ref = resolve_gt(gt)
    temporal = to in TEMPORAL_GT_FORMATS
    kind = ref.dataset.kind if ref.dataset is not None else None
    if kind is not None and (kind == "temporal") != temporal:
        raise fail(f"--gt {gt} is {ref.dataset.content}: --to {to} does not apply to it")
    if temporal:
        from attnviz.pipeline.thumos import convert_thumos_gt

        if ref.subset is not None and subset is not None and subset != ref.subset:
            raise fail(f"--gt {gt} is the {ref.subset} subset, not {subset!r}")
        path = convert_thumos_gt(
            ref.path, out, to=to, subset=subset or ref.subset or "test", classes=ref.classes
        )
    else:
        from attnviz.pipeline.ucf24 import convert_gt

        path = convert_gt(ref.path, out, to=to, split=split)
    if not quiet:
        typer.echo(f"wrote {path}", err=True)
