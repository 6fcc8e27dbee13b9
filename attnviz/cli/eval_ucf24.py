"""``attnviz eval-ucf24`` and ``attnviz convert-gt``."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, fail, warn


@app.command("eval-ucf24")
def eval_ucf24_cmd(
    gt: Path = typer.Option(
        ...,
        "--gt",
        help="Ground truth: pyannot .pkl/.json, finalAnnots.mat, ACT .pkl/.json, YOWO .zip.",
    ),
    pred: Path = typer.Option(
        ..., "--pred", help="Frame detections CSV (or COCO results .json), or tubes .json."
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
        None, "--coco-gt", help="COCO GT (from convert-gt) for COCO results."
    ),
    tube_nms: str = typer.Option(
        "0.3", "--tube-nms", help="ACT video-mAP 3D NMS overlap, or 'none'."
    ),
    compare: str = typer.Option(
        None, "--compare", help="Several protocols side by side, e.g. act,voc,coco."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No warnings on stderr."),
) -> None:
    """Spatial localization frame-mAP / video-mAP (the paper's Table 5) under a named protocol."""
    from attnviz.evaluate.params import parse_thresholds
    from attnviz.io.atomic import atomic_write_text
    from attnviz.pipeline.ucf24 import PROTOCOL_NOTES, eval_ucf24
    from attnviz.report import FORMATS, format_comparison, format_result

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    thresholds = parse_thresholds(iou)
    nms = None if tube_nms.strip().lower() == "none" else float(tube_nms)
    protocols = [p.strip() for p in compare.split(",")] if compare else [protocol]
    results = [
        eval_ucf24(
            gt,
            pred,
            metric=metric,
            protocol=p,
            iou=thresholds,
            split=split,
            coco_gt=coco_gt,
            tube_nms=nms,
        )
        for p in protocols
    ]
    if not quiet:
        for r in results:
            for w in r.warnings:
                warn(f"[{r.protocol}] {w}" if compare else w)
    if compare:
        lines = [f"{metric}-mAP (%) under each protocol", format_comparison(results)]
        base = results[0]
        for r in results[1:]:
            diff = r.ap - base.ap
            k, j = divmod(int(abs(diff).argmax()), diff.shape[1]) if diff.size else (0, 0)
            lines.append(
                f"{r.protocol} vs {base.protocol}: mAP differs by "
                + ", ".join(f"{100 * (a - b):+.2f}" for a, b in zip(r.mAP, base.mAP, strict=True))
                + (
                    f" points; largest per-class gap {100 * diff[k, j]:+.2f} ({r.class_names[k]}, "
                    f"IoU={r.thresholds[j]:g})"
                    if diff.size
                    else ""
                )
            )
        for r in results:
            note = PROTOCOL_NOTES.get((metric, r.protocol))
            if note:
                lines.append(f"{r.protocol}: {note}")
        text = "\n".join(lines) + "\n"
    else:
        text = format_result(results[0], fmt, per_class=per_class)
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)


@app.command("convert-gt")
def convert_gt_cmd(
    gt: Path = typer.Argument(..., help="Ground truth in any supported layout."),
    out: Path = typer.Argument(..., help="Output file."),
    to: str = typer.Option(..., "--to", help="act-json, act-pkl, pyannot-json or coco."),
    split: str = typer.Option("test", "--split", help="Split for the COCO export."),
) -> None:
    """Convert spatio-temporal ground truth between layouts (and to COCO JSON)."""
    from attnviz.pipeline.ucf24 import convert_gt

    path = convert_gt(gt, out, to=to, split=split)
    typer.echo(f"wrote {path}", err=True)
