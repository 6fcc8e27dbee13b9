"""``attnviz detect`` against the model alone on the same frames, and projected times for the
UCF101-24 and THUMOS14 test sets, measured in the same run.

Speed: videos per second of :func:`attnviz.pipeline.detect.run_detect` (listing, decoding in
``--workers`` threads, preprocessing, model, localization, part files, merge; no pages) against
the model's forward pass alone on the same sampled frames, already decoded and preprocessed;
the model loaded once. For each ``--workers`` value (default 0 and 2) and each of ``--repeats``
rounds, the model alone and ``detect`` are timed back to back (which goes first alternates),
and the ratio of each pair is kept: the median ratio is printed, so load that comes and goes
on a shared machine touches both sides of a pair alike. Target: ratio <= 1.2 with 2 workers on
CPU.

Projection: per-frame costs measured here (decoding a 320 x 240 video per source frame, reading
a 320 x 240 JPEG, preprocessing, the default model per frame, the paper's ResNet-50 backbone at
224 x 224 per frame, localization per sampled frame) times the frame counts of the two test
sets, taken from their annotation files (``THUMOS14``, ``UCF24`` below), on this CPU; and, as a
projection with one assumed figure (a GPU's ResNet-50 throughput: no GPU was measured), on 1
and 8 GPUs.

Run: ``python benchmarks/detect_speed.py [--videos 8] [--repeats 3] [--workers 0 2]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: ASSUMPTION (not measured): frames per second of a ResNet-50 at 224 x 224 forward pass on
#: one data-centre GPU (A100 / H100 class) in batches of 25 frames, fp32 / TF32.
GPU_RESNET50_FPS = 1500.0
#: ASSUMPTION: CPU cores (decode threads) that serve each GPU (``--workers``).
DECODE_WORKERS_PER_GPU = 8

#: UCF101-24 test split 1, from ``pyannot.json`` (corrected annotations, see the
#: ``ucf101-24`` dataset): 910 videos, 159,289 frames in them, 138,527 of them annotated; the
#: paper samples n = 25 frames per video. 320 x 240 at 25 fps.
UCF24 = {"videos": 910, "source": 159_289, "annotated": 138_527, "sampled": 910 * 25}
#: THUMOS14 test, from ``test_video_info.csv`` (the frame counts of the videos): 212 of the
#: 213 test videos (video_test_0001292, which has Ambiguous segments only, is not in it),
#: 1,344,850 frames (12.8 h at 24-30 fps), 459,253 frames at the paper's 10 fps.
THUMOS14 = {"videos": 212, "source": 1_344_850, "sampled": 459_253}


def _clips(model, videos, frames: int) -> list:
    """Every video's sampled frames, decoded and preprocessed (``Tensor[1, T, 3, S, S]``)."""
    from attnviz.data.transforms import preprocess
    from attnviz.io.video import sample_uniform

    clips = []
    for v in videos:
        _, got = sample_uniform(v, frames)
        clips.append(preprocess(np.stack([f for _, f in got]), model.input_size)[None])
    return clips


def _model_alone(model, clips) -> float:
    """Seconds of the model's forward pass over every clip."""
    import torch

    t0 = time.perf_counter()
    with torch.inference_mode():
        for x in clips:
            model(x)
    return time.perf_counter() - t0


def _detect(model, data, out: Path, workers: int, html: bool = False) -> float:
    from attnviz.pipeline.detect import run_detect

    t0 = time.perf_counter()
    run_detect(data, out, model=model, workers=workers, quiet=True, rank=0, world_size=1, html=html)
    return time.perf_counter() - t0


