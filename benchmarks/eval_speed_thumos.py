"""THUMOS14 evaluator speed: 200,000 detections over the real test ground truth, the three
protocols at 7 thresholds, each against a straightforward per-detection Python loop of the same
protocol (written below, used as the reference) measured in the same run. The two must agree.

The ActivityNet protocol is also timed against a plain numpy implementation of it
(``numpy_activitynet`` of ``benchmarks/eval_speed_ava_anet.py``: the official algorithm on numpy
arrays, one Python step per detection that has a ground truth of its class in its video), the
reference of issue 18: attnviz at most 1.0x its time, and every protocol in at most 1 s.

Run: ``python benchmarks/eval_speed_thumos.py [--detections 200000] [--repeat 3]``
(also called by ``benchmarks/eval_speed.py``). Reads the THUMOS14 test annotations that ship
with attnviz (``thumos14``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from attnviz.evaluate.thumos import PROTOCOLS, evaluate_thumos
from attnviz.io.datasets import resolve_gt
from attnviz.io.thumos import read_thumos_gt
from attnviz.types import TemporalDetections, TemporalGroundTruth

TIOU = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
MATLAB_RECALL_POINTS = (0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


# --------------------------------------------------------------------------- test data
def make_detections(gt: TemporalGroundTruth, n: int, seed: int = 0) -> TemporalDetections:
    """``n`` detections on the ground truth's videos: a third are jittered copies of ground-truth
    instances (a tenth of those with another class), the rest random segments; scores rounded to
    3 decimals (so that equal scores occur), a few reversed and zero-length segments, a few
    videos unknown to the ground truth, some names with ``.mp4``."""
    rng = np.random.default_rng(seed)
    k = len(gt.class_names)
    videos = np.asarray(sorted(set(gt.video.tolist())), dtype=object)
    n_copy = n // 3
    src = rng.integers(0, len(gt), n_copy)
    length = gt.end[src] - gt.start[src]
    jitter = rng.uniform(-0.5, 0.5, (n_copy, 2)) * length[:, None]
    s1 = gt.start[src] + jitter[:, 0]
    e1 = gt.end[src] + jitter[:, 1]
    lab1 = np.where(rng.random(n_copy) < 0.1, rng.integers(0, k, n_copy), gt.label[src])
    v1 = gt.video[src]
    n_rand = n - n_copy
    v2 = videos[rng.integers(0, len(videos), n_rand)]
    s2 = rng.uniform(0, 600, n_rand)
    e2 = s2 + rng.exponential(8.0, n_rand)
    lab2 = rng.integers(0, k, n_rand)
    video = np.concatenate([v1, v2]).astype(object)
    start = np.round(np.concatenate([s1, s2]), 2)
    end = np.round(np.concatenate([e1, e2]), 2)
    label = np.concatenate([lab1, lab2])
    score = np.round(rng.random(n), 3)
    odd = rng.random(n)
    rev = odd < 0.002
    start[rev], end[rev] = end[rev], start[rev].copy()
    zero = (odd >= 0.002) & (odd < 0.003)
    end[zero] = start[zero]
    unknown = (odd >= 0.003) & (odd < 0.004)
    video[unknown] = "video_test_9999999"
    mp4 = (odd >= 0.004) & (odd < 0.01)
    video[mp4] = np.asarray([v + ".mp4" for v in video[mp4].tolist()], dtype=object)
    perm = rng.permutation(n)
    return TemporalDetections.from_arrays(
        video[perm], start[perm], end[perm], label[perm], score[perm]
    )


# --------------------------------------------------------------------------- loop references
def _thumos_ov(a0, a1, b0, b1):
    a0, a1 = min(a0, a1), max(a0, a1)
    b0, b1 = min(b0, b1), max(b0, b1)
    iw = min(a1, b1) - max(a0, b0)
    return iw / (max(a1, b1) - min(a0, b0)) if iw > 0 else 0.0


def _anet_iou(d0, d1, g0, g1):
    inter = max(min(d1, g1) - max(d0, g0), 0.0)
    union = (g1 - g0) + (d1 - d0) - inter
    return inter / union if union != 0 else float("nan")


def loop_thumos(gt: TemporalGroundTruth, dets: TemporalDetections, tiou, kit: str) -> np.ndarray:
    """The THUMOS14 kit (``kit`` = ``2015`` or ``2014``), one detection at a time."""
    strip = ".mp4" if kit == "2015" else ".mpeg"
    dvid = [v.replace(strip, "") for v in dets.video.tolist()]
    dstart, dend, dlab, dscore = (
        dets.start.tolist(),
        dets.end.tolist(),
        dets.label.tolist(),
        dets.score.tolist(),
    )
    videos = sorted(set(dvid) | set(gt.video.tolist()) | set(gt.ambiguous))
    amb = {v: [tuple(s) for s in segs.tolist()] for v, segs in gt.ambiguous.items()}
    k = len(gt.class_names)
    ap = np.zeros((k, len(tiou)))
    for c in range(k):
        gts: dict[str, list[tuple[float, float]]] = {}
        for v, s, e, lab in zip(gt.video, gt.start, gt.end, gt.label, strict=True):
            if lab == c:
                gts.setdefault(v, []).append((s, e))
        npos = sum(len(g) for g in gts.values())
        if npos == 0:  # the kits assert npos > 0; attnviz reports 0
            continue
        mine: dict[str, list[int]] = {}
        for i in range(len(dvid)):
            if dlab[i] == c:
                mine.setdefault(dvid[i], []).append(i)
        for ti, thr in enumerate(tiou):
            conf, flag = [], []
            for v in videos:
                d = sorted(mine.get(v, []), key=lambda i: -dscore[i])
                if not d:
                    continue
                free = [True] * len(d)
                for g0, g1 in gts.get(v, []):
                    best, bj = -1.0, -1
                    for j, i in enumerate(d):
                        if free[j]:
                            o = _thumos_ov(g0, g1, dstart[i], dend[i])
                            if o > best:
                                best, bj = o, j
                    if bj >= 0 and best > thr:
                        free[bj] = False
                for j, i in enumerate(d):
                    if free[j] and any(
                        _thumos_ov(a0, a1, dstart[i], dend[i]) > 0 for a0, a1 in amb.get(v, [])
                    ):
                        continue
                    conf.append(dscore[i])
                    flag.append(not free[j])
            if kit == "2015":
                order = sorted(range(len(conf)), key=lambda i: -conf[i])
                tp, total = 0, 0.0
                for pos, i in enumerate(order, 1):
                    if flag[i]:
                        tp += 1
                        total += tp / pos
                ap[c, ti] = total / npos
            else:
                order = sorted(range(len(conf)), key=lambda i: (-conf[i], not flag[i]))
                rec, prec, tp = [], [], 0
                for pos, i in enumerate(order, 1):
                    tp += flag[i]
                    rec.append(tp / npos)
                    prec.append(tp / pos)
                total = 0.0
                for r in MATLAB_RECALL_POINTS:
                    p = max((p for q, p in zip(rec, prec, strict=True) if q >= r), default=0.0)
                    total += p / len(MATLAB_RECALL_POINTS)
                ap[c, ti] = total
    return np.minimum(ap, 1.0)


def loop_activitynet(gt: TemporalGroundTruth, dets: TemporalDetections, tiou) -> np.ndarray:
    """ActivityNet's ``eval_detection.py``, one detection at a time (ties: stable)."""
    k = len(gt.class_names)
    ap = np.zeros((k, len(tiou)))
    first: dict[str, int] = {}
    for i, v in enumerate(dets.video.tolist()):
        first.setdefault(v, i)
    results = sorted(range(len(dets)), key=lambda i: (first[dets.video[i]], i))
    for c in range(k):
        gts: dict[str, list[int]] = {}
        for g in np.flatnonzero(gt.label == c).tolist():
            gts.setdefault(gt.video[g], []).append(g)
        npos = sum(len(g) for g in gts.values())
        if npos == 0:
            continue
        pred = sorted((i for i in results if dets.label[i] == c), key=lambda i: -dets.score[i])
        lock = [set() for _ in tiou]
        tp = np.zeros((len(tiou), len(pred)))
        for j, i in enumerate(pred):
            cand = gts.get(dets.video[i], [])
            ious = [_anet_iou(dets.start[i], dets.end[i], gt.start[g], gt.end[g]) for g in cand]
            # descending tIoU, nan first, earlier ground truth first among equals
            order = sorted(
                range(len(cand)),
                key=lambda q: (-np.inf if ious[q] != ious[q] else -ious[q], q),
            )
            for ti, thr in enumerate(tiou):
                for q in order:
                    if ious[q] < thr:
                        break
                    if cand[q] in lock[ti]:
                        continue
                    lock[ti].add(cand[q])
                    tp[ti, j] = 1
                    break
        for ti in range(len(tiou)):
            tps = np.cumsum(tp[ti])
            fps = np.cumsum(1 - tp[ti])
            rec = tps / npos
            prec = tps / (tps + fps)
            mprec = [0.0, *prec.tolist(), 0.0]
            mrec = [0.0, *rec.tolist(), 1.0]
            for q in range(len(mprec) - 2, -1, -1):
                mprec[q] = max(mprec[q], mprec[q + 1])
            ap[c, ti] = sum(
                (mrec[q] - mrec[q - 1]) * mprec[q]
                for q in range(1, len(mrec))
                if mrec[q] != mrec[q - 1]
            )
    return np.minimum(ap, 1.0)


