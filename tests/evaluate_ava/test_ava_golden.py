"""Golden numbers of ActivityNet's ``get_ava_performance.py`` (how they were produced: the
``comment`` of each ``data/golden_*.json`` and ``data/README.md``): attnviz gives the same AP
per class, to 1e-12 (the issue asks 1e-6).

The inputs are generated sets exercising every rule: keyframe keys written ``0902`` / ``902`` /
``902.0`` / ``902.000000``, keyframe-only rows, action ids outside the label map, more than 50
detections on a keyframe with equal scores at the cut, detections on keyframes absent from the
ground truth and on an unknown video, boxes with x1 >= x2 or y1 >= y2, duplicate rows, two
ground-truth boxes of one class at equal IoU from a detection, fractional timestamps, an
exclusions file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attnviz.evaluate.ava import evaluate_ava
from attnviz.io.ava import default_label_map, read_ava_boxes, read_excluded_keyframes

HERE = Path(__file__).resolve().parent / "data"
CASES = sorted(p.stem.removeprefix("golden_") for p in HERE.glob("golden_*.json"))


def _run(case: dict):
    excl = read_excluded_keyframes(HERE / case["exclusions"]) if "exclusions" in case else None
    return evaluate_ava(
        read_ava_boxes(HERE / case["gt"]),
        read_ava_boxes(HERE / case["pred"]),
        default_label_map(),
        exclusions=excl,
    )


def _compare(r, want: dict, names=None) -> int:
    n = 0
    for k, name in enumerate(r.class_names):
        if names is not None and name not in names:
            continue
        if want[name] is None:
            assert np.isnan(r.ap[k, 0]), name
            continue
        assert r.ap[k, 0] == pytest.approx(want[name], abs=1e-12), name
        n += 1
    return n


@pytest.mark.parametrize("name", CASES)
def test_official_numbers(name):
    case = json.loads((HERE / f"golden_{name}.json").read_text())
    r = _run(case)
    official = case["official"]
    stable = case.get("official_stable_argsort")
    if stable is None:
        # no order-dependent tie: every class and the mean equal the official script's
        assert _compare(r, official) >= 10
        assert r.mAP[0] == pytest.approx(official["mAP"], abs=1e-12)
        return
    # equal scores in long lists: attnviz is the official script with a stable argsort ...
    assert _compare(r, stable) >= 10
    assert r.mAP[0] == pytest.approx(stable["mAP"], abs=1e-12)
    # ... and equals numpy 1.23's unstable order wherever the two orders agree
    same = {n for n in official if n != "mAP" and official[n] == stable[n]}
    assert _compare(r, official, same) >= 5


def test_tied_input_moves_the_numbers_this_far():
    """The documented cost of the stable order on the tied input (2-decimal scores, classes of
    up to ~80 detections): numpy 1.23's unstable argsort gives other APs for a few classes."""
    case = json.loads((HERE / "golden_ties.json").read_text())
    official, stable = case["official"], case["official_stable_argsort"]
    diffs = {
        n: abs(official[n] - stable[n])
        for n in official
        if official[n] is not None and official[n] != stable[n]
    }
    assert diffs, "the tied case no longer shows the difference it documents"
    assert max(diffs.values()) < 0.05
    r = _run(case)
    assert abs(r.mAP[0] - official["mAP"]) < 0.01


def test_cases_present():
    assert {"ties", "small_ties", "fractional", "exclusions"} <= set(CASES)
