"""Golden numbers from the official evaluators (how they were produced: the ``comment`` of each
``data/golden_*.json``): attnviz gives the same AP per class and threshold, to 1e-12.

The prediction files are random sets over the real annotations with equal scores, reversed and
zero-length segments, videos unknown to the ground truth, ``.mp4`` / ``.mpeg`` names,
detections in Ambiguous segments and on the video that has only Ambiguous segments, CliffDiving
/ Diving on the same segments, thresholds hit exactly, threshold 0 and 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attnviz.evaluate.thumos import evaluate_thumos
from attnviz.io.thumos import read_detections, read_thumos_gt

HERE = Path(__file__).resolve().parent / "data"
CASES = sorted(p.stem.removeprefix("golden_") for p in HERE.glob("golden_*.json"))


def _ground_truth(th14: Path, case: dict, tmp_path: Path):
    sub = case["subset"]
    src = th14 / f"annotations_{sub}"
    if case["videos"] is None:
        return read_thumos_gt(src, subset=sub)
    # the same files restricted to some videos, lines in file order (what the kits were given)
    keep = set(case["videos"])
    folder = tmp_path / "gt"
    folder.mkdir()
    for f in src.glob(f"*_{sub}.txt"):
        lines = [
            ln for ln in f.read_text().splitlines(True) if ln.split()[:1] and ln.split()[0] in keep
        ]
        (folder / f.name).write_text("".join(lines))
    return read_thumos_gt(folder, subset=sub)


@pytest.mark.parametrize("name", CASES)
def test_official_evaluators_numbers(th14, tmp_path, name):
    case = json.loads((HERE / f"golden_{name}.json").read_text())
    gt = _ground_truth(th14, case, tmp_path)
    dets = read_detections(
        HERE / case["predictions"], class_ids=gt.class_ids, class_names=gt.class_names
    )
    assert len(dets) == case["detections"]
    compared = 0
    for protocol in ("thumos14", "thumos14-2014", "activitynet"):
        if protocol not in case:
            continue
        r = evaluate_thumos(gt, dets, protocol=protocol, tiou=case["tiou"])
        want = np.asarray(
            [[np.nan if v is None else v for v in case[protocol][c]] for c in gt.class_names]
        )
        known = ~np.isnan(want)
        np.testing.assert_allclose(r.ap[known], want[known], rtol=0, atol=1e-12, err_msg=protocol)
        compared += int(known.sum())
    assert compared >= 100


def test_golden_cases_present():
    assert len(CASES) >= 4
