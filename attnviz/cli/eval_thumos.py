"""``attnviz eval-thumos``: temporal detection mAP on THUMOS14 under a named protocol."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import typer

from attnviz.cli._app import app, fail, warn

_COMPARE_HELP = (
    "Score under several protocols side by side (comma list, e.g. thumos14,activitynet) and "
    "show which detections changed status and why."
)

_WHY = {
    frozenset({"thumos14", "activitynet"}): (
        "thumos14 drops unmatched detections that overlap an Ambiguous segment, lets ground "
        "truths (file order) pick detections with overlap > threshold and averages the precision "
        "at each hit; activitynet counts those detections as false positives, lets detections "
        "(score order) pick ground truths with tIoU >= threshold and interpolates precision over "
        "all recall points"
    ),
    frozenset({"thumos14", "thumos14-2014"}): (
        "same matching (only .mp4 vs .mpeg names differ); the 2014 kit ranks true positives "
        "before false positives on equal scores and uses the 11-point interpolated AP"
    ),
    frozenset({"thumos14-2014", "activitynet"}): (
        "the 2014 kit drops Ambiguous-overlapping misses, lets ground truths pick detections "
        "with overlap > threshold and uses the 11-point AP; activitynet lets detections pick "
        "ground truths with tIoU >= threshold and uses the all-point AP"
    ),
}


def _compare_text(results, diffs) -> str:
    from attnviz.pipeline.thumos import REASONS
    from attnviz.report import format_comparison

    lines = ["Temporal localization mAP (%) under each protocol", format_comparison(results)]
    for d in diffs:
        head = (
            f"{d.a} vs {d.b} at tIoU={d.tiou:g}: mAP {100 * d.map_a:.2f} vs {100 * d.map_b:.2f}; "
            f"{d.changed} detections change status ({d.tp_to_fp} TP->FP, {d.fp_to_tp} FP->TP, "
            f"{d.ignored_to_fp} dropped->FP, {d.fp_to_ignored} FP->dropped, "
            f"{d.tp_to_ignored} TP->dropped, {d.ignored_to_tp} dropped->TP)"
        )
        if d.reasons:
            head += "; because of: " + ", ".join(
                f"{k.replace('_', ' ')} {v}" for k, v in d.reasons.items()
            )
        if d.examples:
            head += f" (e.g. lines {', '.join(map(str, d.examples))})"
        lines.append(head)
    used = sorted({k for d in diffs for k in d.reasons})
    for k in used:
        lines.append(f"  {k.replace('_', ' ')}: {REASONS[k]}")
    seen = set()
    for d in diffs:
        key = frozenset({d.a, d.b})
        if key not in seen and key in _WHY:
            seen.add(key)
            lines.append(f"why {d.a} and {d.b} differ even on the same matches: {_WHY[key]}")
    return "\n".join(lines) + "\n"


def _resolve_gt(gt: str, subset: str | None, classes: Path | None):
    """``--gt`` as a path or a name: (path, subset, class list) to read."""
    from attnviz.io.datasets import resolve_gt

    ref = resolve_gt(gt)
    if ref.dataset is not None and ref.dataset.kind != "temporal":
        raise fail(f"--gt {gt} is {ref.dataset.content}, not THUMOS14-style temporal ground truth")
    if ref.subset is not None and subset is not None and subset != ref.subset:
        raise fail(f"--gt {gt} is the {ref.subset} subset, not {subset!r} (see attnviz datasets)")
    return ref.path, subset or ref.subset or "test", classes or ref.classes


def _compare_rows(results, diffs, fmt: str) -> str:
    """``--compare`` as Markdown (mAP per protocol, then the status changes) or CSV (one row
    per protocol and threshold: mAP in [0, 1] and the changes against the first protocol)."""
    first = results[0].protocol
    by_key = {(d.b, d.tiou): d for d in diffs}
    keys = ("tp_to_fp", "fp_to_tp", "ignored_to_fp", "fp_to_ignored", "tp_to_ignored",
            "ignored_to_tp")  # fmt: skip
    if fmt == "csv":
        rows = ["protocol,tiou,mAP,changed," + ",".join(keys)]
        for r in results:
            for t, m in zip(r.thresholds, r.mAP, strict=True):
                d = by_key.get((r.protocol, float(t)))
                counts = [d.changed] + [getattr(d, k) for k in keys] if d else [""] * 7
                rows.append(f"{r.protocol},{float(t)!r},{float(m)!r}," + ",".join(map(str, counts)))
        return "\n".join(rows) + "\n"
    heads = [f"tIoU={t:g}" for t in results[0].thresholds]
    lines = ["Temporal localization mAP (%) under each protocol", ""]
    lines += ["| protocol | " + " | ".join(heads) + " |", "|---" + "|---:" * len(heads) + "|"]
    lines += [f"| {r.protocol} | " + " | ".join(f"{100 * m:.2f}" for m in r.mAP) + " |"
              for r in results]  # fmt: skip
    names = ("changed", "TP->FP", "FP->TP", "dropped->FP", "FP->dropped", "TP->dropped",
             "dropped->TP")  # fmt: skip
    lines += ["", f"Detections that change status against {first}", ""]
    lines += ["| protocol | tIoU | " + " | ".join(names) + " |",
              "|---|---:" + "|---:" * len(names) + "|"]  # fmt: skip
    for d in diffs:
        cells = [d.changed] + [getattr(d, k) for k in keys]
        lines.append(f"| {d.b} | {d.tiou:g} | " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines) + "\n"


@app.command("eval-thumos")
def eval_thumos_cmd(
    gt: str = typer.Option(
        None,
        "--gt",
        help="GT folder of <Class>_<subset>.txt files, a GT .json or the GT .csv; or a name: "
        "thumos14 (test) or thumos14-val, shipped with attnviz (see attnviz datasets).",
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
        None, "--classes", help="Class list 'id name' (default: the 20 THUMOS14 classes)."
    ),
    subset: str = typer.Option(
        None, "--subset", help="test or val (default: test, or the name's)."
    ),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or markdown."),
    out: Path = typer.Option(None, "--out", help="Write the report here instead of stdout."),
    per_class: bool = typer.Option(False, "--per-class", help="Also the AP of each class."),
    pred_format: str = typer.Option(None, "--pred-format", help="Force run, json or csv."),
    compare: str = typer.Option(None, "--compare", help=_COMPARE_HELP),
    videos: Path = typer.Option(
        None, "--videos", help="Run the model over the videos of this folder instead of --pred."
    ),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="Model for --videos."),
    frames: int = typer.Option(
        None,
        "--frames",
        help="With --videos: frames sampled uniformly per video (default 25, as temporal-map).",
    ),
    fps: float = typer.Option(
        None,
        "--fps",
        help="With --videos: instead, sample at this rate in windows of 25 frames "
        "every 12 (paper, THUMOS14: 10).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No warnings or progress on stderr."),
) -> None:
    """Temporal detection mAP (the paper's Table 6) under a named protocol."""
    from attnviz.evaluate.params import parse_thresholds
    from attnviz.evaluate.thumos import PROTOCOLS
    from attnviz.io.atomic import atomic_write_text
    from attnviz.report import FORMATS, format_result

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if gt is None:
        raise fail("--gt is required")
    gt, subset, classes = _resolve_gt(gt, subset, classes)
    if pred is not None and videos is not None:
        raise fail("give --pred or --videos, not both")
    thresholds = parse_thresholds(tiou)
    names = [p.strip() for p in compare.split(",") if p.strip()] if compare else []
    if compare and ([p for p in names if p not in PROTOCOLS] or len(names) < 2):
        raise fail(f"--compare takes two or more of {', '.join(PROTOCOLS)}, got {compare!r}")
    if not compare and protocol not in PROTOCOLS:
        raise fail(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if fps is not None and frames is not None:
        raise fail("give --frames (uniform sampling) or --fps (windows at a fixed rate), not both")
    run_dir = None
    try:
        if videos is not None:
            from attnviz.pipeline.explain import temporal_run_file  # noqa: PLC0415

            if checkpoint is None and not quiet:
                from attnviz.cli.explain import DEFAULT_MODEL_NOTE

                typer.echo(DEFAULT_MODEL_NOTE, err=True)
            # with --out the run file is kept beside the report: <out>.run.txt
            keep = out.with_name(out.name + ".run.txt") if out is not None else None
            run_dir = Path(tempfile.mkdtemp(prefix="attnviz-run-"))
            pred = temporal_run_file(
                videos, checkpoint=checkpoint, gt=gt, quiet=quiet, out=keep or run_dir / "run.txt",
                frames=25 if frames is None else frames, fps=fps,
            )  # fmt: skip
            if keep is not None and not quiet:
                typer.echo(f"kept the run file {keep}", err=True)
        if pred is None:
            raise fail("--pred (or --videos) is required")
        if compare:
            from attnviz.pipeline.thumos import compare_thumos, load_inputs

            truth, dets = load_inputs(
                gt, pred, subset=subset, classes=classes, pred_format=pred_format
            )
            results, diffs = compare_thumos(truth, dets, names, tiou=thresholds)
            if fmt in ("markdown", "csv"):
                text = _compare_rows(results, diffs, fmt)
            elif fmt == "json":
                text = (
                    json.dumps(
                        {
                            "protocols": [r.to_dict() for r in results],
                            "differences": [d.to_dict() for d in diffs],
                        },
                        indent=2,
                    )
                    + "\n"
                )
            else:
                text = _compare_text(results, diffs)
            if not quiet:
                for r in results:
                    for w in r.warnings:
                        warn(f"[{r.protocol}] {w}")
        else:
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
    finally:
        if run_dir is not None:  # without --out the run file made from --videos is not kept
            shutil.rmtree(run_dir, ignore_errors=True)
    if out is not None:
        atomic_write_text(out, text)
    else:
        typer.echo(text, nl=False)
