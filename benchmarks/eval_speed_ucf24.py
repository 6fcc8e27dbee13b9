"""UCF101-24 evaluator speed: frame-mAP on 500,000 detections over the real test ground truth at
6 IoU thresholds, video-mAP on 10,000 tubes, under every protocol, each against a
straightforward per-detection Python loop of the same protocol written here (checked to give the
same numbers) and measured in the same run; peak memory of each attnviz evaluation
(tracemalloc, a separate run) and of the whole process, and the time to load the 500,000-row CSV.

Run: ``python benchmarks/eval_speed_ucf24.py [--frames 500000] [--tubes 10000] [--skip-loops]``
(or ``python benchmarks/eval_speed.py --only ucf24``). Reads the UCF101-24 ground truth that
ships with attnviz (``ucf101-24``). Targets: frame-mAP at 6 thresholds < 2 s after loading,
video-mAP for 10,000 tubes < 5 s, memory < 1 GB, the CSV in about a second.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from attnviz.evaluate.ucf24 import frame_map, video_map
from attnviz.io.datasets import resolve_gt
from attnviz.io.detections import read_frame_detections, write_frame_detections
from attnviz.io.spatial_gt import read_spatial_gt
from attnviz.types import FrameDetections, Tube

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75)


# --------------------------------------------------------------------------- inputs
def make_frame_detections(gt, n: int, seed: int = 0) -> FrameDetections:
    """``n`` detections on the test split: jittered copies of the ground-truth boxes (right and
    wrong class), and boxes at random on random frames (many without ground truth)."""
    rng = np.random.default_rng(seed)
    vids, frames, labels, boxes = [], [], [], []
    for v in gt.test_videos:
        for t in gt.videos[v].tubes:
            b = np.asarray(t.boxes)
            vids.append(np.full(len(b), v, dtype=object))
            frames.append(b[:, 0].astype(np.int64))
            labels.append(np.full(len(b), t.label))
            boxes.append(b[:, 1:5])
    vids, frames = np.concatenate(vids), np.concatenate(frames)
    labels, boxes = np.concatenate(labels), np.concatenate(boxes)
    n_true = min(n, int(0.7 * n))
    pick = rng.integers(0, len(vids), n_true)
    wh = (boxes[pick, 2:] - boxes[pick, :2] + 1).repeat(2, axis=1)
    jb = boxes[pick] + rng.normal(0, 0.15, (n_true, 4)) * wh
    lab = np.where(rng.random(n_true) < 0.85, labels[pick], rng.integers(0, 24, n_true))
    n_false = n - n_true
    test = list(gt.test_videos)
    fv = rng.integers(0, len(test), n_false)
    nf = np.array([gt.videos[test[i]].nframes for i in fv])
    ff = (rng.random(n_false) * nf).astype(np.int64) + 1
    xy = rng.uniform(0, 250, (n_false, 2))
    fb = np.hstack([xy, xy + rng.uniform(5, 100, (n_false, 2))])
    video = np.concatenate([vids[pick], np.array([test[i] for i in fv], dtype=object)])
    box = np.vstack([jb, fb]).round(2)
    box[:, 2] = np.maximum(box[:, 2], box[:, 0])
    box[:, 3] = np.maximum(box[:, 3], box[:, 1])
    order = rng.permutation(n)
    return FrameDetections.from_arrays(
        video[order],
        np.concatenate([frames[pick], ff])[order],
        np.concatenate([lab, rng.integers(0, 24, n_false)])[order],
        rng.random(n),
        box[order],
    )


def make_tubes(gt, n: int, seed: int = 1) -> list[Tube]:
    """``n`` tubes: ground-truth tubes shifted in time and jittered (several per tube), and
    tubes at random."""
    rng = np.random.default_rng(seed)
    src = [(v, t) for v in gt.test_videos for t in gt.videos[v].tubes]
    out = []
    for k in range(n):
        if k % 5 == 4:
            v = gt.test_videos[int(rng.integers(len(gt.test_videos)))]
            nf = gt.videos[v].nframes
            s = int(rng.integers(1, nf + 1))
            e = min(nf, s + int(rng.integers(0, 60)))
            x, y = rng.uniform(0, 250, 2)
            b = np.tile([x, y, x + 40, y + 60], (e - s + 1, 1)) + rng.normal(0, 2, (e - s + 1, 4))
            fr = np.arange(s, e + 1)
            lab = int(rng.integers(24))
        else:
            v, t = src[int(rng.integers(len(src)))]
            nf = gt.videos[v].nframes
            g = np.asarray(t.boxes)
            g0, g1 = int(g[0, 0]), int(g[-1, 0])
            span = max(1, (g1 - g0) // 4)
            s = min(nf, max(1, g0 + int(rng.integers(-span, span + 1))))
            e = min(nf, max(s, g1 + int(rng.integers(-span, span + 1))))
            fr = np.arange(s, e + 1)
            base = g[np.clip(fr - g0, 0, len(g) - 1), 1:5]
            wh = (base[:, 2:] - base[:, :2] + 1).repeat(2, axis=1)
            b = base + rng.normal(0, 0.1, base.shape) * wh
            lab = t.label if rng.random() < 0.85 else int(rng.integers(24))
        b[:, 2] = np.maximum(b[:, 2], b[:, 0])
        b[:, 3] = np.maximum(b[:, 3], b[:, 1])
        out.append(Tube(v, lab, float(rng.random()), np.column_stack([fr, b])))
    return out


# --------------------------------------------------------------------------- loop references
def _iou_plus_one(g, d):
    w = min(g[2] + 1, d[2] + 1) - max(g[0], d[0])
    h = min(g[3] + 1, d[3] + 1) - max(g[1], d[1])
    ov = max(0.0, w) * max(0.0, h)
    return ov / ((g[2] - g[0] + 1) * (g[3] - g[1] + 1) + (d[2] - d[0] + 1) * (d[3] - d[1] + 1) - ov)


def _iou_odm(d, g):
    if d[0] > g[2] or g[0] > d[2] or d[3] < g[1] or d[1] > g[3]:
        return 0.0
    inter = (min(d[2], g[2]) - max(d[0], g[0]) + 1) * (min(d[3], g[3]) - max(d[1], g[1]) + 1)
    return inter / ((d[2] - d[0] + 1) * (d[3] - d[1] + 1) + (g[2] - g[0] + 1) * (g[3] - g[1] + 1)
                    - inter)  # fmt: skip


def _iou_coco(d, g):
    dx, dy, dw, dh = d[0], d[1], d[2] - d[0], d[3] - d[1]
    gx, gy, gw, gh = g[0], g[1], g[2] - g[0], g[3] - g[1]
    w = min(dw + dx, gw + gx) - max(dx, gx)
    h = min(dh + dy, gh + gy) - max(dy, gy)
    if w <= 0 or h <= 0:
        return 0.0
    i = w * h
    return i / (dw * dh + gw * gh - i)


def _ap_trapezoid_f32(tp, npos):
    pr = np.empty((len(tp) + 1, 2), dtype=np.float32)
    pr[0] = (1.0, 0.0)
    ntp = 0
    for i, hit in enumerate(tp):
        ntp += hit
        pr[i + 1] = (ntp / (i + 1), ntp / npos if npos else 0.0)
    return float(np.sum((pr[1:, 1] - pr[:-1, 1]) * (pr[1:, 0] + pr[:-1, 0]) * np.float32(0.5)))


def _ap_every_point(rec, prec):
    mrec = [0.0, *rec, 1.0]
    mpre = [0.0, *prec, 0.0]
    for i in range(len(mpre) - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    ap = 0.0
    for i in range(1, len(mrec)):
        if mrec[i] != mrec[i - 1]:
            ap += (mrec[i] - mrec[i - 1]) * mpre[i]
    return ap


def _ap_coco(tp, fp, npos):
    tps = np.cumsum(tp)
    fps = np.cumsum(fp)
    rc = tps / npos
    pr = list(tps / (fps + tps + np.spacing(1)))
    for i in range(len(pr) - 1, 0, -1):
        pr[i - 1] = max(pr[i - 1], pr[i])
    q = []
    for r in np.linspace(0.0, 1.00, 101):
        k = int(np.searchsorted(rc, r, side="left"))
        q.append(pr[k] if k < len(pr) else 0.0)
    return float(np.mean(q))


def loop_frame_map(gt, dets: FrameDetections, protocol: str, thresholds) -> np.ndarray:
    """Per-detection loop of ``protocol`` (act, voc, coco): ``ap [K, T]``."""
    k = len(gt.labels)
    ap = np.zeros((k, len(thresholds)))
    vsorted = {v: i for i, v in enumerate(sorted(gt.test_videos))}
    video, frame = dets.video.tolist(), dets.frame.tolist()
    score, boxes = dets.score.tolist(), dets.boxes.tolist()
    by_class: dict[int, list[int]] = {}
    for i, c in enumerate(dets.label.tolist()):
        by_class.setdefault(c, []).append(i)
    gt_by_class: dict[int, dict] = {c: {} for c in range(k)}
    for v in gt.test_videos:
        for t in gt.videos[v].tubes:
            for r in np.asarray(t.boxes).tolist():
                gt_by_class[t.label].setdefault((v, int(r[0])), []).append(r[1:5])
    for c in range(k):
        gtb = gt_by_class[c]
        npos = sum(len(b) for b in gtb.values())
        idx = by_class.get(c, [])
        if protocol == "act":
            idx.sort(key=lambda i: -score[i])
        elif protocol == "voc":
            idx.sort(key=lambda i: video[i].replace("/", "_") + f"_{frame[i]:05d}")
            idx.sort(key=lambda i: -score[i])
        else:
            idx.sort(key=lambda i: (vsorted[video[i]], frame[i]))
            idx.sort(key=lambda i: -score[i])
        for j, th in enumerate(thresholds):
            taken = {key: [False] * len(b) for key, b in gtb.items()}
            per_image: dict = {}
            tp, fp = [], []
            for i in idx:
                key = (video[i], frame[i])
                d = boxes[i]
                g = gtb.get(key, [])
                if protocol == "act":
                    best, arg = -1.0, -1
                    for m, box in enumerate(g):
                        if not taken[key][m]:
                            o = _iou_plus_one(box, d)
                            if o > best:
                                best, arg = o, m
                    hit = arg >= 0 and best >= th
                elif protocol == "voc":
                    best, arg = 2.2250738585072014e-308, -1
                    for m, box in enumerate(g):
                        o = _iou_odm(d, box)
                        if o > best:
                            best, arg = o, m
                    hit = arg >= 0 and best >= th and not taken[key][arg]
                else:
                    per_image[key] = per_image.get(key, 0) + 1
                    if per_image[key] > 100:
                        continue
                    best, arg = min(th, 1 - 1e-10), -1
                    for m, box in enumerate(g):
                        if taken[key][m]:
                            continue
                        o = _iou_coco(d, box)
                        if o < best:
                            continue
                        best, arg = o, m
                    hit = arg >= 0
                if hit:
                    taken[key][arg] = True
                tp.append(hit)
                fp.append(not hit)
            if protocol == "act":
                ap[c, j] = _ap_trapezoid_f32(tp, npos)
            elif npos == 0:
                ap[c, j] = 0.0
            elif protocol == "voc":
                ctp = np.cumsum(tp)
                cfp = np.cumsum(fp)
                ap[c, j] = _ap_every_point(list(ctp / npos), list(ctp / (ctp + cfp)))
            else:
                ap[c, j] = _ap_coco(np.array(tp, float), np.array(fp, float), npos)
    return ap


def _tube_iou(g, d, convention):
    t0, t1 = max(g[0, 0], d[0, 0]), min(g[-1, 0], d[-1, 0])
    if t1 < t0 or (convention != "act" and t1 == t0):
        return 0.0
    inter = t1 - t0 + 1
    union = max(g[-1, 0], d[-1, 0]) - min(g[0, 0], d[0, 0]) + 1
    gs = g[int(t0 - g[0, 0]) : int(t1 - g[0, 0]) + 1]
    ds = d[int(t0 - d[0, 0]) : int(t1 - d[0, 0]) + 1]
    if convention == "matlab":
        s = 0.0
        for a, b in zip(gs, ds, strict=True):
            gx, gy, gw, gh = a[1], a[2], a[3] - a[1], a[4] - a[2]
            dx, dy, dw, dh = b[1] + 1, b[2] + 1, b[3] - b[1] + 1, b[4] - b[2] + 1
            iw = max(0.0, min(gx + gw, dx + dw) - max(gx, dx))
            ih = max(0.0, min(gy + gh, dy + dh) - max(gy, dy))
            i = iw * ih
            s += i / (gw * gh + dw * dh - i + 2.220446049250313e-16)
        return (inter / union) * (s / len(gs))
    m = float(np.mean([_iou_plus_one(a[1:], b[1:]) for a, b in zip(gs, ds, strict=True)]))
    return m * (inter / union) if convention == "act" else m * inter / union


def loop_video_map(gt, tubes, protocol: str, thresholds) -> np.ndarray:
    """Per-tube loop of ``protocol`` (act with NMS 0.3, voc, ucf24-matlab): ``ap [K, T]``."""
    k = len(gt.labels)
    conv = {"act": "act", "voc": "yowo", "ucf24-matlab": "matlab"}[protocol]
    tubes = list(tubes)
    if protocol == "act":  # 3D NMS per video and class
        keep = []
        groups: dict = {}
        for i, t in enumerate(tubes):
            groups.setdefault((t.video, t.label), []).append(i)
        for idx in groups.values():
            rest = sorted(idx, key=lambda i: -tubes[i].score)
            while rest:
                i = rest.pop(0)
                keep.append(i)
                rest = [j for j in rest if _tube_iou(tubes[j].boxes, tubes[i].boxes, "act") <= 0.3]
        tubes = [tubes[i] for i in sorted(keep)]
    vrank = {v: i for i, v in enumerate(gt.test_videos)}
    ap = np.zeros((k, len(thresholds)))
    for c in range(k):
        g = {v: [t.boxes for t in gt.videos[v].tubes if t.label == c] for v in gt.test_videos}
        npos = sum(len(x) for x in g.values())
        cand = [t for t in tubes if t.label == c]
        if protocol == "ucf24-matlab":
            cand.sort(key=lambda t: -t.score)
            cand.sort(key=lambda t: vrank[t.video])
            cand.sort(key=lambda t: -float(np.float32(t.score)))
        else:
            cand.sort(key=lambda t: -t.score)
        for j, th in enumerate(thresholds):
            left = {v: list(range(len(x))) for v, x in g.items()}
            hits = []
            for t in cand:
                best, arg = -math.inf, -1
                for m in left[t.video]:
                    o = _tube_iou(g[t.video][m], t.boxes, conv)
                    if o > best:
                        best, arg = o, m
                hit = arg >= 0 and (best > th if protocol == "ucf24-matlab" else best >= th)
                if hit:
                    left[t.video].remove(arg)
                hits.append(hit)
            if protocol == "act":
                ap[c, j] = _ap_trapezoid_f32(hits, npos)
            elif protocol == "voc":
                pr = np.empty((len(hits) + 1, 2), dtype=np.float32)
                pr[0] = (1.0, 0.0)
                ntp = 0
                for i, h in enumerate(hits):
                    ntp += h
                    pr[i + 1] = (ntp / (i + 1), ntp / (npos + 1e-5))
                ap[c, j] = _ap_every_point(pr[:, 1].tolist(), pr[:, 0].tolist())
            elif npos and hits:
                ctp = np.cumsum(hits)
                ap[c, j] = _ap_every_point(
                    list(ctp / npos), list(ctp / np.arange(1, len(hits) + 1))
                )
    return ap


# --------------------------------------------------------------------------- the run
def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _timed2(fn):
    """(result, wall seconds, CPU seconds of this process): on a shared machine the CPU time
    is the cost of the code itself."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def _peak(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500_000)
    parser.add_argument("--tubes", type=int, default=10_000)
    parser.add_argument("--skip-loops", action="store_true", help="Only time attnviz.")
    args, _ = parser.parse_known_args(argv)  # eval_speed.py passes its own options
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs (wall time is shared; CPU time is not)")
    gt, t_gt = _timed(lambda: read_spatial_gt(resolve_gt("ucf101-24").path))
    print(f"ground truth (pyannot.pkl.gz, restricted unpickler): {t_gt:.2f} s", flush=True)
    dets = make_frame_detections(gt, args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "dets.csv"
        write_frame_detections(csv, dets, gt.labels)
        loaded, t_csv, c_csv = _timed2(lambda: read_frame_detections(csv, gt))
    assert np.array_equal(loaded.boxes, dets.boxes) and np.array_equal(loaded.label, dets.label)
    print(
        f"CSV of {len(dets):,} rows (class names, checked against the GT): {t_csv:.2f} s wall, "
        f"{c_csv:.2f} s CPU"
    )
    head = "attnviz wall/CPU s  loop wall/CPU s  speed-up (CPU)  max |AP diff|  peak MiB"
    print(f"\nframe-mAP, {len(dets):,} detections x {len(THRESHOLDS)} thresholds")
    print(f"{'protocol':12s}  {head}")
    _run(args, ("act", "voc", "coco"), frame_map, loop_frame_map, gt, loaded)
    tubes = make_tubes(gt, args.tubes)
    print(f"\nvideo-mAP, {len(tubes):,} tubes x {len(THRESHOLDS)} thresholds")
    print(f"{'protocol':12s}  {head}")
    _run(args, ("act", "voc", "ucf24-matlab"), video_map, loop_video_map, gt, tubes)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux
    print(f"\npeak resident memory of this whole run (inputs, loops included): {rss:.0f} MiB")


def _run(args, protocols, fast, loop, gt, data) -> None:
    for p in protocols:
        r, t_a, c_a = _timed2(lambda p=p: fast(gt, data, protocol=p, iou=THRESHOLDS))
        mem = _peak(lambda p=p: fast(gt, data, protocol=p, iou=THRESHOLDS))
        line = f"{p:12s}  {t_a:8.2f} / {c_a:6.2f}"
        if args.skip_loops:
            print(f"{line}  {'-':>15s}  {'-':>14s}  {'-':>13s}  {mem:8.0f}", flush=True)
            continue
        ref, t_l, c_l = _timed2(lambda p=p: loop(gt, data, p, THRESHOLDS))
        diff = float(np.abs(r.ap - ref).max())
        print(
            f"{line}  {t_l:7.1f} / {c_l:5.1f}  {c_l / c_a:13.0f}x  {diff:13.2g}  {mem:8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
