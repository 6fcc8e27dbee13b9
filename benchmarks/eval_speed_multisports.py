"""MultiSports evaluator speed against the official ``evaluate_multisports.py``, in the same run.

Synthetic MultiSports-sized data (66 labels, the six the official script leaves out among them;
``--videos`` test videos with several actors each): frame-AP at IoU 0.5 on jittered and random
boxes, and video-AP at the 28 thresholds of ``videoAP_all`` on shifted, jittered and random tubes.
attnviz scores all thresholds in one pass; the official script is run as it is meant to be run
(``frameAP`` / ``videoAP_all`` on pickles, one process each) and its printed mAP is compared with
attnviz's.

The official script needs numpy < 1.24: give its path with ``--official`` (or
``$MULTISPORTS_OFFICIAL``) and an interpreter with such a numpy with ``--official-python`` (or
``$MULTISPORTS_PYTHON``). The pickles are written by that interpreter (numpy 1.x cannot read
numpy 2 pickles) and read by attnviz as they are. Without the script the benchmark says so and
measures attnviz alone.

Run: ``python benchmarks/eval_speed_multisports.py --official /path/evaluate_multisports.py
--official-python /path/venv/bin/python [--videos 150] [--frame-dets 60000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from attnviz.evaluate.multisports import EXCLUDED_LABELS, NAMED_RANGES, parse_iou
from attnviz.pipeline.multisports import eval_multisports

_TO_PICKLE = r"""
import json, pickle, sys
import numpy as np
d = sys.argv[1]
g = json.load(open(d + "/gt.json"))
g["gttubes"] = {v: {int(k): [np.array(t, dtype=np.float64) for t in ts] for k, ts in per.items()}
                for v, per in g["gttubes"].items()}
pickle.dump(g, open(d + "/gt.pkl", "wb"))
pickle.dump(np.load(d + "/frames.npy"), open(d + "/frames.pkl", "wb"))
t = json.load(open(d + "/tubes.json"))
tubes = {int(k): [(v, s, np.array(b, dtype=np.float64)) for v, s, b in ts]
         for k, ts in t.items()}
