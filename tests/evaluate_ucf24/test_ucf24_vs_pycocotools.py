"""The ``coco`` frame protocol against pycocotools' COCOeval itself, to 1e-9, on random inputs
with ties, several boxes per frame, frames without ground truth and more than 100 detections on
a frame; the COCO ground truth is what ``convert-gt --to coco`` writes."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from ucf24_helpers import dets, make_gt, subset

from attnviz.evaluate.ucf24 import frame_map
from attnviz.io.detections import write_coco_results
from attnviz.io.spatial_gt import coco_image_ids, to_coco

pycocotools = pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 0.9)


def coco_reference(gt, d, tmp_path):
    """Per-class AP ``[K, T]`` (NaN: no ground truth) and mAP from COCOeval."""
    ids = coco_image_ids(gt)
    write_coco_results(tmp_path / "res.json", d, ids)
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = to_coco(gt)
        cg.createIndex()
        cd = cg.loadRes(str(tmp_path / "res.json"))
        ev = COCOeval(cg, cd, "bbox")
        ev.params.iouThrs = np.array(THRESHOLDS)
        ev.evaluate()
        ev.accumulate()
    prec = ev.eval["precision"][:, :, :, 0, -1]  # [T, R, K]
    ap = np.full((len(gt.labels), len(THRESHOLDS)), np.nan)
    for k in range(len(gt.labels)):
        p = prec[:, :, k]
        ok = (p > -1).all(axis=1)
        ap[k, ok] = p[ok].mean(axis=1)
    m = np.array([prec[t][prec[t] > -1].mean() for t in range(len(THRESHOLDS))])
    return ap, m


def random_case(rng):
    videos = {}
    for v in range(4):
        tubes = []
        for _ in range(int(rng.integers(1, 4))):
            f0 = int(rng.integers(1, 8))
            n = int(rng.integers(2, 8))
            x, y = rng.uniform(0, 200, 2)
            w, h = rng.uniform(5, 80, 2)
            b = np.array([[x, y, x + w, y + h]] * n) + rng.normal(0, 2, (n, 4)).cumsum(0)
            b[:, 2:] = np.maximum(b[:, 2:], b[:, :2])
            tubes.append((int(rng.integers(0, 3)), f0, np.round(b, int(rng.integers(0, 3)))))
        videos[f"c/v{v}"] = tubes
    gt = make_gt(videos, nframes=16)
    rows = []
    for v, a in gt.videos.items():
        for t in a.tubes:
            for r in t.boxes:
                for _ in range(int(rng.integers(0, 4))):
                    j = r[1:] + rng.normal(0, rng.uniform(0.5, 15), 4)
                    j[2:] = np.maximum(j[2:], j[:2])
                    lab = t.label if rng.random() < 0.8 else int(rng.integers(0, 3))
                    rows.append((v, int(r[0]), lab, 0.0, *j))
    for _ in range(int(rng.integers(5, 60))):
        x, y = rng.uniform(0, 250, 2)
        v = f"c/v{int(rng.integers(0, 4))}"
        rows.append((v, int(rng.integers(1, 17)), int(rng.integers(0, 3)), 0.0, x, y,
                     x + rng.uniform(1, 60), y + rng.uniform(1, 60)))  # fmt: skip
    if rng.random() < 0.3:  # a crowded frame: more than 100 detections of one class
        for _ in range(130):
            x, y = rng.uniform(0, 250, 2)
            rows.append(("c/v0", 3, 0, 0.0, x, y, x + 20, y + 20))
    levels = int(rng.integers(2, 12)) if rng.random() < 0.5 else 10**9
    rows = [r[:3] + (float(rng.integers(0, levels)) / levels,) + r[4:] for r in rows]
    order = rng.permutation(len(rows))
    return gt, dets([rows[i] for i in order])


@pytest.mark.parametrize("seed", range(12))
def test_coco_equals_pycocotools(seed, tmp_path):
    gt, d = random_case(np.random.default_rng(seed))
    ref, ref_map = coco_reference(gt, d, tmp_path)
    r = frame_map(gt, d, protocol="coco", iou=THRESHOLDS)
    known = ~np.isnan(ref)
    np.testing.assert_allclose(r.ap[known], ref[known], rtol=0, atol=1e-9)
    assert np.all(r.ap[~known] == 0)
    np.testing.assert_allclose(r.mAP, ref_map, rtol=0, atol=1e-9)


def test_coco_equals_pycocotools_on_real_videos(ucf_gt, tmp_path):
    rng = np.random.default_rng(5)
    vids = [ucf_gt.test_videos[i] for i in (0, 40, 41, 300, 301, 600, 905)]
    gt = subset(ucf_gt, vids)
    rows = []
    for v in vids:
        for t in gt.videos[v].tubes:
            for r in t.boxes[::3]:
                j = r[1:] + rng.normal(0, 6, 4)
                j[2:] = np.maximum(j[2:], j[:2])
                rows.append((v, int(r[0]), t.label, float(rng.random()), *np.round(j, 1)))
    ref, ref_map = coco_reference(gt, dets(rows), tmp_path)
    r = frame_map(gt, dets(rows), protocol="coco", iou=THRESHOLDS)
    known = ~np.isnan(ref)
    np.testing.assert_allclose(r.ap[known], ref[known], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.mAP, ref_map, rtol=0, atol=1e-9)
