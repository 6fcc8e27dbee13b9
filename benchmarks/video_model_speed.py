"""Grad-CAM on torchvision's 3D CNNs: its cost as a multiple of a forward pass, attnviz's
against pytorch-grad-cam's on the same clip, and ``spatial-map --model`` end to end against
the model's Grad-CAM alone, all measured in the same run.

For each of ``r3d_18`` and ``r2plus1d_18`` (random weights: speed does not depend on them), one
16x112x112 clip (the weights' own preprocessing):

* ``forward``: the model's forward pass alone (no gradient);
* ``attnviz``: :class:`attnviz.explain.video_methods.VideoExplainer` ``gradcam`` on the same
  clip (forward + backward to the target layer, map, time rule, normalisation);
* ``pytorch-grad-cam``: its ``GradCAM`` on ``layer4`` for the same class, when the package
  ``grad-cam`` is installed (not a dependency of attnviz; the row says so when it is absent);
* ``end to end``: ``spatial_map`` with ``--model`` on a generated 320x240 video of
  ``--seconds`` at 15 fps sampled at ``--fps`` (decode, preprocess, Grad-CAM per window,
  localization, overlay, writing) against ``attnviz`` Grad-CAM alone on the same windows'
  frames, already decoded.

Times are medians of ``--repeats`` runs, alternated. Run:
``python benchmarks/video_model_speed.py [--repeats 3] [--seconds 4]``.
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


def _median(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def _video(path: Path, seconds: float) -> Path:
    import cv2

    w, h, fps = 320, 240, 15.0
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(int(seconds * fps)):
        img = np.full((h, w, 3), 40, np.uint8)
        x = (i * 5) % (w - 60)
        img[80:160, x : x + 60] = (30, 200, 240)
        vw.write(img)
    vw.release()
    return path


def gradcam_table(repeats: int, archs=("r3d_18", "r2plus1d_18")) -> None:
    """Print Grad-CAM's cost as a multiple of a forward pass for each of ``archs``, attnviz's
    beside pytorch-grad-cam's (when installed), on the same random 16x240x320 clip."""
    import torch

    from attnviz.explain.video_methods import VideoExplainer
    from attnviz.models.video_model import load_video_model

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (16, 240, 320, 3), dtype=np.uint8)
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        GradCAM = None
    print(f"{'model':<12} {'forward s':>10} {'attnviz x fwd':>14} {'grad-cam x fwd':>15}")
    for arch in archs:
        torch.manual_seed(0)
        vm = load_video_model(arch, weights="none")
        ex = VideoExplainer(vm, "gradcam")
        x = vm.preprocess(frames)[None]
        with torch.no_grad():
            k = int(vm.forward(x)[0].argmax())

        def fwd(vm=vm, x=x):
            with torch.no_grad():
                vm.forward(x)

        fwd()
        t_fwd = _median(fwd, repeats)
        t_av = _median(lambda ex=ex: ex(frames), repeats)
        if GradCAM is not None:
            cam = GradCAM(model=vm.module, target_layers=[vm.module.layer4])
            t_gc = _median(
                lambda cam=cam, x=x, k=k: cam(x, targets=[ClassifierOutputTarget(k)]),
                repeats,
            )
            gc = f"{t_gc / t_fwd:15.2f}"
        else:
            gc = f"{'not installed':>15}"
        print(f"{arch:<12} {t_fwd:10.3f} {t_av / t_fwd:14.2f} {gc}", flush=True)
    if GradCAM is None:
        print("pytorch-grad-cam is not installed (pip install grad-cam): its column is empty")


def main(argv=None) -> None:
    import torch

    from attnviz.explain.video_methods import VideoExplainer
    from attnviz.models.video_model import load_video_model
    from attnviz.pipeline.explain import spatial_map

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--fps", type=float, default=15.0)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    gradcam_table(args.repeats)

    torch.manual_seed(0)
    vm = load_video_model("r2plus1d_18", weights="none")
    ex = VideoExplainer(vm, "gradcam")
    with tempfile.TemporaryDirectory() as tmp:
        video = _video(Path(tmp) / "v.mp4", args.seconds)
        from attnviz.io.video import iter_sampled

        got = [f for _, f in iter_sampled(video, args.fps)]
        n, step = 16, 8
        starts = list(range(0, max(1, len(got) - n + 1), step))
        if starts[-1] + n < len(got):
            starts.append(len(got) - n)

        def alone():
            for s in starts:
                ex(np.stack(got[s : s + n]))

        def e2e():
            spatial_map(video, Path(tmp) / "o", model=ex, fps=args.fps, stride=step, quiet=True)

        t_alone, t_e2e = [], []
        for _ in range(args.repeats):
            t_alone.append(_median(alone, 1))
            t_e2e.append(_median(e2e, 1))
        a, e = statistics.median(t_alone), statistics.median(t_e2e)
        print(
            f"r2plus1d_18 spatial-map end to end {e:.2f} s, Grad-CAM alone on the same "
            f"{len(starts)} windows {a:.2f} s: ratio {e / a:.3f}"
        )


if __name__ == "__main__":
    main()
