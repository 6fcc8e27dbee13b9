"""``attnviz eval-thumos``: temporal detection mAP on THUMOS14 under a named protocol."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, fail, warn

_COMPARE_HELP = (
    "Score under several protocols side by side (comma list, e.g. thumos14,activitynet) and "
    "show which detections changed status and why."
)

_REASONS = {
    frozenset({"thumos14", "activitynet"}): (
        "thumos14 drops unmatched detections that overlap an Ambiguous segment, matches ground "
        "truths in annotation order with overlap > threshold, and averages the precision at each "
        "hit; activitynet counts those detections as false positives, matches detections in score "
        "order with tIoU >= threshold, and interpolates precision over all recall points"
    ),
    frozenset({"thumos14", "thumos14-2014"}): (
        "same matching; the 2014 kit ranks true positives before false positives on equal "
        "scores and uses 11-point interpolated AP (and strips .mpeg instead of .mp4)"
    ),
    frozenset({"thumos14-2014", "activitynet"}): (
        "the 2014 kit drops Ambiguous-overlapping misses, matches by ground truth with overlap > "
        "threshold and uses 11-point AP; activitynet matches by detection with tIoU >= threshold "
        "and all-point AP"
    ),
}


@app.command("eval-thumos")
def eval_thumos_cmd(
    gt: Path = typer.Option(
        None, "--gt", help="GT folder of <Class>_<subset>.txt files, a GT .json or the GT .csv."
    ),
    pred: Path = typer.Option(
        None, "--pred", help="Detections: run file (video t1 t2 class_id score), .json or .csv."
    ),
    protocol: str = typer.Option(
        "thumos14", "--protocol", help="thumos14 (2015 kit), thumos14-2014 or activitynet."
    ),
    tiou: str = typer.Option(
        "0.1,0.2,0.3,0.4,0.5", "--tiou", help="Thresholds: comma list or start:stop:step."
    ),
    classes: Path = typer.Option(
        None, "--classes", help="Class list 'id name' (default: THUMOS14)."
    ),
    subset: str = typer.Option("test", "--subset", help="test or val."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
    out: Path = typer.Option(None, "--out", help="Write the report here instead of stdout."),
    per_class: bool = typer.Option(False, "--per-class", help="Also the AP of each class."),
    pred_format: str = typer.Option(None, "--pred-format", help="Force run, json or csv."),
    compare: str = typer.Option(None, "--compare", help=_COMPARE_HELP),
    videos: Path = typer.Option(
        None, "--videos", help="Run the model over the videos of this folder instead of --pred."
    ),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="Model for --videos."),
    quiet: bool = typer.Option(False, "--quiet", help="No warnings or progress on stderr."),
) -> None:
    """Temporal detection mAP (the paper's Table 6) under a named protocol."""
    from attnviz.evaluate.params import parse_thresholds
    from attnviz.evaluate.thumos import PROTOCOLS
    from attnviz.io.atomic import atomic_write_text
    from attnviz.report import FORMATS, format_comparison, format_result

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if gt is None:
        raise fail("--gt is required")
    thresholds = parse_thresholds(tiou)
    if videos is not None:
        from attnviz.pipeline.explain import temporal_run_file  # noqa: PLC0415

        pred = temporal_run_file(videos, checkpoint=checkpoint, gt=gt, quiet=quiet)
    if pred is None:
        raise fail("--pred (or --videos) is required")
    if compare:
        from attnviz.pipeline.thumos import compare_thumos, load_inputs

        names = [p.strip() for p in compare.split(",") if p.strip()]
        bad = [p for p in names if p not in PROTOCOLS]
        if bad or len(names) < 2:
            raise fail(f"--compare takes two or more of {', '.join(PROTOCOLS)}, got {compare!r}")
        truth, dets = load_inputs(gt, pred, subset=subset, classes=classes, pred_format=pred_format)
        results, diffs = compare_thumos(truth, dets, names, tiou=thresholds)
        lines = ["Temporal localization mAP (%) under each protocol", format_comparison(results)]
        for d in diffs:
            lines.append(
                f"{d.a} vs {d.b} at tIoU={d.tiou:g}: {d.tp_to_fp} TP->FP, {d.fp_to_tp} FP->TP, "
                f"{d.ignored_to_fp} dropped as Ambiguous under {d.a} but FP under {d.b} "
                f"(dropped: {d.ignored_a} vs {d.ignored_b})"
                + (f"; e.g. lines {', '.join(map(str, d.examples))}" if d.examples else "")
            )
        seen = set()
        for d in diffs:
            key = frozenset({d.a, d.b})
            if key not in seen and key in _REASONS:
                seen.add(key)
                lines.append(f"why {d.a} and {d.b} differ: {_REASONS[key]}")
        text = "\n".join(lines) + "\n"
        if not quiet:
            for r in results:
                for w in r.warnings:
                    warn(f"[{r.protocol}] {w}")
    else:
        if protocol not in PROTOCOLS:
            raise fail(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        from attnviz.pipeline.thumos import eval_thumos

        result = eval_thumos(
            gt,
            pred,
            protocol=protocol,
            tiou=thresholds,
            subset=subset,
            classes=classes,
            pred_format=pred_format,
        )
        if not quiet:
            for w in result.warnings:
                warn(w)
        text = format_result(result, fmt, per_class=per_class)
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)
