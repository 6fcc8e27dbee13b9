"""Write the small MultiSports-layout inputs of the golden tests (numpy only, deterministic).

Run with the numpy 1.x interpreter that also runs the official script, so that ``gt.pkl`` is a
pickle written by numpy 1.x (``numpy.core`` names)::

    python generate.py OUT_DIR

Files (see README.md for what each exercises):

* ``gt.pkl``: the ground truth in the official layout (``labels``, ``gttubes``, ``nframes``,
  ``train_videos``, ``test_videos`` (a list of one list), ``resolution``).
* ``frame_rules.pkl`` / ``frame_rules.csv``: frame detections ``[N, 8]`` (video index into
  ``test_videos[0]``) and the same rows as CSV with video names.
* ``video_rules.pkl``: video detections ``{label: [(video, score, tube [n, 6])]}``.
* ``frame_ties.pkl`` / ``video_ties.pkl``: heavily tied scores, at most 16 detections per label
  (numpy's quicksort is an insertion sort there, so the official order is the file order).
* ``gt32.pkl``, ``video_rules32.pkl``, ``frame_rules32.pkl``: the same as float32 arrays.
* ``frame_tiediff.pkl``: 40 detections of one label with one score: the official order among
  them is not the file order.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

LABELS = [
    "aerobic kick jump",  # 0 excluded by the official script, has ground truth
    "volleyball spike",  # 1
    "basketball save",  # 2 excluded, has ground truth
    "football pass",  # 3
    "basketball dribble",  # 4
    "volleyball block",  # 5 ground truth only in a train video: absent
    "football shoot",  # 6 no ground truth at all: absent
    "aerobic split jump",  # 7
    "basketball jump ball",  # 8 excluded, no ground truth
    "volleyball defend",  # 9
]
TEST = [  # not sorted: frame detections index videos by their position here
    "volleyball/v_zz_c003",
    "aerobic_gymnastics/v_aa_c001",
    "football/v_ff_c002",
    "basketball/v_bb_c007",
    "aerobic_gymnastics/v_ab_c010",
    "football/v_fg_c004",
]
TRAIN = ["volleyball/v_tr_c001", "basketball/v_tr_c002"]
W, H = 1280.0, 720.0


def _tube(rng, start: int, length: int) -> np.ndarray:
    """A random-walk tube ``[length, 5]`` with decimals (frame, x1, y1, x2, y2)."""
    w, h = rng.uniform(40, 300), rng.uniform(60, 400)
    x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
    rows = []
    for k in range(length):
        x = float(np.clip(x + rng.normal(0, 6), 0, W - w))
        y = float(np.clip(y + rng.normal(0, 4), 0, H - h))
        rows.append([start + k, round(x, 2), round(y, 2), round(x + w, 2), round(y + h, 2)])
    return np.array(rows, dtype=np.float64)


def make_gt(rng) -> dict:
    nframes = {v: int(rng.integers(30, 51)) for v in TEST + TRAIN}
    nframes[TEST[0]] = 40
    plan = {  # labels of each test video; several tubes of one label = several actors
        TEST[0]: [1, 1, 9, 9, 9],
        TEST[1]: [0, 7, 7],
        TEST[2]: [3, 3, 3],
        TEST[3]: [4, 4, 2],
        TEST[4]: [7, 0, 0],
        TEST[5]: [],  # a test video without actions
        TRAIN[0]: [5, 1],
        TRAIN[1]: [4],
    }
    gttubes = {}
    for v, labs in plan.items():
        per = {}
        for lab in labs:
            n = nframes[v]
            length = int(rng.integers(3, 21))
            start = int(rng.integers(1, n - length + 2))
            per.setdefault(lab, []).append(_tube(rng, start, length))
        gttubes[v] = per
    # a single-frame tube, and a tube with a zero-area box (IoU 0/0 in the official code)
    gttubes[TEST[2]][3].append(np.array([[12, 100.0, 100.0, 220.0, 300.0]]))
    flat = _tube(rng, 5, 6)
    flat[2, 3] = flat[2, 1]  # x2 == x1
    flat[2, 4] = flat[2, 2]
    gttubes[TEST[3]][4].append(flat)
    # exact-IoU probes: a 10 x 10 box scaled by 8 (every product exact in binary)
    probe = np.array([[f, 400.0, 200.0, 480.0, 280.0] for f in range(20, 28)])
    gttubes[TEST[0]][1].append(probe)
    # video probes: three tubes over frames 20..27, apart from each other
    for x in (100.0, 300.0, 500.0):
        gttubes[TEST[0]][9].append(
            np.array([[f, x, 600.0, x + 80.0, 680.0] for f in range(20, 28)])
        )
    return {
        "labels": LABELS,
        "gttubes": gttubes,
        "nframes": nframes,
        "train_videos": [TRAIN],
        "test_videos": [TEST],
        "resolution": {v: (720, 1280) for v in TEST + TRAIN},
    }


def _jitter(rng, box: np.ndarray, s: float) -> list[float]:
    w, h = box[2] - box[0], box[3] - box[1]
    d = rng.normal(0, s, 4) * np.array([w, h, w, h])
    b = box + d
    b[2], b[3] = max(b[2], b[0]), max(b[3], b[1])
    return [round(float(x), 3) for x in b]


def _probe_rows(iv: int, frames, label: int) -> list[list[float]]:
    """Boxes inside the probe box [400, 200, 480, 280] with IoU exactly 0.15, 0.3, 0.35, 0.5,
    0.7, 0.85 and 1: each at or just below an official threshold's double."""
    out = []
    for f, frac in zip(frames, (0.15, 0.3, 0.35, 0.5, 0.7, 0.85, 1.0, 0.3), strict=True):
        out.append([iv, f, label, 0.0, 400.0, 200.0, 480.0, 200.0 + 80.0 * frac])
    return out