def _loop(protocol: str, gt, dets, tiou) -> np.ndarray:
    if protocol == "thumos14":
        return loop_thumos(gt, dets, tiou, "2015")
    if protocol == "thumos14-2014":
        return loop_thumos(gt, dets, tiou, "2014")
    return loop_activitynet(gt, dets, tiou)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detections", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="attnviz runs per protocol (best)")
    args = parser.parse_args([] if argv is None and __name__ != "__main__" else argv)
    gt = read_thumos_gt(resolve_gt("thumos14").path, subset="test")
    dets = make_detections(gt, args.detections)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"{len(dets)} detections, {len(gt)} ground-truth instances, {len(TIOU)} thresholds, "
        f"{os.cpu_count()} CPUs visible, load average {load}; attnviz: best of {args.repeat}, "
        "loop: one run"
    )
    print(f"{'protocol':<14} {'attnviz':>9} {'loop':>9} {'ratio':>7}  agree")
    for protocol in PROTOCOLS:
        t_fast, res = _best(
            lambda p=protocol: evaluate_thumos(gt, dets, protocol=p, tiou=TIOU), args.repeat
        )
        t_loop, ref = _best(lambda p=protocol: _loop(p, gt, dets, TIOU), 1)
        diff = float(np.abs(res.ap - ref).max())
        ok = diff <= 1e-12
        print(
            f"{protocol:<14} {t_fast:8.3f}s {t_loop:8.2f}s {t_loop / t_fast:6.1f}x  "
            f"{'yes' if ok else 'NO'} (max |dAP| {diff:.1e}, mAP@0.5 {res.mAP[4]:.4f})",
            flush=True,
        )
        if not ok:
            raise SystemExit(f"{protocol}: attnviz and the loop reference disagree by {diff}")
        if protocol == "activitynet":
            import sys
            from pathlib import Path

            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from eval_speed_ava_anet import numpy_activitynet

            t_np, ref_np = _best(lambda: numpy_activitynet(gt, dets, TIOU), args.repeat)
            d_np = float(np.abs(res.ap - ref_np).max())
            print(
                f"{'':<14} numpy reference {t_np:.3f}s: attnviz takes {t_fast / t_np:.2f}x its "
                f"time (target <= 1.0; max |dAP| {d_np:.1e}: equal scores are ordered "
                "differently)",
                flush=True,
            )


if __name__ == "__main__":
    main()
