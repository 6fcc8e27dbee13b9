"""AVA and ActivityNet-1.3 evaluator speed, each against references measured in the same run.

* AVA: about 700,000 detections on 19,200 synthetic keyframes, files in the official CSV layout;
  attnviz end to end (read both CSVs, evaluate) against the official
  ``get_ava_performance.py`` run on the same files.
* ActivityNet-1.3: 120,000 detections on 5,000 synthetic validation videos of 200 classes, the
  official ten thresholds; attnviz's evaluation against a plain numpy implementation of the
  protocol (below: the official algorithm with its pandas rows replaced by numpy arrays, one
  Python step per detection that has a ground truth of its class in its video, every threshold
  at once), and attnviz end to end (read both JSON files, evaluate) against the official
  ``eval_detection.py`` on the same files.

The official scripts are not part of attnviz. Give their location to measure them:
``--ava-official DIR`` (ActivityNet's ``Evaluation`` folder: ``get_ava_performance.py`` and its
``ava/`` package; env ``ATTNVIZ_AVA_OFFICIAL``), ``--anet-official DIR`` (a folder with an
``eval_detection.py`` and ``utils.py`` that run under Python 3: the upstream files need
``urllib2`` -> ``urllib.request``, ``print(...)``, ``.items()``; env ``ATTNVIZ_ANET_OFFICIAL``),
and ``--official-python PY`` (an interpreter with numpy < 1.24, pandas and joblib, which the
official code needs; env ``ATTNVIZ_OFFICIAL_PYTHON``). Without them that comparison is skipped
with a message.

Run: ``python benchmarks/eval_speed_ava_anet.py [--only ava|anet] [--repeat 3]``
(also called by ``benchmarks/eval_speed.py``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from attnviz.evaluate.activitynet import ANET_TIOU, evaluate_activitynet
from attnviz.evaluate.ava import evaluate_ava
from attnviz.io.activitynet import read_activitynet_gt, read_activitynet_results
from attnviz.io.ava import default_label_map, read_ava_boxes
from attnviz.types import TemporalDetections, TemporalGroundTruth


def _best(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _official_dir(arg: str | None, env: str, needed: str) -> Path | None:
    value = arg or os.environ.get(env)
    if not value:
        return None
    p = Path(value)
    return p if (p / needed).is_file() else None


# --------------------------------------------------------------------------- AVA
def make_ava(folder: Path, n_videos: int = 64, n_keyframes: int = 300, per_keyframe: int = 36):
    """Ground truth (1-3 persons per keyframe, 1-3 actions each, some keyframe-only rows) and
    ``n_videos * n_keyframes * per_keyframe`` detections (jittered ground-truth boxes and random
    boxes, every class of the label map, scores with 8 decimals) as official CSV files."""
    rng = np.random.default_rng(0)
    ids = np.asarray(default_label_map()[0])
    gt_lines, det_lines = [], []
    for v in range(n_videos):
        vid = f"video{v:03d}_{rng.integers(1e6):06d}"
        for k in range(n_keyframes):
            ts = f"{902 + k:04d}"
            n_person = int(rng.integers(0, 4))
            if n_person == 0:
                gt_lines.append(f"{vid},{ts}")
            xy = rng.uniform(0, 0.6, (max(n_person, 1), 2))
            wh = rng.uniform(0.1, 0.4, (max(n_person, 1), 2))
            boxes = np.concatenate([xy, xy + wh], axis=1).round(3)
            for p in range(n_person):
                for a in rng.choice(ids, int(rng.integers(1, 4)), replace=False):
                    b = boxes[p]
                    gt_lines.append(f"{vid},{ts},{b[0]},{b[1]},{b[2]},{b[3]},{a},{p}")
            src = boxes[rng.integers(0, len(boxes), per_keyframe)]
            jit = src + rng.uniform(-0.05, 0.05, src.shape)
            rnd = rng.random(per_keyframe) < 0.3
            jit[rnd, :2] = rng.uniform(0, 0.6, (int(rnd.sum()), 2))
            jit[rnd, 2:] = jit[rnd, :2] + rng.uniform(0.05, 0.4, (int(rnd.sum()), 2))
            lab = rng.choice(ids, per_keyframe)
            sc = rng.random(per_keyframe)
            for b, a, s in zip(jit.round(4).tolist(), lab.tolist(), sc.tolist(), strict=True):
                det_lines.append(f"{vid},{ts},{b[0]},{b[1]},{b[2]},{b[3]},{a},{s:.8f}")
    (folder / "ava_gt.csv").write_text("\n".join(gt_lines) + "\n")
    (folder / "ava_dets.csv").write_text("\n".join(det_lines) + "\n")
    return len(gt_lines), len(det_lines)


def _ava_official(official: Path, python: str, lm: Path, gt: Path, dets: Path):
    env = dict(os.environ, PYTHONPATH=f"{official / 'ava'}:{official}")
    t0 = time.perf_counter()
    p = subprocess.run(
        [python, "get_ava_performance.py", "-l", str(lm), "-g", str(gt), "-d", str(dets)],
        cwd=official,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"official AVA script failed: {p.stderr[-2000:]}")
    d = ast.literal_eval(re.sub(r"\bnan\b", "None", p.stdout))
    ap = {k.split("IOU/", 1)[1]: v for k, v in d.items() if "PerformanceByCategory" in k}
    return wall, ap


def bench_ava(args, tmp: Path) -> None:
    n_gt, n_det = make_ava(tmp)
    lm = tmp / "labelmap.pbtxt"
    from attnviz.io.datasets import resolve_gt

    lm.write_text(resolve_gt("ava-v2.1", must_exist=False).classes.read_text())

    def run():
        return evaluate_ava(
            read_ava_boxes(tmp / "ava_gt.csv"), read_ava_boxes(tmp / "ava_dets.csv"),
            default_label_map(),
        )  # fmt: skip

    t_fast, res = _best(run, args.repeat)
    print(
        f"AVA: {n_det} detections, {n_gt} ground-truth rows; attnviz end to end (read + "
        f"evaluate), best of {args.repeat}: {t_fast:.2f}s, mAP {res.mAP[0]:.4f}",
        flush=True,
    )
    official = _official_dir(args.ava_official, "ATTNVIZ_AVA_OFFICIAL", "get_ava_performance.py")
    python = args.official_python or os.environ.get("ATTNVIZ_OFFICIAL_PYTHON")
    if official is None or not python:
        print(
            "AVA official script not measured: give --ava-official (ActivityNet's Evaluation "
            "folder) and --official-python (numpy < 1.24)"
        )
        return
    t_off, ap = _ava_official(official, python, lm, tmp / "ava_gt.csv", tmp / "ava_dets.csv")
    diffs = [
        abs(res.ap[k, 0] - ap[n]) for k, n in enumerate(res.class_names) if ap.get(n) is not None
    ]
    print(
        f"AVA official get_ava_performance.py: {t_off:.2f}s -> attnviz {t_off / t_fast:.1f}x "
        f"faster; max |dAP| over {len(diffs)} classes {max(diffs):.1e} (equal scores in lists "
        "longer than 16 are ordered by numpy's unstable sort there)",
        flush=True,
    )


# --------------------------------------------------------------------------- ActivityNet
def make_anet(n_videos: int = 5000, n_classes: int = 200, n_dets: int = 120_000):
    """Synthetic ActivityNet-1.3-like validation set (1-3 instances per video) and ``n_dets``
    detections (a third jittered instances, the rest random segments of random classes, 8-decimal
    scores; a few on videos outside the subset)."""
    rng = np.random.default_rng(1)
    names = tuple(f"class {i:03d}" for i in range(n_classes))
    per = rng.integers(1, 4, n_videos)
    vid = np.repeat(np.arange(n_videos), per)
    dur = rng.uniform(30, 240, n_videos)
    s = rng.uniform(0, 0.7, len(vid)) * dur[vid]
    e = np.minimum(s + rng.uniform(0.05, 0.5, len(vid)) * dur[vid], dur[vid])
    lab = rng.integers(0, n_classes, len(vid))
    videos = np.asarray([f"v_{i:05d}" for i in range(n_videos + 50)], dtype=object)
    gt = TemporalGroundTruth(
        class_names=names,
        class_ids=tuple(range(n_classes)),
        video=videos[vid],
        start=s.round(2),
        end=e.round(2),
        label=lab,
        videos=tuple(videos[:n_videos].tolist()),
        subset="validation",
    )
    n1 = n_dets // 3
    src = rng.integers(0, len(vid), n1)
    length = (e - s)[src]
    d_vid = np.concatenate([vid[src], rng.integers(0, n_videos + 50, n_dets - n1)])
    ds = np.concatenate(
        [s[src] + rng.uniform(-0.3, 0.3, n1) * length, rng.uniform(0, 200, n_dets - n1)]
    )
    de = np.concatenate(
        [e[src] + rng.uniform(-0.3, 0.3, n1) * length, ds[n1:] + rng.uniform(1, 60, n_dets - n1)]
    )
    d_lab = np.concatenate([lab[src], rng.integers(0, n_classes, n_dets - n1)])
    order = np.argsort(d_vid, kind="stable")  # results files list detections video by video
    dets = TemporalDetections.from_arrays(
        videos[d_vid][order],
        ds.round(2)[order],
        de.round(2)[order],
        d_lab[order],
        rng.random(n_dets).round(8),
    )
    return gt, dets


def numpy_activitynet(gt: TemporalGroundTruth, dets: TemporalDetections, tiou) -> np.ndarray:
    """A plain numpy implementation of ``eval_detection.py``: per class, detections sorted by
    ``argsort()[::-1]`` (stable), candidate ground truths of the same video found by one sorted
    join, then one Python step per detection that has candidates, all thresholds at once (the
    first free ground truth in descending tIoU with tIoU >= threshold). Returns ``ap [K, T]``."""
    thr = np.asarray(tiou, dtype=np.float64)[:, None]
    names = np.concatenate([gt.video, dets.video]).astype(str)
    _, codes = np.unique(names, return_inverse=True)
    g_vid, d_vid = codes[: len(gt)], codes[len(gt) :]
    ap = np.zeros((len(gt.class_names), len(thr)))
    d_lab = dets.label
    for c in range(len(gt.class_names)):
        gi = np.flatnonzero(gt.label == c)
        npos = len(gi)
        if npos == 0:
            continue
        di = np.flatnonzero(d_lab == c)
        di = di[np.argsort(dets.score[di], kind="stable")[::-1]]
        go = gi[np.argsort(g_vid[gi], kind="stable")]
        gv = g_vid[go]
        lo = np.searchsorted(gv, d_vid[di], "left")
        hi = np.searchsorted(gv, d_vid[di], "right")
        tp = np.zeros((len(thr), len(di)), dtype=bool)
        lock = np.zeros((len(thr), npos), dtype=bool)
        g_start, g_end = gt.start[go], gt.end[go]
        pos = np.empty(len(gt), dtype=np.int64)
        pos[go] = np.arange(npos)
        for j in np.flatnonzero(hi > lo).tolist():
            a, b = lo[j], hi[j]
            ds, de = dets.start[di[j]], dets.end[di[j]]
            inter = np.clip(np.minimum(de, g_end[a:b]) - np.maximum(ds, g_start[a:b]), 0, None)
            union = (g_end[a:b] - g_start[a:b]) + (de - ds) - inter
            with np.errstate(divide="ignore", invalid="ignore"):
                iou = inter / union
            o = np.argsort(iou, kind="stable")[::-1]
            cand = np.arange(a, b)[o]
            ok = ~(iou[o][None, :] < thr) & ~lock[:, cand]
            hit = ok.any(axis=1)
            first = ok.argmax(axis=1)
            rows = np.flatnonzero(hit)
            lock[rows, cand[first[rows]]] = True
            tp[rows, j] = True
        tps = np.cumsum(tp, axis=1, dtype=np.float64)
        fps = np.cumsum(~tp, axis=1, dtype=np.float64)
        for t in range(len(thr)):
            rec = np.concatenate(([0.0], tps[t] / npos, [1.0]))
            prec = np.concatenate(([0.0], tps[t] / (tps[t] + fps[t]), [0.0]))
            prec = np.maximum.accumulate(prec[::-1])[::-1]
            idx = np.flatnonzero(rec[1:] != rec[:-1]) + 1
            ap[c, t] = np.sum((rec[idx] - rec[idx - 1]) * prec[idx])
    return ap


def _write_anet(folder: Path, gt: TemporalGroundTruth, dets: TemporalDetections) -> None:
    from attnviz.io.activitynet import write_activitynet_results

    db: dict = {}
    for v in list(gt.videos) + [f"v_train_{i}" for i in range(100)]:
        db[v] = {"subset": "validation" if v in gt.videos else "training", "annotations": []}
    for v, s, e, k in zip(gt.video, gt.start.tolist(), gt.end.tolist(), gt.label, strict=True):
        db[v]["annotations"].append({"segment": [s, e], "label": gt.class_names[k]})
    (folder / "anet_gt.json").write_text(
        json.dumps({"version": "VERSION 1.3", "taxonomy": [], "database": db})
    )
    write_activitynet_results(folder / "anet_results.json", dets, gt.class_names)


_ANET_DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from eval_detection import ANETdetection
d = ANETdetection(sys.argv[2], sys.argv[3], subset="validation", check_status=False)
d.evaluate()
print(json.dumps({"average_mAP": float(d.average_mAP)}))
"""


