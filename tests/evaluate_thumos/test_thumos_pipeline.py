"""The library surface behind ``eval-thumos``: scoring in-memory records (what the
``--videos --checkpoint`` mode and notebooks call), class relabelling, protocol comparison."""

from __future__ import annotations

import numpy as np
import pytest
from thumos_helpers import make_dets, make_gt, write_gt_folder

from attnviz.errors import AttnvizError
from attnviz.evaluate.thumos import TP, evaluate_thumos
from attnviz.pipeline.thumos import compare_thumos, eval_thumos, load_inputs, relabel
from attnviz.types import EvalResult, TemporalDetections


def test_evaluate_in_memory_records():
    gt = make_gt([("A", "v", 0, 10), ("B", "v", 20, 30)])
    dets = make_dets([("v", 0, 10, "A", 0.9), ("v", 21, 30, "B", 0.8)])
    r = evaluate_thumos(gt, dets, tiou=(0.5, 0.95), keep_matches=True)
    assert isinstance(r, EvalResult)
    assert (r.metric, r.protocol, r.thresholds, r.class_names) == (
        "temporal", "thumos14", (0.5, 0.95), ("A", "B"),
    )  # fmt: skip
    np.testing.assert_array_equal(r.ap, [[1.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(r.mAP, [1.0, 0.5])
    assert r.extra["npos"] == {"A": 1, "B": 1} and r.extra["num_detections"] == 2
    m = r.extra["matches"]["B"]
    assert m.det_index.tolist() == [1] and m.status[:, 0].tolist() == [TP, 0]
    assert r.params["ap"] == "precision_at_hits" and r.params["ambiguous"] is True
    # no Ambiguous segments in this ground truth: the kit protocols say so
    assert any("no Ambiguous segments" in w for w in r.warnings)
    assert not any(
        "Ambiguous" in w for w in evaluate_thumos(gt, dets, protocol="activitynet").warnings
    )


def test_relabel_model_classes_by_name():
    gt = make_gt([("A", "v", 0, 10), ("B", "v", 20, 30)])
    model_classes = ("B", "X", "A")
    dets = TemporalDetections.from_arrays(["v", "v"], [0, 20], [10, 30], [2, 0], [0.9, 0.8])
    mapped = relabel(dets, model_classes, gt.class_names)
    assert mapped.label.tolist() == [0, 1]
    assert evaluate_thumos(gt, mapped).mAP[0] == 1.0
    with pytest.raises(AttnvizError, match="detected class 'X' is not a class of the ground"):
        relabel(TemporalDetections.from_arrays(["v"], [0], [1], [1], [1]), model_classes, "AB")
    assert len(relabel(make_dets([]), model_classes, gt.class_names)) == 0


def test_eval_thumos_files_and_errors(tmp_path):
    gt = write_gt_folder(tmp_path / "gt", [("A", "v", 0, 10)], ambiguous=[])
    run = tmp_path / "run.txt"
    run.write_text("v 0 10 1 0.5\n")
    r = eval_thumos(gt, run, classes=gt / "classes.txt", tiou="0.5:0.7:0.1")
    assert r.thresholds == (0.5, 0.6, 0.7) and (r.ap[0] == 1).all()
    truth, dets = load_inputs(gt, run, classes=gt / "classes.txt")
    assert len(truth) == 1 and len(dets) == 1
    with pytest.raises(AttnvizError, match="unknown protocol 'x'"):
        eval_thumos(gt, run, protocol="x", classes=gt / "classes.txt")


def test_compare_thumos_library():
    gt = make_gt([("A", "v", 0, 10), ("A", "v", 10, 20)], ambiguous={"v": [(30, 40)]})
    dets = make_dets([("v", 0, 10, "A", 0.9), ("v", 30, 35, "A", 0.8), ("v", 12, 20, "A", 0.7)])
    results, diffs = compare_thumos(gt, dets, ["thumos14", "activitynet"], tiou="0.5")
    assert [r.protocol for r in results] == ["thumos14", "activitynet"]
    assert all("matches" not in r.extra for r in results)
    (d,) = diffs
    assert (d.a, d.b, d.tiou, d.changed, d.ignored_to_fp, d.reasons) == (
        "thumos14", "activitynet", 0.5, 1, 1, {"ambiguous": 1},
    )  # fmt: skip
    assert d.examples == (2,) and d.map_a == 1.0 and d.map_b < 1.0
    with pytest.raises(AttnvizError, match="compare needs two or more"):
        compare_thumos(gt, dets, ["thumos14"])
