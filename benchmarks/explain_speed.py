"""``spatial-map`` end to end against the model alone on the same frames, and peak memory on a
10x longer video, measured in the same run.

Speed: the end-to-end time of :func:`attnviz.pipeline.explain.spatial_map` (decode, preprocess,
model, localization, overlay video, strip, CSV / JSON / npz writing; without the page, whose
cost is printed apart: ``index.html`` and the browser copy of the video, which
:mod:`attnviz.pipeline.page` encodes again as VP8 unless browsers play the source) against the
time of the model's forward pass alone on the same sampled frames, already decoded and
preprocessed; both with the model loaded once, run alternately, median of ``--repeats``. Target:
ratio <= 1.25 (issue 18: <= 1.1 on opencv-doc's vtest.avi). The uniform run also times the
decoding alone (:func:`attnviz.io.video.sample_uniform`) and prints where the video's keyframes
are: a frame of an inter-coded video can only be decoded from the keyframe before it, so the
frames that must be decoded to obtain the sampled ones exactly are counted too, and how
``sample_uniform`` splits them over its parallel captures (``DECODE_THREADS``).

Memory: peak resident memory (and the peak of Python / numpy allocations) of a fresh process
running ``spatial-map`` on the video and on a 10x longer one (the same frames looped ten
times), for uniform sampling (the default command) and for sliding windows. Target: the long
video's peak within 1.2x of the short one's.

The video is ``--video`` or, by default, a generated 640x480, 30 fps, 30 s clip (moving shapes
over a textured background, mp4v). The model is ``--checkpoint``, else the model shipped with
attnviz, else a random-init resnet18 recognizer with the paper's head sizes (speed does not
depend on the weights).

``--model r2plus1d_18`` (any name ``--model`` takes; random weights: speed and memory do not
depend on them) measures the same for another video classifier explained by Grad-CAM in
sliding windows of its clip length (stride half a clip) at ``--window-fps``: end to end
against the model alone, i.e. Grad-CAM's forward and backward passes and the map on the same
windows, already decoded and preprocessed (target <= 1.25); peak memory of the 10x video at
``--memory-window-fps`` (target <= 1.1: windows are explained one at a time); then Grad-CAM on
``r3d_18`` and ``r2plus1d_18`` as a multiple of a forward pass, beside pytorch-grad-cam's when
``grad-cam`` is installed (``benchmarks/video_model_speed.py``; not a dependency of attnviz).

Run: ``python benchmarks/explain_speed.py [--video vtest.avi] [--repeats 3]``,
``python benchmarks/explain_speed.py --model r2plus1d_18 --seconds 8 --repeats 3``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: What the page added to each timed run (``index.html`` + the browser copy), the last first.
PAGE_COST: list[float] = []
sys.path.insert(0, str(ROOT))


def _frame(i: int, w: int, h: int, texture: np.ndarray) -> np.ndarray:
    import cv2

    img = np.roll(texture, (i * 2) % h, axis=0).copy()
    x = int((w - 120) * (0.5 + 0.5 * np.sin(i / 23.0)))
    y = int((h - 160) * (0.5 + 0.5 * np.cos(i / 31.0)))
    cv2.rectangle(img, (x, y), (x + 120, y + 160), (40, 180, 230), -1)
    cv2.circle(img, ((i * 7) % w, h // 3), 35, (220, 60, 60), -1)
    return img


def make_video(path: Path, seconds: float, fps: float = 30.0, w: int = 640, h: int = 480) -> Path:
    from attnviz.io.video_writer import open_video_writer

    rng = np.random.default_rng(0)
    texture = (rng.random((h // 8, w // 8, 3)) * 255).astype(np.uint8)
    import cv2

    texture = cv2.resize(texture, (w, h), interpolation=cv2.INTER_LINEAR)
    with open_video_writer(path, fps, codec="mp4v") as wr:
        for i in range(int(seconds * fps)):
            wr.write(_frame(i, w, h, texture))
    return path


def loop_video(src: Path, dst: Path, times: int) -> Path:
    """``src``'s frames ``times`` times over (re-encoded with mp4v)."""
    from attnviz.io.video import iter_frames, stream_fps
    from attnviz.io.video_writer import open_video_writer

    with open_video_writer(dst, stream_fps(src), codec="mp4v") as wr:
        for _ in range(times):
            for _, f in iter_frames(src):
                wr.write(f)
    return dst