def frame_rules(rng, gt: dict) -> np.ndarray:
    rows = []
    for iv, v in enumerate(TEST):
        for lab, tubes in gt["gttubes"][v].items():
            for t in tubes:
                for r in t:
                    u = rng.random()
                    if u < 0.75:
                        rows.append(
                            [iv, r[0], lab, 0, *_jitter(rng, r[1:], rng.uniform(0.02, 0.4))]
                        )
                    if u < 0.25:  # a second detection of the same actor: the box is taken
                        rows.append([iv, r[0], lab, 0, *_jitter(rng, r[1:], 0.05)])
                    if rng.random() < 0.1:  # right place, wrong class
                        rows.append(
                            [iv, r[0], int(rng.integers(0, 10)), 0, *_jitter(rng, r[1:], 0.05)]
                        )
    rows += _probe_rows(0, range(20, 28), 1)
    nf = gt["nframes"]
    for _ in range(120):  # boxes anywhere, many on frames without ground truth
        iv = int(rng.integers(0, len(TEST)))
        x, y = rng.uniform(0, 1000), rng.uniform(0, 500)
        rows.append([iv, int(rng.integers(1, nf[TEST[iv]] + 1)), int(rng.integers(0, 10)), 0,
                     round(x, 2), round(y, 2), round(x + rng.uniform(20, 250), 2),
                     round(y + rng.uniform(20, 200), 2)])  # fmt: skip
    # a zero-area detection on the zero-area ground-truth box (0/0: NaN in the official code)
    flat = gt["gttubes"][TEST[3]][4][-1]
    rows.append([3, flat[2, 0], 4, 0, *flat[2, 1:].tolist()])
    rows.append([3, flat[2, 0], 4, 0, *_jitter(rng, flat[3, 1:], 0.02)])
    a = np.array(rows, dtype=np.float64)
    a[:, 3] = rng.permutation(len(a)) / len(a) * 0.9 + rng.random(len(a)) * 1e-4  # unique
    probes = (a[:, 0] == 0) & (a[:, 2] == 1) & (a[:, 4] == 400.0) & (a[:, 6] == 480.0)
    a[probes, 3] = 2.0 + np.arange(probes.sum()) * 0.01  # ranked first: nothing took the box
    return a[rng.permutation(len(a))]


