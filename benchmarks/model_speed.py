"""Model speed: time per clip of the backbone alone, of the attention head in the straightforward
per-step form, and of the head as built, with the ratios head / backbone measured in one run.

Defaults follow the paper (Sec. 4.1): ResNet-50, n = 25 frames of 224x224, one clip (B = 1),
inference, random weights (speed does not depend on the values). The three parts are timed in
turn, round after round, so that load from other processes falls on all of them alike; the
figure of each part is its median over the rounds, after one warm-up round.

- backbone:      ``model.extract_features(frames [25, 3, 224, 224])``
- head/per-step: ``model.head(features)`` with ``model.fast = False``: ``Y_t`` of eq. 4, then
  ``W_x * Y_t`` and ``W_h * H_{t-1}`` as two convolutions at every step
- head/built:    ``model.head(features)`` as shipped: ``W_x * X~_i`` once for all frames in one
  batch, mixed by the weights at each step; only ``W_h * H_{t-1}`` per step (in float32 on CPU
  as im2col + one matrix product)

Run: ``python benchmarks/model_speed.py [--precision fp32 bf16] [--rounds 3] [--threads N]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _measure(model, frames, precision: str, rounds: int, warmup: int):
    """Median seconds per clip of each part, and the largest difference between the outputs of
    the two head forms (they must agree before their times mean anything)."""
    import torch

    from attnviz.models import autocast

    dev = frames.device

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    with torch.inference_mode(), autocast(dev.type, precision):
        feats = model.extract_features(frames)[None]

        def head(fast: bool):
            model.fast = fast
            return model.head(feats)

        ref, out = head(False), head(True)
        diff = max(
            float((a.float() - b.float()).abs().max()) for a, b in zip(ref, out, strict=True)
        )
        parts = {
            "backbone": lambda: model.extract_features(frames),
            "head/per-step": lambda: head(False),
            "head/built": lambda: head(True),
        }
        times: dict[str, list[float]] = {k: [] for k in parts}
        for r in range(warmup + rounds):
            for name, fn in parts.items():
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                if r >= warmup:
                    times[name].append(time.perf_counter() - t0)
    model.fast = True
    return {k: statistics.median(v) for k, v in times.items()}, diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--frames", type=int, default=25, help="n, frames per clip")
    parser.add_argument("--size", type=int, default=224, help="frame side in pixels")
    parser.add_argument("--classes", type=int, default=51)
    parser.add_argument(
        "--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"]
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--contiguous", action="store_true", help="NCHW layout instead of channels-last"
    )
    args = parser.parse_args()

    import torch

    from attnviz.models import build_recognizer

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = build_recognizer(
        args.backbone, args.classes, random_init=True, channels_last=not args.contiguous
    )
    model = model.to(dev).eval()
    frames = torch.randn(args.frames, 3, args.size, args.size, device=dev)

    native = (
        torch.ops.mkldnn._is_mkldnn_bf16_supported()
        if dev.type == "cpu"
        else torch.cuda.is_bf16_supported()
    )
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"{args.backbone}, n = {args.frames}, {args.size}x{args.size}, one clip, inference; "
        f"{'channels-last' if not args.contiguous else 'NCHW'}"
    )
    where = _cpu_name() if dev.type == "cpu" else torch.cuda.get_device_name(dev)
    print(
        f"device: {where}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"native bfloat16: {'yes' if native else 'no'}"
        + (f", load average {load[0]:.1f}" if load else "")
    )

    rows = []
    for precision in args.precision:
        med, diff = _measure(model, frames, precision, args.rounds, args.warmup)
        rows.append((precision, med, diff))
        print(
            f"{precision}: backbone {med['backbone']:.3f} s, head per-step "
            f"{med['head/per-step']:.3f} s, head built {med['head/built']:.3f} s per clip "
            f"(max |built - per-step| over the outputs = {diff:.1e})",
            flush=True,
        )

    print()
    print(
        "| precision | backbone s/clip | head per-step s/clip | head built s/clip "
        "| per-step / backbone | built / backbone | per-step / built |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for precision, med, _ in rows:
        b, s, f = med["backbone"], med["head/per-step"], med["head/built"]
        print(
            f"| {precision} | {b:.3f} | {s:.3f} | {f:.3f} | {s / b:.2f} | {f / b:.2f} "
            f"| {s / f:.2f} |"
        )
    if len(rows) == 2:
        (_, m32, _), (_, m16, _) = rows
        print(
            f"bf16 / fp32 time: backbone {m16['backbone'] / m32['backbone']:.2f}, head built "
            f"{m16['head/built'] / m32['head/built']:.2f}"
        )
    if "bf16" in args.precision and not native:
        print(
            "note: this device has no native bfloat16 arithmetic (no AVX512-BF16 / AMX); "
            "oneDNN emulates it"
        )


if __name__ == "__main__":
    main()
