"""``attnviz figures`` (the paper's figures as PNG and PDF) and ``attnviz report`` (its tables)."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, fail, info, localize_params, warn


def _resolve_gts(gts: list[str], subset: str | None, classes: Path | None):
    """``--gt`` paths or names: (paths, subset, class list) to read."""
    from attnviz.io.datasets import resolve_gt

    refs = [resolve_gt(g) for g in gts]
    for r in refs:
        if r.subset is not None and subset is not None and subset != r.subset:
            raise fail(f"--gt {r.name} is the {r.subset} subset, not {subset!r}")
        if r.subset is not None:
            subset, classes = r.subset, classes or r.classes
    return [r.path for r in refs], subset or "test", classes


@app.command("figures")
def figures_cmd(
    maps: list[Path] = typer.Option(
        ..., "--maps", help="maps.npz of a video, or a folder of them (repeatable)."
    ),
    out: Path = typer.Option(Path("figures"), "--out", help="Output folder."),
    gt: list[str] = typer.Option(
        [],
        "--gt",
        help="Ground truth (repeatable): a THUMOS14-style folder/.csv/.json (temporal) and/or a "
        "UCF101-24-style .pkl/.json/.mat (spatial), or a name of attnviz datasets.",
    ),
    classes: Path = typer.Option(
        None,
        "--classes",
        help="Class list 'id name' of a temporal ground truth (default THUMOS14).",
    ),
    subset: str = typer.Option(
        None, "--subset", help="Subset of a temporal ground truth (default: test, or the name's)."
    ),
    video: Path = typer.Option(None, "--video", help="The video of a single maps file."),
    videos: Path = typer.Option(
        None, "--videos", help="Folder with <video>.<ext> for each maps file (frames of Figs. 4-6)."
    ),
    examples: int = typer.Option(
        3, "--examples", help="Videos that get Figs. 4-6 (first by name)."
    ),
    example: list[str] = typer.Option(
        [], "--example", help="Draw Figs. 4-6 for this video instead (repeatable)."
    ),
    frames: int = typer.Option(8, "--frames", help="Frames shown per figure row."),
    pr_threshold: float = typer.Option(
        None,
        "--pr-threshold",
        help="Threshold of the PR curves (default 0.3 temporal, 0.1 spatial).",
    ),
    fmt: str = typer.Option("png,pdf", "--format", help="Comma list of png, pdf, svg."),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Localization threshold (default: the one stored with the maps by their model, "
        "else the paper's 0.5).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No notes on stderr."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the outputs of an earlier run in --out."
    ),
) -> None:
    """The paper's Figs. 4-6 for example videos, and with --gt the PR curves and mAP-vs-threshold
    over all maps, as PNG and PDF (plus eval_<metric>.json for `attnviz report`)."""
    from attnviz.io.outdir import output_folder
    from attnviz.pipeline.figures import write_figures

    if frames < 1:
        raise fail(f"--frames must be >= 1, got {frames}")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise fail(f"--threshold must be in [0, 1], got {threshold}")
    if video is not None and videos is not None:
        raise fail("give --video (one maps file) or --videos (a folder), not both")
    formats = [f.strip().lower() for f in fmt.split(",") if f.strip()]
    gt, subset, classes = _resolve_gts(gt, subset, classes)
    source = ",".join(str(Path(m).resolve()) for m in maps)
    with output_folder(out, command="figures", source=source, overwrite=overwrite):
        summary = write_figures(
            maps, out, gt=gt, classes=classes, subset=subset, video=video, videos=videos,
            examples=list(example) if example else examples, num=frames,
            pr_threshold=pr_threshold, formats=formats,
            params=localize_params(threshold=threshold),
        )  # fmt: skip
    if not quiet:
        for note in summary["notes"]:
            warn(note)
    for metric, r in summary["results"].items():
        cells = ", ".join(f"{t:g}: {100 * v:.1f}" for t, v in zip(r.thresholds, r.mAP, strict=True))
        typer.echo(f"{metric} mAP (%) [{r.protocol}]  {cells}")
    info(f"wrote {len(summary['files'])} files to {summary['out']}", quiet)


@app.command("report")
def report_cmd(
    eval_: list[str] = typer.Option(
        ...,
        "--eval",
        help="Evaluation JSON (eval-thumos / eval-ucf24 --format json, or eval_<metric>.json of "
        "`attnviz figures`), optionally named NAME=PATH; repeatable, one table row each.",
    ),
    out: Path = typer.Option(
        None, "--out", help="Write tables (.md, .tex, .csv) and per-class layouts here."
    ),
    fmt: str = typer.Option(
        "markdown", "--format", help="What to print: markdown, latex or none (with --out)."
    ),
    paper: bool = typer.Option(False, "--paper", help="Add the paper's published rows."),
    decimals: int = typer.Option(1, "--decimals", help="Decimals of the percentages."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the outputs of an earlier run in --out."
    ),
) -> None:
    """The paper's Table 5 (spatial) / Table 6 (temporal) from evaluation results."""
    from attnviz.io.outdir import output_folder
    from attnviz.pipeline.figures import write_report

    if fmt not in ("markdown", "latex", "none"):
        raise fail(f"--format must be markdown, latex or none, got {fmt!r}")
    if not 0 <= decimals <= 6:
        raise fail(f"--decimals must be in 0..6, got {decimals}")
    pairs: list[tuple[str, str] | str] = []
    for item in eval_:
        name, sep, path = item.partition("=")
        if not sep:  # the row is named by the library's rule (file stem, or the run folder)
            pairs.append(item)
            continue
        if not name or not path:
            raise fail(f"--eval takes PATH or NAME=PATH, got {item!r}")
        pairs.append((name, path))
    source = ",".join(str(Path(p if isinstance(p, str) else p[1]).resolve()) for p in pairs)
    with output_folder(out, command="report", source=source, overwrite=overwrite):
        summary = write_report(pairs, out, paper=paper, decimals=decimals)
    if fmt != "none":
        texts = summary["markdown"] if fmt == "markdown" else summary["latex"]
        typer.echo("\n".join(texts.values()), nl=False)
    if out is not None:
        info(f"wrote {len(summary['files'])} files to {out}")