def bench_anet(args, tmp: Path) -> None:
    gt, dets = make_anet()
    t_np, ref = _best(lambda: numpy_activitynet(gt, dets, ANET_TIOU), 1)
    t_fast, res = _best(lambda: evaluate_activitynet(gt, dets), args.repeat)
    diff = float(np.abs(res.ap - ref).max())
    print(
        f"ActivityNet-1.3: {len(dets)} detections, {len(gt)} instances, {len(gt.class_names)} "
        f"classes, 10 thresholds; attnviz evaluate (best of {args.repeat}) {t_fast:.3f}s, "
        f"numpy reference {t_np:.3f}s -> ratio {t_fast / t_np:.2f}x (agree: max |dAP| "
        f"{diff:.1e}; average mAP {res.extra['average_mAP']:.4f})",
        flush=True,
    )
    if diff > 1e-12:
        raise SystemExit(f"attnviz and the numpy reference disagree by {diff}")
    official = _official_dir(args.anet_official, "ATTNVIZ_ANET_OFFICIAL", "eval_detection.py")
    python = args.official_python or os.environ.get("ATTNVIZ_OFFICIAL_PYTHON")
    _write_anet(tmp, gt, dets)

    def end_to_end():
        truth = read_activitynet_gt(tmp / "anet_gt.json")
        return evaluate_activitynet(
            truth, read_activitynet_results(tmp / "anet_results.json", truth.class_names)
        )

    t_e2e, res2 = _best(end_to_end, args.repeat)
    print(f"ActivityNet-1.3 attnviz end to end (read JSON + evaluate): {t_e2e:.2f}s", flush=True)
    if official is None or not python:
        print(
            "ActivityNet official eval_detection.py not measured: give --anet-official (a "
            "Python-3 copy of Evaluation/eval_detection.py and utils.py) and --official-python"
        )
        return
    # one process per class (joblib, 200 of them) only thrashes a small machine: the official
    # code runs its classes in one process here (JOBLIB_MULTIPROCESSING=0), as on 1-2 cores
    env = dict(os.environ, JOBLIB_MULTIPROCESSING=os.environ.get("JOBLIB_MULTIPROCESSING", "0"))
    t0 = time.perf_counter()
    p = subprocess.run(
        [python, "-c", _ANET_DRIVER, str(official), str(tmp / "anet_gt.json"),
         str(tmp / "anet_results.json")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    t_off = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(f"official eval_detection.py failed: {p.stderr[-2000:]}")
    off = json.loads(p.stdout.strip().splitlines()[-1])["average_mAP"]
    print(
        f"ActivityNet-1.3 official eval_detection.py: {t_off:.2f}s -> attnviz {t_off / t_e2e:.1f}x "
        f"faster; average mAP {off:.6f} vs {res2.extra['average_mAP']:.6f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["ava", "anet"], default=None)
    parser.add_argument("--repeat", type=int, default=3, help="attnviz runs (best)")
    parser.add_argument("--ava-official", default=None)
    parser.add_argument("--anet-official", default=None)
    parser.add_argument("--official-python", default=None)
    args = parser.parse_args([] if argv is None and __name__ != "__main__" else argv)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"{os.cpu_count()} CPUs visible, load average {load}")
    with tempfile.TemporaryDirectory(prefix="attnviz-bench-") as d:
        if args.only in (None, "ava"):
            bench_ava(args, Path(d))
        if args.only in (None, "anet"):
            bench_anet(args, Path(d))


if __name__ == "__main__":
    sys.exit(main())