def video_rules(rng, gt: dict) -> dict:
    nf = gt["nframes"]
    dets: dict = {k: [] for k in range(len(LABELS))}

    def add(lab, v, tube):
        col = np.round(rng.random((len(tube), 1)), 3)
        dets[lab].append([v, 0.0, np.hstack([tube, col])])

    for v in TEST:
        for lab, tubes in gt["gttubes"][v].items():
            for t in tubes:
                for _ in range(int(rng.integers(0, 3))):  # 0-2 detections per tube: taken ones
                    s0 = int(np.clip(t[0, 0] + rng.integers(-6, 7), 1, nf[v]))
                    s1 = int(np.clip(t[-1, 0] + rng.integers(-6, 7), s0, nf[v]))
                    add(lab, v, _shifted(rng, t, s0, s1))
    for _ in range(25):  # random tubes, also in train videos (false positives there)
        v = (TEST + TRAIN)[int(rng.integers(0, len(TEST) + len(TRAIN)))]
        length = int(rng.integers(1, 25))
        start = int(rng.integers(1, nf[v] - length + 2))
        add(int(rng.integers(0, 10)), v, _tube(rng, start, length))
    # exact temporal probes on the probe tube (frames 20..27): share 1 frame (t_inter 0), 4 of 8
    probe = gt["gttubes"][TEST[0]][1][-1]
    add(1, TEST[0], np.vstack([[[19, 400, 200, 480, 280]], probe[:1]]))
    add(1, TEST[0], probe[2:6].copy())
    add(1, TEST[0], np.vstack([probe[4:], [[28, 400, 200, 480, 280], [29, 400, 200, 480, 280]]]))
    # a single-frame tube on the single-frame ground truth (t_union 0: NaN in the official code)
    single = gt["gttubes"][TEST[2]][3][-1]
    add(3, TEST[2], single.copy())
    scores = rng.permutation(sum(len(x) for x in dets.values()))
    i = 0
    for lab in dets:
        for d in dets[lab]:
            d[1] = float(scores[i]) / len(scores) + float(rng.random()) * 1e-4
            i += 1
    # temporal probes with the same boxes as the ground truth: IoU 7/10 = 0.7, 3/10 = 0.3 and
    # 7/14 = 0.5 exactly, ranked first (0.7 < 0.7000000000000001 of the official range)
    for k, (s0, s1) in enumerate(((20, 30), (17, 23), (20, 34))):
        g = gt["gttubes"][TEST[0]][9][-3 + k]
        rows = [[f, *g[0, 1:]] for f in range(s0, s1 + 1)]
        dets[9].append([TEST[0], 0.0, np.hstack([np.array(rows), np.ones((len(rows), 1))])])
        dets[9][-1][1] = 2.0 + k * 0.01
        dets[lab] = [tuple(d) for d in dets[lab]]
        order = rng.permutation(len(dets[lab]))
        dets[lab] = [dets[lab][j] for j in order]
    return dets


def _shifted(rng, t: np.ndarray, s0: int, s1: int) -> np.ndarray:
    """A detection over frames s0..s1 following ground-truth tube t (held at its ends)."""
    rows = []
    for f in range(s0, s1 + 1):
        k = int(np.clip(f - t[0, 0], 0, len(t) - 1))
        rows.append([f, *_jitter(rng, t[k, 1:], 0.08)])
    return np.array(rows, dtype=np.float64)


def ties(rng, frame: np.ndarray, video: dict) -> tuple[np.ndarray, dict]:
    """At most 16 detections per label, scores from three values."""
    keep = []
    for lab in range(len(LABELS)):
        idx = np.flatnonzero(frame[:, 2] == lab)[:16]
        keep += idx.tolist()
    f = frame[np.sort(keep)].copy()
    f[:, 3] = rng.choice([0.3, 0.6, 0.9], len(f))
    v = {}
    for lab, lst in video.items():
        v[lab] = [(d[0], float(rng.choice([0.25, 0.75])), d[2]) for d in lst[:16]]
    return f, v


def tiediff(rng, gt: dict) -> np.ndarray:
    """40 detections of label 3 in video 2 with one score; some hit, some do not."""
    rows = []
    for t in gt["gttubes"][TEST[2]][3]:
        for r in t:
            rows.append([2, r[0], 3, 0.5, *_jitter(rng, r[1:], 0.15)])
    rows = rows[:40]
    return np.array(rows, dtype=np.float64)


def write_csv(path: Path, a: np.ndarray) -> None:
    lines = ["video,frame,class,score,x1,y1,x2,y2"]
    for r in a:
        nums = ",".join(repr(float(x)) for x in r[3:])
        lines.append(f"{TEST[int(r[0])]},{int(r[1])},{int(r[2])},{nums}")
    path.write_text("\n".join(lines) + "\n")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2021)
    gt = make_gt(rng)
    fr = frame_rules(rng, gt)
    vr = video_rules(rng, gt)
    ft, vt = ties(rng, fr, vr)
    fd = tiediff(rng, gt)
    for name, obj in [("gt", gt), ("frame_rules", fr), ("video_rules", vr), ("frame_ties", ft),
                      ("video_ties", vt), ("frame_tiediff", fd)]:  # fmt: skip
        with open(out / f"{name}.pkl", "wb") as fh:
            pickle.dump(obj, fh, protocol=2)
    write_csv(out / "frame_rules.csv", fr)
    # float32 copies: the official script computes in the arrays' own types
    gt32 = dict(gt)
    gt32["gttubes"] = {
        v: {k: [t.astype(np.float32) for t in ts] for k, ts in per.items()}
        for v, per in gt["gttubes"].items()
    }
    vr32 = {k: [(v, s, t.astype(np.float32)) for v, s, t in lst] for k, lst in vr.items()}
    for name, obj in [
        ("gt32", gt32),
        ("video_rules32", vr32),
        ("frame_rules32", fr.astype(np.float32)),
    ]:
        with open(out / f"{name}.pkl", "wb") as fh:
            pickle.dump(obj, fh, protocol=2)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