def _decode_costs(tmp: Path) -> dict[str, float]:
    """Seconds per source frame grabbed, per sampled frame retrieved + converted to RGB, and
    per 320 x 240 JPEG read, on a 320 x 240, 25 fps synthetic mp4v video (UCF101-24's size)."""
    import cv2

    from attnviz.data.synthetic import SynthConfig, generate_dataset
    from attnviz.io.video import iter_frames, probe

    cfg = SynthConfig(width=320, height=240, frames=(240, 240))
    generate_dataset(tmp / "big", videos=1, seed=5, splits="test=1", config=cfg, quiet=True)
    video = next((tmp / "big" / "videos").iterdir())
    t0 = time.perf_counter()
    n = probe(video).num_frames  # grab only (decodes every frame, converts one)
    grab = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    frames = [f for _, f in iter_frames(video)]  # grab + retrieve + BGR->RGB of every frame
    full = (time.perf_counter() - t0) / len(frames)
    jpegs = []
    for k, f in enumerate(frames[:50]):
        jpegs.append(tmp / f"{k:05d}.jpg")
        cv2.imwrite(str(jpegs[-1]), f[..., ::-1])
    t0 = time.perf_counter()
    for j in jpegs:
        cv2.cvtColor(cv2.imread(str(j), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    jpeg = (time.perf_counter() - t0) / len(jpegs)
    return {"grab": grab, "retrieve": max(full - grab, 0.0), "jpeg": jpeg}


def _preprocess_cost(size: int) -> float:
    """Seconds per 320 x 240 frame of :func:`attnviz.data.transforms.preprocess` to ``size``."""
    from attnviz.data.transforms import preprocess

    x = np.random.default_rng(0).integers(0, 256, (25, 240, 320, 3), dtype=np.uint8)
    preprocess(x[:2], size)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        preprocess(x, size)
        best = min(best, time.perf_counter() - t0)
    return best / len(x)


def _localize_cost(model, video) -> float:
    """Seconds per sampled frame of turning one video's maps into detections (top class)."""
    from attnviz.pipeline.detect import DetectSettings, _video_detections
    from attnviz.pipeline.explain import explain_video

    out = explain_video(video, model=model, quiet=True)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        _video_detections(out, DetectSettings(), out.class_names)
        best = min(best, time.perf_counter() - t0)
    return best / out.num_frames


def _resnet50_cost(repeats: int = 2) -> float:
    """Seconds per frame of the ResNet-50 trunk (random weights) at 224, batch of 25."""
    import torch

    from attnviz.models import build_backbone

    trunk, _ = build_backbone("resnet50", weights=None, random_init=True, stage=4)
    trunk.eval()
    x = torch.randn(25, 3, 224, 224)
    with torch.inference_mode():
        trunk(x[:2])
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            trunk(x)
            best = min(best, time.perf_counter() - t0)
    return best / 25


def _hours(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.1f} min"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    ap.add_argument("--no-projection", action="store_true")
    ap.add_argument("--no-speed", action="store_true", help="only the projection")
    args = ap.parse_args(argv)

    from attnviz.data.synthetic import generate_dataset
    from attnviz.pipeline.detect import list_videos
    from attnviz.pipeline.explain import load_model

    model, _ = load_model(None)
    model.eval()
    with tempfile.TemporaryDirectory(prefix="attnviz-detect-bench-") as tmpd:
        tmp = Path(tmpd)
        generate_dataset(tmp / "s", videos=args.videos, seed=31, splits="test=1", quiet=True)
        data = list_videos(tmp / "s")
        clips = _clips(model, data.paths, 25)
        if not args.no_speed:
            _compare(model, data, clips, tmp, args)
        if args.no_projection:
            return 0
        costs = _decode_costs(tmp)
        costs["localize"] = _localize_cost(model, data.paths[0])
    costs["pre_small"] = _preprocess_cost(model.input_size)
    costs["pre_224"] = _preprocess_cost(224)
    n_frames = sum(x.shape[1] for x in clips)
    costs["model"] = min(_model_alone(model, clips) for _ in range(2)) / n_frames
    costs["r50"] = _resnet50_cost()
    _project(costs, model.input_size)
    return 0


def _compare(model, data, clips, tmp: Path, args) -> None:
    import torch

    alone: dict[int, list[float]] = {w: [] for w in args.workers}
    det: dict[int, list[float]] = {w: [] for w in args.workers}
    for r in range(args.repeats):
        for w in args.workers:
            out = tmp / f"d{w}_{r}"
            if (r + w) % 2:
                det[w].append(_detect(model, data, out, w))
                alone[w].append(_model_alone(model, clips))
            else:
                alone[w].append(_model_alone(model, clips))
                det[w].append(_detect(model, data, out, w))
    n = len(data)
    print(
        f"{n} synthetic videos (160x120, 48-96 frames, 25 sampled), default model, "
        f"{torch.get_num_threads()} torch threads; per --workers value, {args.repeats} pairs "
        "(model alone, detect) timed back to back:"
    )
    print("| --workers | model alone | detect | ratio detect / model alone (median; each pair) |")
    print("|---:|---:|---:|---|")
    for w in args.workers:
        a, d = statistics.median(alone[w]), statistics.median(det[w])
        ratios = [y / x for x, y in zip(alone[w], det[w], strict=True)]
        each = ", ".join(f"{q:.2f}" for q in ratios)
        print(
            f"| {w} | {n / a:.2f} videos/s | {n / d:.2f} videos/s | "
            f"**{statistics.median(ratios):.2f}x** ({each}) |"
        )
    print("target: ratio <= 1.2x with --workers 2")
    pages = _detect(model, data, tmp / "pages", args.workers[-1], html=True)
    print(
        f"with the pages (--html, a VP8 copy of every video), --workers {args.workers[-1]}: "
        f"{n / pages:.2f} videos/s ({pages:.2f} s, one run)"
    )


def _project(c: dict[str, float], size: int) -> None:
    print()
    print("Measured per-frame costs on this CPU (one process, this run):")
    print(f"  decode (grab) per source frame, 320x240 mp4v:      {1e3 * c['grab']:.2f} ms")
    print(f"  retrieve + RGB per sampled frame:                  {1e3 * c['retrieve']:.2f} ms")
    print(f"  read a 320x240 JPEG + RGB:                         {1e3 * c['jpeg']:.2f} ms")
    print(f"  preprocess 320x240 -> {size} / 224, per frame:        "
          f"{1e3 * c['pre_small']:.2f} / {1e3 * c['pre_224']:.2f} ms")  # fmt: skip
    print(f"  default model ({size} px) per frame, clips of 25:    {1e3 * c['model']:.2f} ms")
    print(f"  ResNet-50 trunk at 224 per frame (batch 25):       {1e3 * c['r50']:.1f} ms")
    print(f"  localization (maps -> detections) per sampled frame: {1e3 * c['localize']:.2f} ms")
    print(
        f"GPU rows are a PROJECTION, not a measurement (no GPU here): one GPU is assumed to run "
        f"the ResNet-50 trunk at {GPU_RESNET50_FPS:.0f} frames/s; {DECODE_WORKERS_PER_GPU} CPU "
        "cores per GPU decode (--workers) at this CPU's measured rate per core; preprocessing "
        "and localization run on the rank's main thread, after the model, not overlapped; the "
        "attention head's cost is small next to the trunk's (README: 0.09 of a forward pass)."
    )
    sets = (
        ("UCF101-24, frame folders, n = 25 per video", UCF24, "jpeg", UCF24["sampled"]),
        ("UCF101-24, video files, n = 25 per video", UCF24, "video", UCF24["sampled"]),
        ("UCF101-24, every annotated frame", UCF24, "video", UCF24["annotated"]),
        ("THUMOS14, 10 fps windows", THUMOS14, "video", THUMOS14["sampled"]),
    )
    rows = []
    for name, ds, source, sampled in sets:
        if source == "jpeg":  # only the sampled frames are read
            decode = sampled * c["jpeg"]
        else:  # every frame is grabbed, the sampled ones converted
            decode = ds["source"] * c["grab"] + sampled * c["retrieve"]
        local = sampled * c["localize"]
        for model, per_frame, pre in (
            (f"default ({size} px)", c["model"], c["pre_small"]),
            ("ResNet-50 (paper)", c["r50"], c["pre_224"]),
        ):
            cpu = decode + sampled * (pre + per_frame) + local
            rows.append((name, model, "this CPU (2 cores), 1 process", cpu, "measured costs"))
        for gpus in (1, 8):
            main_thread = sampled * (c["pre_224"] + 1 / GPU_RESNET50_FPS) + local
            dec_t = decode / (DECODE_WORKERS_PER_GPU * gpus)
            bound = "decoding" if dec_t > main_thread / gpus else "model + pre/post on the rank"
            hw = f"{gpus} GPU" + ("s" if gpus > 1 else "") + " (projection)"
            rows.append((name, "ResNet-50 (paper)", hw, max(main_thread / gpus, dec_t), bound))
    print()
    print("| test set | model | hardware | time | from |")
    print("|---|---|---|---:|---|")
    for name, model, hw, secs, how in rows:
        print(f"| {name} | {model} | {hw} | {_hours(secs)} | {how} |")


if __name__ == "__main__":
    sys.exit(main())
