"""The evaluator on the real THUMOS14 annotations: perfect runs, the quirks of the files, and
agreement with a straightforward per-detection loop on random detection sets."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from attnviz.evaluate.thumos import PROTOCOLS, evaluate_thumos
from attnviz.io.thumos import read_thumos_gt
from attnviz.types import TemporalDetections

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


@cache
def _gt(folder: Path, subset: str):
    return read_thumos_gt(folder / f"annotations_{subset}", subset=subset)


def _perfect(gt, score=None) -> TemporalDetections:
    n = len(gt)
    return TemporalDetections.from_arrays(
        gt.video, gt.start, gt.end, gt.label, np.ones(n) if score is None else score
    )


@pytest.mark.parametrize("subset", ["test", "val"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_perfect_run_scores_one_everywhere(th14, subset, protocol):
    gt = _gt(th14, subset)
    for dets in (_perfect(gt), _perfect(gt, np.random.default_rng(0).random(len(gt)))):
        r = evaluate_thumos(gt, dets, protocol=protocol, tiou=THRESHOLDS)
        np.testing.assert_array_equal(r.ap, 1.0)
        np.testing.assert_array_equal(r.mAP, 1.0)
        assert r.warnings == ()


def test_perfect_run_at_threshold_one(th14):
    gt = _gt(th14, "test")
    dets = _perfect(gt)
    # overlap 1 is not > 1 for the kits; ActivityNet's 1 >= 1 holds
    assert not evaluate_thumos(gt, dets, protocol="thumos14", tiou=(1.0,)).ap.any()
    assert (evaluate_thumos(gt, dets, protocol="activitynet", tiou=(1.0,)).ap == 1).all()


def test_cliffdiving_is_also_diving(th14):
    gt = _gt(th14, "test")
    names = list(gt.class_names)
    cliff, diving = names.index("CliffDiving"), names.index("Diving")
    sel = gt.label == cliff
    # every CliffDiving instance (217) repeats in Diving with the same times
    d_rows = set(zip(gt.video[gt.label == diving], gt.start[gt.label == diving], strict=True))
    assert sel.sum() == 217 and set(zip(gt.video[sel], gt.start[sel], strict=True)) <= d_rows
    as_cliff = TemporalDetections.from_arrays(
        gt.video[sel], gt.start[sel], gt.end[sel], gt.label[sel], np.ones(sel.sum())
    )
    as_diving = TemporalDetections.from_arrays(
        gt.video[sel], gt.start[sel], gt.end[sel], np.full(sel.sum(), diving), np.ones(sel.sum())
    )
    for p in PROTOCOLS:
        r = evaluate_thumos(gt, as_cliff, protocol=p, tiou=(0.5,))
        assert r.ap[cliff, 0] == 1.0 and r.ap[diving, 0] == 0.0
        # labelled Diving, the same segments find 217 of the 388 Diving instances, at precision 1
        r = evaluate_thumos(gt, as_diving, protocol=p, tiou=(0.5,))
        assert r.ap[cliff, 0] == 0.0
        expected = {"thumos14": 217 / 388, "activitynet": 217 / 388}.get(p)
        if expected is not None:
            assert r.ap[diving, 0] == pytest.approx(expected, abs=1e-12)
        else:  # 11 points: recall 217/388 = .559 reaches 0..0.5 at precision 1
            assert r.ap[diving, 0] == pytest.approx(6 / 11, abs=1e-12)


def test_video_with_only_ambiguous_segments(th14):
    gt = _gt(th14, "test")
    segs = gt.ambiguous["video_test_0001292"]
    k = len(gt.class_names)
    dets = TemporalDetections.from_arrays(
        ["video_test_0001292"] * len(segs), segs[:, 0], segs[:, 1], np.arange(len(segs)) % k,
        np.ones(len(segs)),
    )  # fmt: skip
    both = TemporalDetections.from_arrays(
        np.concatenate([dets.video, gt.video]),
        np.concatenate([dets.start, gt.start]),
        np.concatenate([dets.end, gt.end]),
        np.concatenate([dets.label, gt.label]),
        np.concatenate([np.full(len(dets), 2.0), np.ones(len(gt))]),
    )
    for p in PROTOCOLS:
        r = evaluate_thumos(gt, both, protocol=p, tiou=(0.5,))
        # a known video (no warning); the kits drop these detections, ActivityNet counts them
        assert r.extra["unknown_videos"] == 0
        if p == "activitynet":
            assert r.mAP[0] < 1.0
        else:
            assert (r.ap == 1.0).all()


# ----------------------------------------------------------------- loop references
@cache
def _bench():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "eval_speed_thumos.py"
    spec = importlib.util.spec_from_file_location("eval_speed_thumos_ref", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_per_detection_loops(th14, seed):
    """Random detection sets over a few real test videos (jittered ground truth, random
    segments, equal scores, reversed and zero-length segments, unknown videos, .mp4 names):
    attnviz equals the straightforward loops of ``benchmarks/eval_speed_thumos.py`` at
    thresholds that include exact hits."""
    bench = _bench()
    full = _gt(th14, "test" if seed % 2 else "val")
    rng = np.random.default_rng(seed)
    videos = rng.choice(sorted(set(full.video.tolist())), 6, replace=False)
    keep = np.isin(full.video.astype(str), videos)
    gt = type(full)(
        full.class_names, full.class_ids, full.video[keep], full.start[keep], full.end[keep],
        full.label[keep], {v: full.ambiguous[v] for v in full.ambiguous if v in videos},
        tuple(videos), full.subset,
    )  # fmt: skip
    dets = bench.make_detections(gt, 400, seed=seed)
    thr = (0.1, 0.3, 0.5, 0.7, 0.35, 0.55)
    for p in PROTOCOLS:
        got = evaluate_thumos(gt, dets, protocol=p, tiou=thr).ap
        present = np.bincount(gt.label, minlength=len(gt.class_names)) > 0
        if p == "activitynet":
            want = bench.loop_activitynet(gt, dets, thr)
        else:
            want = bench.loop_thumos(gt, dets, thr, "2015" if p == "thumos14" else "2014")
            # the kits assert that every class has ground truth; compare those that do
        np.testing.assert_allclose(got[present], want[present], rtol=0, atol=1e-12, err_msg=p)