pickle.dump(tubes, open(d + "/tubes.pkl", "wb"))
"""


def make_data(n_videos: int, n_frame_dets: int, seed: int = 0):
    """Ground truth (ACT layout, JSON-able), frame detections ``[N, 8]`` and video detections."""
    rng = np.random.default_rng(seed)
    labels = list(EXCLUDED_LABELS) + [f"sport action {k}" for k in range(60)]
    rng.shuffle(labels)
    videos = [f"sport{v % 4}/v_{v:05d}_c{v % 13:03d}" for v in range(n_videos)]
    nframes = {v: int(rng.integers(200, 600)) for v in videos}
    gttubes, boxes = {}, []
    for iv, v in enumerate(videos):
        per: dict[str, list] = {}
        for _ in range(int(rng.integers(2, 7))):
            lab = int(rng.integers(0, len(labels)))
            length = int(rng.integers(10, 60))
            s = int(rng.integers(1, nframes[v] - length))
            xy = rng.uniform(0, 1000, 2)
            wh = rng.uniform(40, 250, 2)
            walk = np.cumsum(rng.normal(0, 3, (length, 2)), axis=0)
            b = np.hstack([xy + walk, xy + walk + wh]).round(2)
            tube = np.hstack([np.arange(s, s + length)[:, None], b])
            per.setdefault(str(lab), []).append(tube.tolist())
            boxes += [(iv, lab, r) for r in tube]
        gttubes[v] = per
    gt = {"labels": labels, "gttubes": gttubes, "nframes": nframes, "train_videos": [[]],
          "test_videos": [videos], "resolution": {v: [720, 1280] for v in videos}}  # fmt: skip
    n_true = min(int(0.7 * n_frame_dets), len(boxes) * 2)
    pick = rng.integers(0, len(boxes), n_true)
    rows = []
    for i in pick:
        iv, lab, r = boxes[i]
        wh = np.r_[r[3] - r[1], r[4] - r[2]].repeat(2)
        b = r[1:] + rng.normal(0, 0.12, 4) * np.tile(wh[::2], 2)
        b[2:] = np.maximum(b[2:], b[:2])
        rows.append([iv, r[0], lab if rng.random() < 0.85 else rng.integers(0, 66), 0, *b])
    n_false = n_frame_dets - len(rows)
    fv = rng.integers(0, n_videos, n_false)
    ff = np.array([rng.integers(1, nframes[videos[i]] + 1) for i in fv])
    xy = rng.uniform(0, 1000, (n_false, 2))
    fb = np.hstack([xy, xy + rng.uniform(20, 250, (n_false, 2))])
    fr = np.hstack([fv[:, None], ff[:, None], rng.integers(0, 66, (n_false, 1)),
                    np.zeros((n_false, 1)), fb])  # fmt: skip
    frames = np.vstack([np.array(rows, dtype=np.float64).reshape(-1, 8), fr])
    frames[:, 3] = rng.random(len(frames))
    frames = frames[rng.permutation(len(frames))]
    tubes: dict[str, list] = {str(k): [] for k in range(len(labels))}
    for v in videos:
        for lab, ts in gttubes[v].items():
            for t in ts:
                t = np.asarray(t)
                for _ in range(int(rng.integers(1, 4))):
                    s0 = int(np.clip(t[0, 0] + rng.integers(-8, 9), 1, nframes[v]))
                    s1 = int(np.clip(t[-1, 0] + rng.integers(-8, 9), s0, nframes[v]))
                    k = np.clip(np.arange(s0, s1 + 1) - t[0, 0], 0, len(t) - 1).astype(int)
                    b = t[k, 1:] + rng.normal(0, 4, (len(k), 4))
                    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2])
                    d = np.hstack([np.arange(s0, s1 + 1)[:, None], b, np.ones((len(k), 1))])
                    tubes[lab].append([v, float(rng.random()), d.round(2).tolist()])
    return gt, frames, tubes


def run_official(python: str, script: str, task: str, d: Path, thr: float | None = None):
    dets = d / ("frames.pkl" if task == "frameAP" else "tubes.pkl")
    args = [python, script, task, str(d / "gt.pkl"), str(dets)]
    args += ["-t", repr(thr)] if thr is not None else []
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", default=os.environ.get("MULTISPORTS_OFFICIAL"))
    ap.add_argument(
        "--official-python", default=os.environ.get("MULTISPORTS_PYTHON", sys.executable)
    )
    ap.add_argument("--videos", type=int, default=150)
    ap.add_argument("--frame-dets", type=int, default=60000)
    a = ap.parse_args(argv)
    official = a.official if a.official and Path(a.official).is_file() else None
    if official is None:
        print("official evaluate_multisports.py not given (--official or $MULTISPORTS_OFFICIAL): "
              "measuring attnviz alone")  # fmt: skip
    gt, frames, tubes = make_data(a.videos, a.frame_dets)
    n_tubes = sum(len(t) for t in tubes.values())
    all_iou = ",".join(NAMED_RANGES[::-1])  # videoAP_all's order: 0.5:0.95, 0.05:0.45, 0.1:0.9
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "gt.json").write_text(json.dumps(gt))
        np.save(d / "frames.npy", frames)
        (d / "tubes.json").write_text(json.dumps(tubes))
        subprocess.run([a.official_python if official else sys.executable, "-c", _TO_PICKLE,
                        str(d)], check=True)  # fmt: skip
        print(f"data: {a.videos} test videos, {len(frames)} frame detections, {n_tubes} tubes")
        t0 = time.perf_counter()
        fr = eval_multisports(d / "gt.pkl", d / "frames.pkl", metric="frame", iou="0.5")
        t_frame = time.perf_counter() - t0
        t0 = time.perf_counter()
        vr = eval_multisports(d / "gt.pkl", d / "tubes.pkl", metric="video", iou=all_iou)
        t_video = time.perf_counter() - t0
        means = [np.mean(vr.mAP[[vr.thresholds.index(t) for t in parse_iou(s)]]) for s in
                 NAMED_RANGES]  # fmt: skip
        print(f"attnviz frame-AP@0.5 (read + score): {t_frame:.2f} s, mAP {100 * fr.mAP[0]:.2f}")
        print(
            f"attnviz video-AP, 28 thresholds (read + score): {t_video:.2f} s, "
            + ", ".join(f"{s} {100 * m:.2f}" for s, m in zip(NAMED_RANGES, means, strict=True))
        )
        if official is None:
            return
        o_frame, out = run_official(a.official_python, official, "frameAP", d, 0.5)
        o_map = float(re.findall(r"mAP\s+([0-9.]+)", out)[-1])
        print(
            f"official frameAP@0.5: {o_frame:.2f} s, mAP {o_map:.2f}   "
            f"ratio {o_frame / t_frame:.1f}x"
        )
        o_video, out = run_official(a.official_python, official, "videoAP_all", d)
        o_means = [float(x) for x in re.findall(r"VideoAP_[0-9.:]+:\s+([0-9.]+)", out)]
        print(
            f"official videoAP_all: {o_video:.2f} s, "
            + ", ".join(f"{x:.2f}" for x in o_means)
            + f"   ratio {o_video / t_video:.1f}x"
        )
        same = abs(o_map - round(100 * fr.mAP[0], 2)) < 0.006 and all(
            abs(x - round(100 * m, 2)) < 0.006 for x, m in zip(o_means, means, strict=True)
        )
        print("printed numbers agree" if same else "NUMBERS DIFFER")


if __name__ == "__main__":
    main()