def load_or_build(checkpoint: str | None):
    from attnviz.pipeline.explain import default_checkpoint, load_model

    if checkpoint is None:
        try:
            checkpoint = str(default_checkpoint())
        except Exception:  # no shipped model yet: a random-init one of the real size
            checkpoint = None
    if checkpoint is not None:
        model, _ = load_model(checkpoint)
        return model, checkpoint, checkpoint
    from attnviz.models import build_recognizer, save_checkpoint

    model = build_recognizer("resnet18", 101, weights=None, random_init=True).eval()
    path = Path(tempfile.mkdtemp(prefix="attnviz-bench-")) / "resnet18_random.pt"
    save_checkpoint(path, model)
    return model, str(path), "resnet18, random init, paper head sizes, 101 classes"


def time_speed(video: Path, model, repeats: int, fps: float | None, window: int, stride: int):
    import torch

    from attnviz.data import preprocess
    from attnviz.io.maps import load_attention
    from attnviz.io.video import iter_frames
    from attnviz.pipeline.explain import spatial_map

    out_dir = Path(tempfile.mkdtemp(prefix="attnviz-bench-out-"))
    kw = {"fps": fps, "window": window, "stride": stride} if fps else {}
    spatial_map(video, out_dir, model=model, quiet=True, html=False, **kw)  # warm-up, frames
    maps = load_attention(out_dir / "maps.npz")
    frames = [f for _, f in iter_frames(video, maps.frame_indices - 1)]
    x = preprocess(np.stack(frames), model.input_size)

    def model_alone() -> None:
        with torch.inference_mode():
            if maps.window_starts is None:
                model(x[None])
            else:  # the same work as the pipeline: backbone once per frame, head per window
                feats = torch.cat(
                    [model.extract_features(x[i : i + 16]) for i in range(0, len(x), 16)]
                )
                n = maps.temporal.shape[1]
                for s in maps.window_starts:
                    model.head(feats[s : s + n][None])

    from attnviz.io.video import sample_uniform

    e2e, ref, dec, page = [], [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model_alone()
        ref.append(time.perf_counter() - t)
        t = time.perf_counter()
        spatial_map(video, out_dir, model=model, quiet=True, html=False, **kw)
        e2e.append(time.perf_counter() - t)
        t = time.perf_counter()
        spatial_map(video, out_dir, model=model, quiet=True, **kw)
        page.append(time.perf_counter() - t - e2e[-1])
        if not fps:
            t = time.perf_counter()
            sample_uniform(video, len(maps.frame_indices))
            dec.append(time.perf_counter() - t)
    decode = statistics.median(dec) if dec else None
    PAGE_COST.append(statistics.median(page))
    return statistics.median(e2e), statistics.median(ref), maps.num_frames, decode


def time_speed_video(video: Path, ex, repeats: int, fps: float):
    """``(end to end, model alone, windows)`` of ``spatial_map`` with a video model's
    explainer ``ex`` at ``fps``, medians of ``repeats`` alternated runs."""
    from attnviz.explain.video_methods import _acts_grads, gradcam_3d
    from attnviz.io.maps import load_attention
    from attnviz.io.video import iter_frames
    from attnviz.pipeline.explain import spatial_map

    out_dir = Path(tempfile.mkdtemp(prefix="attnviz-bench-out-"))
    spatial_map(video, out_dir, model=ex, fps=fps, quiet=True, html=False)  # warm-up, windows
    maps = load_attention(out_dir / "maps.npz")
    frames = np.stack([f for _, f in iter_frames(video, maps.frame_indices - 1)])
    n = ex.model.preprocess.clip_len
    xs = [ex.model.preprocess(frames[s : s + n])[None] for s in maps.window_starts]

    def model_alone() -> None:
        for x in xs:
            a, g, _, _ = _acts_grads(ex.model, x, None)
            gradcam_3d(a, g)

    e2e, ref, page = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model_alone()
        ref.append(time.perf_counter() - t)
        t = time.perf_counter()
        spatial_map(video, out_dir, model=ex, fps=fps, quiet=True, html=False)
        e2e.append(time.perf_counter() - t)
        t = time.perf_counter()
        spatial_map(video, out_dir, model=ex, fps=fps, quiet=True)
        page.append(time.perf_counter() - t - e2e[-1])
    PAGE_COST.append(statistics.median(page))
    return statistics.median(e2e), statistics.median(ref), len(xs)


def keyframes(video: Path) -> list[int] | None:
    """0-based indices of the video's keyframes from its packets (OpenCV's raw mode, nothing
    decoded), or None where the backend has no raw mode."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        if not cap.set(cv2.CAP_PROP_FORMAT, -1):
            return None
        keys, pos = [], 0
        while cap.grab():
            if cap.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME):
                keys.append(pos)
            pos += 1
        return keys
    finally:
        cap.release()


def must_decode(keys: list[int], wanted: list[int]) -> int:
    """Frames to decode to obtain ``wanted`` (ascending) exactly: from the keyframe before each
    wanted frame, once."""
    import bisect

    done, total = -1, 0
    for i in wanted:
        k = keys[bisect.bisect_right(keys, i) - 1]
        start = max(k, done + 1)
        total += max(0, i - start + 1)
        done = max(done, i)
    return total


def child_memory(
    video: str, checkpoint: str, fps: float | None, window: int, stride: int, model=None
) -> None:
    """Run in a fresh process: spatial-map once, print peak RSS and traced peak as JSON."""
    import tracemalloc

    from attnviz.pipeline.explain import spatial_map

    explainer = None
    if model:
        import torch

        from attnviz.explain.video_methods import build_video_explainer

        torch.manual_seed(0)
        explainer = build_video_explainer(model, weights="none")
    tracemalloc.start()
    out_dir = tempfile.mkdtemp(prefix="attnviz-bench-mem-")
    kw = {"fps": fps, "window": window, "stride": stride} if fps else {}
    if explainer is not None:
        kw.pop("stride", None)  # the model's windows: half a clip
        spatial_map(video, out_dir, model=explainer, quiet=True, **kw)
    else:
        spatial_map(video, out_dir, checkpoint=checkpoint, quiet=True, **kw)
    _, traced = tracemalloc.get_traced_memory()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_mb": rss_kb / 1024, "traced_mb": traced / 2**20}))


def measure_memory(
    video: Path, checkpoint: str, fps: float | None, window: int, stride: int, model=None
):
    cmd = [sys.executable, __file__, "--child", str(video)]
    cmd += ["--model", model] if model else ["--checkpoint", checkpoint]
    if fps:
        cmd += ["--fps", str(fps), "--window", str(window), "--stride", str(stride)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"memory run failed: {res.stderr.strip().splitlines()[-1:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=None, help="a real video (default: a generated one)")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument(
        "--model", default=None, help="measure this video classifier (e.g. r2plus1d_18) instead"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the generated clip")
    parser.add_argument("--fps", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--window", type=int, default=25)
    parser.add_argument("--stride", type=int, default=12)
    parser.add_argument(
        "--window-fps", type=float, default=2.0,
        help="sampling rate of the sliding-window speed runs",
    )  # fmt: skip
    parser.add_argument(
        "--memory-window-fps", type=float, default=0.5,
        help="sampling rate of the sliding-window memory runs",
    )  # fmt: skip
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_memory(args.child, args.checkpoint, args.fps, args.window, args.stride, args.model)
        return
    if args.model:
        return main_video_model(args)

    import torch

    from attnviz.io.video import probe

    work = Path(tempfile.mkdtemp(prefix="attnviz-bench-"))
    if args.video:
        video = Path(args.video)
    else:
        video = make_video(work / "clip.mp4", args.seconds)
    info = probe(video)
    model, ckpt, about = load_or_build(args.checkpoint)
    print(f"video: {video.name} {info.width}x{info.height}, {info.num_frames} frames at "
          f"{info.fps:g} fps ({info.duration:.1f} s)")  # fmt: skip
    print(f"model: {about}; torch threads: {torch.get_num_threads()}; device: cpu, fp32")
    speed_runs = (
        ("uniform 25 frames (default)", None),
        (f"windows at {args.window_fps:g} fps", args.window_fps),
    )
    for label, fps in () if args.skip_speed else speed_runs:
        e2e, ref, n, dec = time_speed(video, model, args.repeats, fps, args.window, args.stride)
        print(f"[{label}] {n} sampled frames: spatial-map end to end {e2e:.2f} s, model alone "
              f"{ref:.2f} s, ratio {e2e / ref:.3f} (target <= 1.25)", flush=True)  # fmt: skip
        print(f"    the page (index.html + browser copy of the video) adds {PAGE_COST[-1]:.2f} s",
              flush=True)  # fmt: skip
        if dec is not None:
            from attnviz.io.video import uniform_indices

            keys = keyframes(video)
            need = (
                must_decode(keys, uniform_indices(info.num_frames, n).tolist())
                if keys else None
            )  # fmt: skip
            shown = f"{keys[:6]}{' ...' if len(keys) > 6 else ''}" if keys else "unknown"
            print(f"    decoding alone (sample_uniform) {dec:.2f} s = {dec / ref:.3f} x the model; "
                  f"keyframes {shown} -> frames that must be decoded for exact samples: {need} of "
                  f"{info.num_frames}", flush=True)  # fmt: skip
            if keys:
                from attnviz.io import video as V

                idx = uniform_indices(info.num_frames, n).tolist()
                runs = V._split_runs(np.asarray(keys), idx, info.num_frames, V.DECODE_THREADS)
                print(f"    sample_uniform's plan (OpenCV seeks from the keyframe before target - "
                      f"16): {len(runs)} capture(s) in parallel, decoding "
                      f"{[r[3] for r in runs]} frames", flush=True)  # fmt: skip
    if args.skip_memory:
        return
    long_video = loop_video(video, work / "long.mp4", 10)
    memory_runs = (
        ("uniform 25 frames", None),
        (f"windows at {args.memory_window_fps:g} fps", args.memory_window_fps),
    )
    for label, fps in memory_runs:
        short = measure_memory(video, ckpt, fps, args.window, args.stride)
        long = measure_memory(long_video, ckpt, fps, args.window, args.stride)
        print(f"[{label}] peak RSS {short['rss_mb']:.0f} MB -> {long['rss_mb']:.0f} MB on the 10x "
              f"video, ratio {long['rss_mb'] / short['rss_mb']:.3f} (target <= 1.2); traced "
              f"Python/numpy peak {short['traced_mb']:.1f} MB -> {long['traced_mb']:.1f} MB",
              flush=True)  # fmt: skip


def main_video_model(args) -> None:
    """The ``--model`` runs (module docstring)."""
    import torch

    from attnviz.explain.video_methods import build_video_explainer
    from attnviz.io.video import probe

    work = Path(tempfile.mkdtemp(prefix="attnviz-bench-"))
    video = Path(args.video) if args.video else make_video(work / "clip.mp4", args.seconds)
    info = probe(video)
    torch.manual_seed(0)
    ex = build_video_explainer(args.model, weights="none")
    print(f"video: {video.name} {info.width}x{info.height}, {info.num_frames} frames at "
          f"{info.fps:g} fps ({info.duration:.1f} s)")  # fmt: skip
    print(f"model: {args.model} (random weights), Grad-CAM, clip {ex.model.preprocess.clip_len}; "
          f"torch threads: {torch.get_num_threads()}; device: cpu, fp32", flush=True)  # fmt: skip
    if not args.skip_speed:
        e2e, ref, n = time_speed_video(video, ex, args.repeats, args.window_fps)
        print(f"[windows at {args.window_fps:g} fps] {n} windows: spatial-map end to end "
              f"{e2e:.2f} s, model alone (Grad-CAM forward + backward + map) {ref:.2f} s, ratio "
              f"{e2e / ref:.3f} (target <= 1.25)", flush=True)  # fmt: skip
        print(f"    the page (index.html + browser copy of the video) adds {PAGE_COST[-1]:.2f} s",
              flush=True)  # fmt: skip
    if not args.skip_memory:
        long_video = loop_video(video, work / "long.mp4", 10)
        fps = args.memory_window_fps
        short = measure_memory(video, "", fps, args.window, args.stride, args.model)
        long = measure_memory(long_video, "", fps, args.window, args.stride, args.model)
        print(
            f"[windows at {fps:g} fps] peak RSS {short['rss_mb']:.0f} MB -> "
            f"{long['rss_mb']:.0f} MB on the 10x video, ratio "
            f"{long['rss_mb'] / short['rss_mb']:.3f} (target <= 1.1); traced Python/numpy peak "
            f"{short['traced_mb']:.1f} MB -> {long['traced_mb']:.1f} MB",
            flush=True,
        )
    from video_model_speed import gradcam_table

    gradcam_table(args.repeats)


if __name__ == "__main__":
    main()
