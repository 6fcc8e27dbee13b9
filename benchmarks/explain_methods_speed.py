"""Time per clip of each explanation method against one forward pass of the model, measured in
the same run.

Reference: the model's forward pass on one clip of ``--frames`` preprocessed frames (backbone
and attention head, no gradients). Each method is timed as ``compare-explanations`` runs it:
``prepare`` (the backbone's features of the clip and of its blurred baseline, shared by every
post-hoc method) plus the method itself on those features; the table gives the method alone and
with the shared preparation. Median of ``--repeats`` runs after one warm-up, methods run in turn
within each repeat so that the machine's load affects all of them alike.

The model is ``--checkpoint``, else the model shipped with attnviz, else a random-init resnet18
recognizer with the paper's head sizes at ``--size`` (speed does not depend on the weights).

Targets (issue 18): occlusion at most 30x one forward pass, integrated gradients at most 5x at
32 steps (the method alone). ``--clock cpu`` times with the process's CPU time instead of wall
time: with one thread it is the work done, steadier on a machine that others load.

Run: ``python benchmarks/explain_methods_speed.py [--checkpoint CKPT] [--frames 25]
[--repeats 5] [--threads 1] [--clock wall|cpu]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _model(checkpoint: str | None, size: int):
    from attnviz.models import build_recognizer, load_checkpoint

    if checkpoint is not None:
        return load_checkpoint(checkpoint)[0].eval(), Path(checkpoint).name
    try:
        from attnviz.pipeline.explain import default_checkpoint

        path = default_checkpoint()
        return load_checkpoint(path)[0].eval(), "the shipped default model"
    except Exception:  # noqa: BLE001 - no default model in this install: a stand-in
        m = build_recognizer("resnet18", 10, weights=None, random_init=True, input_size=size)
        return m.eval(), f"random-init resnet18 recognizer, paper head sizes, {size}x{size}"


def _captum_methods(model, args) -> dict:
    """captum's occlusion and integrated gradients called as attnviz 0.1 called them."""
    import torch
    from captum.attr import IntegratedGradients, Occlusion

    def occlusion(clip):
        n, c, h, w = clip.features.shape
        occ = Occlusion(lambda v: torch.softmax(model.head(v).logits.float(), dim=1))
        x, base = clip.features[None], clip.baseline[None]
        ks = min(args.spatial_window, n)
        with torch.no_grad():
            for window, stride in (((1, c, h, w), (1, c, h, w)), ((ks, c, 1, 1), (ks, c, 1, 1))):
                occ.attribute(
                    x, sliding_window_shapes=window, strides=stride, baselines=base,
                    target=clip.target, perturbations_per_eval=args.batch,
                )  # fmt: skip

    def ig(clip):
        IntegratedGradients(lambda v: model.head(v).logits).attribute(
            clip.features[None], baselines=clip.baseline[None], target=clip.target,
            n_steps=args.ig_steps, internal_batch_size=args.batch,
        )  # fmt: skip

    return {"captum occlusion": occlusion, "captum ig": ig}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--frames", type=int, default=25)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--ig-steps", type=int, default=32)
    parser.add_argument("--spatial-window", type=int, default=5)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument(
        "--captum",
        action="store_true",
        help="also time captum's Occlusion and IntegratedGradients on the same clip (what "
        "attnviz ran before computing them itself; needs captum, in the test extra)",
    )
    parser.add_argument(
        "--pixel-ig", action="store_true", help="also integrated gradients on pixels"
    )
    args = parser.parse_args()

    import numpy as np
    import torch

    from attnviz.data.transforms import preprocess
    from attnviz.explain import make_explainer, prepare_clip

    torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    model, name = _model(args.checkpoint, args.size)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(args.frames, 240, 320, 3), dtype=np.uint8)
    x = preprocess(frames, model.input_size)[None]
    opts = {"batch": args.batch, "steps": args.ig_steps, "spatial_window": args.spatial_window}
    methods = {
        m: make_explainer(m, model, **opts) for m in ("attention", "gradcam", "occlusion", "ig")
    }
    if args.pixel_ig:
        methods["ig (pixels)"] = make_explainer("ig", model, **opts, space="pixels")
    if args.captum:
        methods.update(_captum_methods(model, args))
    keep = args.pixel_ig

    def forward() -> None:
        with torch.no_grad():
            model(x)

    def prepare():
        return prepare_clip(model, x[0], keep_frames=keep)

    times: dict[str, list[float]] = {"forward": [], "prepare": [], **{m: [] for m in methods}}
    for rep in range(args.repeats + 1):
        t0 = clock()
        forward()
        t_fwd = clock() - t0
        t0 = clock()
        clip = prepare()
        t_prep = clock() - t0
        per = {}
        for m, ex in methods.items():
            t0 = clock()
            ex(clip)
            per[m] = clock() - t0
        if rep == 0:
            continue  # warm-up
        times["forward"].append(t_fwd)
        times["prepare"].append(t_prep)
        for m, t in per.items():
            times[m].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    n, c = args.frames, clip.features.shape[1]
    h, w = clip.grid
    size = model.input_size
    print(
        f"model: {name}; clip of {n} frames at {size}x{size} (features {c}x{h}x{w}); "
        f"{args.threads} thread(s); median of {args.repeats} runs; {args.clock} clock"
    )
    print(
        f"occlusion: {n} + {-(-n // args.spatial_window) * h * w} head passes; "
        f"ig: {args.ig_steps} steps; batch {args.batch}"
    )
    print()
    print(f"{'':22s} {'s/clip':>9s} {'x forward':>10s} {'with prepare':>13s} {'x forward':>10s}")
    print(f"{'forward pass (ref.)':22s} {med['forward']:9.3f} {1.0:10.2f}")
    print(f"{'prepare (shared)':22s} {med['prepare']:9.3f} {med['prepare'] / med['forward']:10.2f}")
    for m in methods:
        alone = med[m]
        total = med[m] + med["prepare"]  # (attention needs only the clip's features)
        print(
            f"{m:22s} {alone:9.3f} {alone / med['forward']:10.2f} {total:13.3f} "
            f"{total / med['forward']:10.2f}"
        )


if __name__ == "__main__":
    main()
