"""How far apart do training runs of one recipe land? Train it with several seeds, score each.

For every seed ``s`` the recipe is trained with ``backbone.seed``, ``model.init_seed`` and
``train.seed`` set to ``s`` (the synthetic training data stay the recipe's), exported as the
shipped model is (float16), and scored on the unseen-seed synthetic test set of
``benchmarks/synthetic_report.py`` with the same rules (``attnviz.localize`` defaults,
THUMOS14 and ACT evaluators). The report gives every seed's row, the mean and the standard
deviation, and checks the recipe's promises:

* top-1 >= ``--min-top1`` (97 %) and temporal mAP at tIoU 0.3 >= ``--min-temporal`` (85 %) on
  every seed;
* frame-mAP at IoU 0.3 on the sampled frames within ``--max-gap`` (5 points) of the mean for
  every seed.

Runs already trained under ``--work`` (``seed<S>/model.pt``) are reused, so the script can be
stopped and rerun; ``--train-only`` / ``--score-only`` split the two parts.

Usage (from the repository root; about 8 minutes per seed on 2 CPU cores)::

    python benchmarks/recipe_spread.py --recipe recipes/default_model.json --seeds 0 1 2 3 4 \\
        --out benchmarks/results/recipe_spread.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_report import IOU, TIOU, TestSet, emit, score_checkpoint  # noqa: E402

COLUMNS = (
    ("Top-1", lambda r: r["top1"]),
    ("temporal mAP@0.3", lambda r: r["temporal"][TIOU.index(0.3)]),
    ("temporal mAP@0.5", lambda r: r["temporal"][TIOU.index(0.5)]),
    ("frame-mAP@0.3 (sampled)", lambda r: r["frame_sampled"][IOU.index(0.3)]),
    ("frame-mAP@0.5 (sampled)", lambda r: r["frame_sampled"][IOU.index(0.5)]),
    ("frame-mAP@0.3 (all frames)", lambda r: r["frame"][IOU.index(0.3)]),
    ("video-mAP@0.3", lambda r: r["video"][IOU.index(0.3)]),
    ("video-mAP@0.5", lambda r: r["video"][IOU.index(0.5)]),
)


def seed_recipe(recipe: dict, seed: int, work: Path) -> dict:
    """The recipe with every training seed set to ``seed``, its run, cache and export under
    ``work/seed<seed>``."""
    from attnviz.pipeline.train import merge_recipe

    r = merge_recipe(
        recipe,
        {"backbone": {"seed": seed}, "model": {"init_seed": seed}, "train": {"seed": seed}},
    )
    run = work / f"seed{seed}"
    r["out"] = str(run / "run")
    if r.get("features"):
        r["features"] = {**r["features"], "cache": str(run / "cache")}
    half = bool((recipe.get("export") or {}).get("half", False))
    r["export"] = {"path": str(run / "model.pt"), "half": half}
    return r


def train_seed(recipe: dict, seed: int, work: Path, quiet: bool) -> float | None:
    """Train one seed unless its model exists; the seconds it took (``None``: reused)."""
    from attnviz.pipeline.train import run_recipe

    r = seed_recipe(recipe, seed, work)
    if Path(r["export"]["path"]).is_file():
        return None
    t0 = time.perf_counter()
    run_recipe(r, quiet=quiet)
    dt = time.perf_counter() - t0
    (work / f"seed{seed}" / "train_seconds.txt").write_text(f"{dt:.1f}\n", encoding="utf-8")
    return dt


def _fmt(v: float) -> str:
    return f"{100 * v:.1f}"


def spread_table(rows: dict[str, dict]) -> tuple[str, dict[str, tuple[float, float]]]:
    """Markdown table of every run's row plus mean and standard deviation (ddof 1)."""
    head = ["Run", *[c for c, _ in COLUMNS]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    vals = {c: np.array([f(r) for r in rows.values()], dtype=np.float64) for c, f in COLUMNS}
    for i, name in enumerate(rows):
        lines.append("| " + " | ".join([name, *[_fmt(vals[c][i]) for c, _ in COLUMNS]]) + " |")
    stats = {
        c: (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0) for c, v in vals.items()
    }
    lines.append(
        "| mean ± std | " + " | ".join(f"{_fmt(m)} ± {_fmt(s)}" for m, s in stats.values()) + " |"
    )
    return "\n".join(lines) + "\n", stats


def check(rows: dict[str, dict], min_top1: float, min_temporal: float, max_gap: float) -> list[str]:
    """The recipe's promises that some run breaks (empty: all kept)."""
    fails = []
    fs = {n: r["frame_sampled"][IOU.index(0.3)] for n, r in rows.items()}
    mean_fs = float(np.mean(list(fs.values())))
    for n, r in rows.items():
        t = r["temporal"][TIOU.index(0.3)]
        if r["top1"] < min_top1:
            fails.append(f"{n}: top-1 {_fmt(r['top1'])} < {_fmt(min_top1)}")
        if t < min_temporal:
            fails.append(f"{n}: temporal mAP@0.3 {_fmt(t)} < {_fmt(min_temporal)}")
        if abs(fs[n] - mean_fs) > max_gap:
            fails.append(
                f"{n}: frame-mAP@0.3 (sampled) {_fmt(fs[n])} is {100 * abs(fs[n] - mean_fs):.1f} "
                f"points from the mean {_fmt(mean_fs)}"
            )
    return fails


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default=str(ROOT / "recipes" / "default_model.json"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--work", default=None, help="default: <recipe out>/../spread")
    ap.add_argument("--test-seed", type=int, default=1000)
    ap.add_argument("--test-videos", type=int, default=160)
    ap.add_argument("--min-top1", type=float, default=0.97)
    ap.add_argument("--min-temporal", type=float, default=0.85)
    ap.add_argument("--max-gap", type=float, default=0.05)
    ap.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="LocalizeParams.threshold, for masks and importance (default: each model's own, "
        "else the paper's 0.5)",
    )
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--score-only", action="store_true")
    ap.add_argument("--out", default=None, help="write the Markdown report here")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    from attnviz.localize import LocalizeParams
    from attnviz.pipeline.train import load_recipe

    recipe = load_recipe(args.recipe)
    if args.test_seed == int((recipe.get("synthetic") or {}).get("seed", -1)):
        print(f"error: --test-seed {args.test_seed} is the training seed", file=sys.stderr)
        return 2
    work = Path(args.work or Path(recipe["out"]).parent / "spread")
    work.mkdir(parents=True, exist_ok=True)
    times: dict[int, float | None] = {}
    if not args.score_only:
        for s in args.seeds:
            times[s] = train_seed(recipe, s, work, args.quiet)
            if times[s] is not None:
                print(f"seed {s}: trained in {times[s]:.0f} s", file=sys.stderr)
    if args.train_only:
        return 0
    ts = TestSet(work, args.test_seed, args.test_videos, quiet=args.quiet)
    params = LocalizeParams()
    rule = "`attnviz.localize` defaults: each model's own threshold (its recipe's `localize`)"
    if args.threshold is not None:
        params = LocalizeParams(threshold=args.threshold)
        rule = (
            f"`attnviz.localize` defaults but threshold {args.threshold:g} for masks and importance"
        )
    rows: dict[str, dict] = {}
    for s in args.seeds:
        model = work / f"seed{s}" / "model.pt"
        if not model.is_file():
            print(f"error: {model} is missing: train seed {s} first", file=sys.stderr)
            return 2
        rows[f"seed {s}"], *_ = score_checkpoint(model, ts, params, args.quiet)
    table, stats = spread_table(rows)
    fails = check(rows, args.min_top1, args.min_temporal, args.max_gap)
    secs = []
    for s in args.seeds:
        f = work / f"seed{s}" / "train_seconds.txt"
        if f.is_file():
            secs.append(float(f.read_text(encoding="utf-8")))
    md = [
        "# Spread of a training recipe over seeds",
        "",
        f"Recipe: `{Path(args.recipe).name}`; seeds {', '.join(map(str, args.seeds))} "
        "(backbone fine-tuning, initialisation and training order; the synthetic training data "
        f"are the recipe's). Test set: {len(ts.videos)} synthetic videos of seed {args.test_seed}"
        f", scored as in `benchmarks/synthetic_report.py` ({rule}).",
        "",
        table,
        (f"Training time per seed: {min(secs) / 60:.1f}-{max(secs) / 60:.1f} min." if secs else ""),
        "",
        f"**Check** (every seed: top-1 >= {_fmt(args.min_top1)}, temporal mAP@0.3 >= "
        f"{_fmt(args.min_temporal)}, frame-mAP@0.3 on the sampled frames within "
        f"{100 * args.max_gap:.0f} points of the mean): **{'PASS' if not fails else 'FAIL'}**",
        "",
        *[f"- {f}" for f in fails],
        "",
    ]
    text = "\n".join(md)
    emit(
        text,
        args.out,
        work / "recipe_spread.json",
        {
            "rows": {
                n: {k: np.asarray(v).tolist() for k, v in r.items() if k != "counts"}
                for n, r in rows.items()
            },
            "mean_std": stats,
            "rule": rule,
            "test_seed": args.test_seed,
        },
    )
    return 0 if not fails else 1


if __name__ == "__main__":
    sys.exit(main())
