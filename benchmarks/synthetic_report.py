"""Does attention trained with class labels alone find where and when the action is?

On a synthetic test set generated with a seed never used in training (``attnviz synth``), this
script scores the embedded default model (or ``--model``) and the Table 2 ablations:

* classification: top-1 / top-5 accuracy;
* temporal localization: THUMOS14 mAP (the 2015 kit's rules) at tIoU 0.1-0.5 of the segments that
  ``attnviz temporal-map`` would write;
* spatial localization: UCF101-24 frame-mAP and video-mAP (ACT's rules) at IoU 0.05-0.5 of the
  boxes and tubes that ``attnviz spatial-map`` would write;

with attnviz's own readers, localization rules (``attnviz.localize``, paper defaults) and
evaluators, and, in the same run, baselines that know nothing of the attention:

* *uniform temporal weights*: one segment over the whole video (class and score of the model);
* *full-frame box*: the model's detections (same frames, classes, scores; the tubes over the same
  segments) with the box replaced by the whole frame;
* *centred box*: the same with a box of the average ground-truth size of the TRAINING videos,
  centred in the frame.

The learned attention must beat every baseline by at least ``--margin`` (absolute mAP) at
tIoU 0.3 (temporal) and IoU 0.3 (frame-mAP and video-mAP); the script exits 1 if it does not.

Ablations (Table 2): the recipe of the default model with spatial attention off, temporal
attention off, and each regulariser's weight set to 0, trained here (they reuse the default
model's fine-tuned backbone and feature cache, so only the attention model is retrained), or
read from ``--ablations DIR`` (``<DIR>/<name>.pt``), or skipped (``--ablations skip``).

The model is run on cached features of the test videos (the backbone once, then each head);
the report checks on a few videos that this gives the same maps as ``explain_video`` on the
video files.

Usage (from the repository root)::

    python benchmarks/synthetic_report.py --out benchmarks/results/synthetic_report.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TIOU = (0.1, 0.2, 0.3, 0.4, 0.5)
IOU = (0.05, 0.1, 0.2, 0.3, 0.5)
ABLATIONS = {
    "w/o spatial attention": {"model": {"spatial_attention": False}},
    "w/o temporal attention": {"model": {"temporal_attention": False}},
    "w/o L_TV": {"train": {"lambda_tv": 0.0}},
    "w/o L_contrast": {"train": {"lambda_contrast": 0.0}},
    "w/o L_unimodal": {"train": {"lambda_unimodal": 0.0}},
}


def _slug(name: str) -> str:
    return name.replace("w/o ", "no_").replace(" ", "_").lower()


def _train_ablations(recipe: dict, work: Path, quiet: bool) -> dict[str, Path]:
    from attnviz.pipeline.train import merge_recipe, run_recipe

    out: dict[str, Path] = {}
    main_out = Path(recipe["out"])
    for name, change in ABLATIONS.items():
        slug = _slug(name)
        run = work / "ablations" / slug
        export = work / "ablations" / f"{slug}.pt"
        if export.is_file():
            out[name] = export
            continue
        run.mkdir(parents=True, exist_ok=True)
        for f in ("backbone.pt", "backbone.json"):  # the same fine-tuned backbone
            if (main_out / f).is_file() and not (run / f).is_file():
                shutil.copy2(main_out / f, run / f)
        variant = merge_recipe(recipe, change)
        # one head, the recipe's first candidate: the selection score reads the masks that some
        # ablations remove, so every row is the same draw of the head's initialisation
        variant.pop("select", None)
        variant["out"] = str(run)
        variant["export"] = {"path": str(export), "half": False}
        t0 = time.perf_counter()
        run_recipe(variant, quiet=quiet)
        print(f"trained {name} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        out[name] = export
    return out


def _outputs(model, cache: Path, videos, frames_size, batch: int = 16):
    """AttentionOutput of every test video from cached features, built as explain_video does."""
    import torch

    from attnviz.io.features import feature_path, read_features
    from attnviz.localize import frame_importance
    from attnviz.types import AttentionOutput

    outs, durations = [], []
    items = list(videos.items)
    for s in range(0, len(items), batch):
        chunk = [read_features(feature_path(cache, it.key)) for it in items[s : s + batch]]
        x = torch.from_numpy(np.stack([c.features for c in chunk]).astype(np.float32))
        with torch.inference_mode():
            out = model(x)
        probs = torch.softmax(out.logits.float(), dim=1).numpy()
        for j, c in enumerate(chunk):
            temporal = out.temporal[j].float().numpy()
            outs.append(
                AttentionOutput(
                    frame_indices=c.frame_indices.astype(np.int64),
                    timestamps=(c.frame_indices - 1) / c.fps,
                    frame_size=c.frame_size,
                    mask=out.mask[j].float().numpy().astype(np.float32),
                    temporal=temporal.astype(np.float32),
                    frame_importance=frame_importance(temporal).astype(np.float32),
                    scores=probs[j].astype(np.float32),
                    class_names=tuple(model.class_names),
                    video=items[s + j].key,
                    fps=c.fps,
                    grid_offset=model.grid_offset,
                    threshold=getattr(model, "localize_threshold", None),
                )
            )
            durations.append(c.num_frames / c.fps)
    return outs, durations


def _localize(outs, params):
    from attnviz.localize import boxes_from_attention, segments_from_attention, tubes_from_attention

    segs, boxes, tubes = [], [], []
    for o in outs:
        segs += segments_from_attention(o, params)
        boxes += boxes_from_attention(o, params)
        tubes += tubes_from_attention(o, params)
    return segs, boxes, tubes


def _score(tgt, sgt, segs, boxes, tubes, sampled=None, frames=None):
    """mAPs; the sampled-frames table scores only the boxes on the sampled ``frames`` (a box
    interpolated in between would be a false positive on a frame whose ground truth is left
    out)."""
    from attnviz.evaluate.thumos import evaluate_thumos
    from attnviz.evaluate.ucf24 import frame_map, video_map
    from attnviz.types import FrameDetections, TemporalDetections

    td = TemporalDetections.from_segments(segs)
    fd = FrameDetections.from_boxes(boxes)
    return {
        "temporal": evaluate_thumos(tgt, td, protocol="thumos14", tiou=TIOU).mAP,
        "frame": frame_map(sgt, fd, protocol="act", iou=IOU).mAP,
        "frame_sampled": frame_map(
            sampled or sgt,
            fd
            if frames is None
            else FrameDetections.from_boxes([b for b in boxes if b.frame in frames[b.video]]),
            protocol="act",
            iou=IOU,
        ).mAP,
        "video": video_map(sgt, tubes, protocol="act", iou=IOU).mAP,
    }


def _with_box(boxes, tubes, box_of):
    from dataclasses import replace

    from attnviz.types import Tube

    nb = [
        replace(b, **dict(zip(("x1", "y1", "x2", "y2"), box_of(b.video), strict=True)))
        for b in boxes
    ]
    nt = []
    for t in tubes:
        arr = np.array(t.boxes, dtype=np.float64, copy=True)
        arr[:, 1:] = box_of(t.video)
        nt.append(Tube(t.video, t.label, t.score, arr))
    return nb, nt


class TestSet:
    """The unseen-seed synthetic test set and its ground truth (generated once under ``work``)."""

    def __init__(self, work: Path, seed: int, videos: int, quiet: bool = True) -> None:
        from attnviz.data.synthetic import generate_dataset
        from attnviz.io.spatial_gt import read_spatial_gt
        from attnviz.io.splits import read_csv_list
        from attnviz.io.thumos import read_thumos_gt

        self.work, self.seed = Path(work), int(seed)
        self.dir = self.work / f"test_seed{seed}"
        generate_dataset(self.dir, videos=videos, seed=seed, splits="test=1", quiet=quiet)
        self.videos = read_csv_list(self.dir / "test.csv", root=self.dir / "videos")
        self.tgt = read_thumos_gt(
            self.dir / "annotations", subset="test", classes=self.dir / "classes.txt"
        )
        self.sgt = read_spatial_gt(self.dir / "gt_tubes.json")
        self.sampled = None  # ground truth of the sampled frames (the same for every model)
        self.frames_seen: dict[str, set[int]] = {}


def score_checkpoint(path: Path, ts: TestSet, params, quiet: bool = True):
    """Run the checkpoint at ``path`` on the test set (backbone features cached under
    ``ts.work``) and score it: ``(results, outputs, durations, model, frames)``; ``results``
    holds ``top1``, ``top5``, ``temporal`` (tIoU 0.1-0.5), ``frame`` (every annotated frame),
    ``frame_sampled``, ``video`` (IoU 0.05-0.5) and ``counts``."""
    from attnviz.evaluate.classify import classify_accuracy
    from attnviz.io.features import state_checksum
    from attnviz.models import load_checkpoint
    from attnviz.pipeline.features import extract_features
    from attnviz.pipeline.scoring import sampled_gt

    model, info = load_checkpoint(path)
    frames = int((info["extra"].get("meta") or {}).get("frames", 25))
    checksum = state_checksum(model.backbone.state_dict())[:16]
    cache = ts.work / "test_features" / f"{checksum}_{model.input_size}px"
    desc = {
        "backbone": info["config"]["backbone"],
        "stage": info["config"]["backbone_stage"],
        "input_size": model.input_size,
    }
    extract_features(
        ts.videos,
        cache,
        trunk=model.backbone,
        desc=desc,
        frames=frames,
        dtype="float32",
        quiet=quiet,
        rank=0,
        world_size=1,
    )
    outs, durations = _outputs(model, cache, ts.videos, None)
    scores = np.stack([o.scores for o in outs])
    acc = classify_accuracy(scores, np.asarray(ts.videos.labels), (1, 5))
    segs, boxes, tubes = _localize(outs, params)
    if ts.sampled is None:  # every model samples the same frames
        ts.sampled = sampled_gt(ts.sgt, {o.video: o.frame_indices for o in outs})
        ts.frames_seen = {o.video: set(int(f) for f in o.frame_indices) for o in outs}
    res = _score(ts.tgt, ts.sgt, segs, boxes, tubes, ts.sampled, ts.frames_seen)
    res["top1"], res["top5"] = acc.accuracy
    res["counts"] = (len(segs), len(boxes), len(tubes))
    return res, outs, durations, model, frames


def _spread_section(path: Path) -> list[str]:
    """The recipe's spread over training seeds (the ``recipe_spread.json`` that
    ``benchmarks/recipe_spread.py`` writes) as a Markdown section: one draw is not the recipe."""
    from recipe_spread import spread_table

    data = json.loads(path.read_text(encoding="utf-8"))
    table, _ = spread_table(data["rows"])
    return [
        f"**The same recipe over {len(data['rows'])} training seeds** (mean ± standard deviation, "
        f"%; `benchmarks/recipe_spread.py`, {data.get('rule', 'the same scoring')}, test seed "
        f"{data.get('test_seed', '?')}):",
        "",
        table,
    ]


def emit(text: str, out, json_path: Path, payload) -> None:
    """Print the Markdown ``text``, write it to ``out`` (when given) and ``payload`` as JSON to
    ``json_path``, each atomically."""
    from attnviz.io.atomic import atomic_write_text

    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(out), text)
    atomic_write_text(json_path, json.dumps(payload, indent=1))


def _pct(v) -> str:
    return f"{100 * float(v):.1f}"


def _table(title: str, head: list[str], rows: list[tuple[str, list[str]]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([name, *vals]) + " |" for name, vals in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default=str(ROOT / "recipes" / "default_model.json"))
    ap.add_argument("--model", default=None, help="checkpoint (default: the embedded model)")
    ap.add_argument("--work", default=None, help="working folder (default: the recipe's)")
    ap.add_argument("--test-seed", type=int, default=1000)
    ap.add_argument("--test-videos", type=int, default=160)
    ap.add_argument("--ablations", default="train", help="train, skip, or a folder of <name>.pt")
    ap.add_argument("--margin", type=float, default=0.10)
    ap.add_argument("--mask-norm", default="none", help="localization rule (paper: none)")
    ap.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="masks and importance (default: each model's own, else the paper's 0.5)",
    )
    ap.add_argument(
        "--spread",
        default=None,
        help="a recipe_spread.json of benchmarks/recipe_spread.py: its per-seed table is added",
    )
    ap.add_argument("--check-videos", type=int, default=3, help="explain_video consistency check")
    ap.add_argument("--out", default=None, help="write the Markdown report here")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    import torch

    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.localize import LocalizeParams
    from attnviz.pipeline.explain import default_checkpoint, explain_video
    from attnviz.pipeline.train import load_recipe

    t_start = time.perf_counter()
    recipe = load_recipe(args.recipe)
    train_seed = int(recipe["synthetic"]["seed"])
    if args.test_seed == train_seed:
        print(f"error: --test-seed {args.test_seed} is the training seed", file=sys.stderr)
        return 2
    work = Path(args.work or Path(recipe["out"]).parent)
    ts = TestSet(work, args.test_seed, args.test_videos, quiet=args.quiet)
    model_path = Path(args.model) if args.model else default_checkpoint()
    models = {"Ours (learned attention)": model_path}
    if args.ablations == "train":
        models.update(_train_ablations(recipe, work, args.quiet))
    elif args.ablations != "skip":
        models.update({n: Path(args.ablations) / f"{_slug(n)}.pt" for n in ABLATIONS})

    test, tgt, sgt = ts.videos, ts.tgt, ts.sgt
    train_gt = read_spatial_gt(Path(recipe["synthetic"]["out"]) / "gt_tubes.json")
    wh = np.concatenate(
        [
            np.asarray(t.boxes)[:, 3:5] - np.asarray(t.boxes)[:, 1:3]
            for v in train_gt.train_videos
            for t in train_gt.videos[v].tubes
        ]
    )
    mean_w, mean_h = wh.mean(axis=0)
    params = LocalizeParams(mask_norm=args.mask_norm, threshold=args.threshold)

    results: dict[str, dict] = {}
    baseline_rows: dict[str, dict] = {}
    check_note = ""
    for name, path in models.items():
        res, outs, durations, model, frames = score_checkpoint(path, ts, params, args.quiet)
        results[name] = res
        sampled, frames_seen = ts.sampled, ts.frames_seen
        if path == model_path:
            # baselines from this model's outputs
            from attnviz.types import Segment

            _, boxes, tubes = _localize(outs, params)
            uni = [
                Segment(o.video, 0.0, d, o.top_class, float(o.scores[o.top_class]))
                for o, d in zip(outs, durations, strict=True)
            ]
            baseline_rows["Uniform temporal weights (whole video)"] = {
                "temporal": _score(tgt, sgt, uni, [], [])["temporal"]
            }
            size = {o.video: o.frame_size for o in outs}

            def full(video, size=size):
                h, w = size[video]
                return (0.0, 0.0, float(w), float(h))

            def centred(video, size=size):
                h, w = size[video]
                return ((w - mean_w) / 2, (h - mean_h) / 2, (w + mean_w) / 2, (h + mean_h) / 2)

            for bname, fn in (
                ("Full-frame box", full),
                (f"Centred box of average GT size ({mean_w:.0f}x{mean_h:.0f})", centred),
            ):
                nb, nt = _with_box(boxes, tubes, fn)
                r = _score(tgt, sgt, [], nb, nt, sampled, frames_seen)
                baseline_rows[bname] = {k: r[k] for k in ("frame", "frame_sampled", "video")}
            # the cached-feature path equals explain_video on the files
            diffs = []
            for o, it in list(zip(outs, test.items, strict=True))[: args.check_videos]:
                direct = explain_video(it.path, model=model, frames=frames, quiet=True)
                diffs.append(
                    max(
                        float(np.abs(direct.mask - o.mask).max()),
                        float(np.abs(direct.frame_importance - o.frame_importance).max()),
                        float(np.abs(direct.scores - o.scores).max()),
                    )
                )
                assert np.array_equal(direct.frame_indices, o.frame_indices)
            check_note = (
                f"On {len(diffs)} test videos, `explain_video` on the video files gives the same "
                f"masks, frame importances and class probabilities as the cached-feature path "
                f"(largest absolute difference {max(diffs):.1e})."
            )
        del model
        torch.set_num_threads(torch.get_num_threads())

    ours = results["Ours (learned attention)"]
    i_t, i_s = TIOU.index(0.3), IOU.index(0.3)
    checks = []
    for bname, b in baseline_rows.items():
        for metric, idx in (("temporal", i_t), ("frame", i_s), ("video", i_s)):
            if metric in b:
                gap = float(ours[metric][idx] - b[metric][idx])
                checks.append((bname, metric, float(ours[metric][idx]), float(b[metric][idx]), gap))
    passed = all(g >= args.margin for *_, g in checks)

    md = ["# Synthetic localization report", ""]
    from attnviz.models import load_checkpoint

    own = load_checkpoint(model_path)[0].localize_threshold
    thr_text = (
        f"{args.threshold:g} (`--threshold`)"
        if args.threshold is not None
        else f"{own:g} (the model's own, from its recipe's `localize` section)"
        if own is not None
        else "0.5 (the paper's)"
    )
    md.append(
        f"Test set: {len(test)} synthetic videos, seed {args.test_seed} (training seed "
        f"{train_seed}), {len(tgt)} action instances, {len(test.class_names)} classes. Model: "
        f"`{model_path.relative_to(ROOT) if model_path.is_relative_to(ROOT) else model_path}`. "
        f"Localization: `attnviz.localize` with threshold {thr_text}, mask normalisation "
        f"`{params.mask_norm}`, frame importance `{params.importance}` over steps, "
        f"`{params.importance_norm}`-normalised. Evaluators: `thumos14` (temporal), `act` "
        f"(frame-mAP, video-mAP). Run time {time.perf_counter() - t_start:.0f} s."
    )
    md.append("")
    if args.ablations != "skip":
        md.append(
            "Ablations: the default model's recipe with one switch changed, the attention model "
            "retrained on the same fine-tuned backbone and feature cache, one head each (the "
            "recipe's first candidate, without its selection among heads, whose score reads "
            "the masks that some ablations remove) ("
            + (
                "trained in this run"
                if args.ablations == "train"
                else "trained earlier by this script with `--ablations train`, read from its folder"
            )
            + ")."
        )
        md.append("")
    md.append(
        _table(
            "Classification (Table 2 layout)",
            ["Model", "Top-1 (%)", "Top-5 (%)"],
            [(n, [_pct(r["top1"]), _pct(r["top5"])]) for n, r in results.items()],
        )
    )
    rows = [(n, [_pct(v) for v in r["temporal"]]) for n, r in results.items()]
    rows += [
        (n, [_pct(v) for v in b["temporal"]]) for n, b in baseline_rows.items() if "temporal" in b
    ]
    md.append(
        _table(
            "Temporal localization mAP (%), THUMOS14 protocol (Table 6 layout)",
            ["Method"] + [f"tIoU {t}" for t in TIOU],
            rows,
        )
    )
    for metric, title in (
        ("frame", "Spatial frame-mAP (%), ACT protocol (Table 5 layout), every annotated frame"),
        (
            "frame_sampled",
            "Spatial frame-mAP (%), ACT protocol, the 25 sampled frames only (the frames the "
            "model saw; the boxes interpolated between them are left out)",
        ),
        ("video", "Spatio-temporal video-mAP (%), ACT protocol"),
    ):
        rows = [(n, [_pct(v) for v in r[metric]]) for n, r in results.items()]
        rows += [(n, [_pct(v) for v in b[metric]]) for n, b in baseline_rows.items() if metric in b]
        md.append(_table(title, ["Method"] + [f"IoU {t}" for t in IOU], rows))
    md.append(
        f"**Check** (learned attention minus baseline at tIoU/IoU 0.3, required >= "
        f"{100 * args.margin:.0f} points): **{'PASS' if passed else 'FAIL'}**"
    )
    md.append("")
    for bname, metric, a, b, gap in checks:
        md.append(f"- {metric}: {_pct(a)} vs {bname} {_pct(b)} ({100 * gap:+.1f} points)")
    md.append("")
    md.append(check_note)
    md.append("")
    if args.spread:
        md += _spread_section(Path(args.spread))
    text = "\n".join(md)
    emit(
        text,
        args.out,
        work / "synthetic_report.json",
        {
            n: {
                k: (np.asarray(v).tolist() if not isinstance(v, tuple) else list(v))
                for k, v in r.items()
            }
            for n, r in {**results, **baseline_rows}.items()
        },
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
