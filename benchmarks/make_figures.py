"""Regenerate the README's figures (``assets/figures/``) from a real run on synthetic data.

Steps, each an attnviz function: write a synthetic test set with a seed never used for training
(``attnviz synth``), run the model over every video (25 uniformly sampled frames, the paper's
n = 25) and keep the maps (``maps.npz`` per video), then ``attnviz figures`` with both ground
truths (THUMOS14-style annotations and UCF101-24-style tubes) and ``attnviz report`` for the
tables. The example video of Figs. 4-6 is the first test video, by name, that the model
classifies correctly (say so when showing it); ``--example NAME`` picks another.

Run: ``python benchmarks/make_figures.py [--checkpoint CKPT] [--videos 24] [--seed 9001]``
(default checkpoint: the model shipped in the package). Takes about a minute on 2 CPU cores.
The same figures, without this script::

    attnviz synth --out synth --videos 24 --seed 9001 --splits test=1.0
    attnviz spatial-map --video synth/videos/<name>.mp4 --out maps/<name>    # per video
    attnviz figures --maps maps --videos synth --gt synth/annotations \\
        --classes synth/classes.txt --gt synth/gt_tubes.json --out figures
    attnviz report --eval attention=figures/eval_temporal.json --paper
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# the PNGs copied into assets/figures/, from the names `attnviz figures` writes
ASSETS = {
    "fig4_{video}.png": "fig4_spatiotemporal_attention.png",
    "fig5_{video}.png": "fig5_spatial_localization.png",
    "fig6_{video}.png": "fig6_temporal_localization.png",
    "pr_temporal.png": "pr_temporal.png",
    "pr_frame.png": "pr_frame.png",
    "map_temporal.png": "map_vs_tiou.png",
    "map_spatial.png": "map_vs_iou.png",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the embedded model")
    parser.add_argument("--videos", type=int, default=24)
    parser.add_argument("--seed", type=int, default=9001, help="never a training seed")
    parser.add_argument("--example", default=None, help="video of Figs. 4-6")
    parser.add_argument("--out", default=str(ROOT / "assets" / "figures"))
    parser.add_argument("--work", default=None, help="keep the intermediate files here")
    args = parser.parse_args()

    import torch

    from attnviz.data.synthetic import generate_dataset
    from attnviz.io.maps import save_attention
    from attnviz.pipeline.figures import explain_videos, write_figures, write_report

    torch.set_num_threads(2)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="attnviz-figs-"))
    synth = work / "synth"
    t0 = time.perf_counter()
    summary = generate_dataset(synth, videos=args.videos, seed=args.seed, splits="test=1.0",
                               quiet=True)  # fmt: skip
    print(f"synthetic test set: {summary['videos']} videos, seed {args.seed}, "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    t0 = time.perf_counter()
    maps = explain_videos(synth, checkpoint=args.checkpoint, frames=25)
    for o in maps:
        save_attention(work / "maps" / f"{o.video}.npz", o)
    print(f"explained {len(maps)} videos in {time.perf_counter() - t0:.1f} s")
    meta = json.loads((synth / "synth.json").read_text())
    items = {it["video"]: it["label"] for it in meta["items"]}
    correct = [o.video for o in maps if o.class_names[o.top_class] == items[o.video]]
    print(f"classification accuracy: {len(correct)}/{len(maps)} = "
          f"{100 * len(correct) / len(maps):.1f}%")  # fmt: skip
    example = args.example or (correct[0] if correct else maps[0].video)
    print(f"example video: {example} ({items[example]}; "
          f"{'correctly classified' if example in correct else 'MISCLASSIFIED'})")  # fmt: skip
    t0 = time.perf_counter()
    figs = write_figures(
        work / "maps", work / "figures", gt=[synth / "annotations", synth / "gt_tubes.json"],
        classes=synth / "classes.txt", videos=synth, examples=[example], formats=("png", "pdf"),
    )  # fmt: skip
    print(f"figures in {time.perf_counter() - t0:.1f} s")
    for metric, r in figs["results"].items():
        cells = ", ".join(f"{t:g}: {100 * v:.1f}" for t, v in zip(r.thresholds, r.mAP, strict=True))
        print(f"{metric} mAP (%) [{r.protocol}]  {cells}")
    for note in figs["notes"]:
        print(f"note: {note}")
    rep = write_report(
        [("attention (synthetic)", work / "figures" / f"eval_{m}.json")
         for m in ("temporal", "frame", "video")],
        work / "tables", paper=True,
    )  # fmt: skip
    for text in rep["markdown"].values():
        print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for src, dst in ASSETS.items():
        shutil.copyfile(work / "figures" / src.format(video=example), out / dst)
        print(f"wrote {out / dst}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
