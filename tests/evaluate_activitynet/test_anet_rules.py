"""ActivityNet-1.3 rules on hand-made cases, the command line, and bad input."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from attnviz.errors import InputError
from attnviz.evaluate.activitynet import evaluate_activitynet
from attnviz.io.activitynet import (
    read_activitynet_gt,
    read_activitynet_results,
    write_activitynet_results,
)

GT = {
    "version": "VERSION 1.3",
    "taxonomy": [],
    "database": {
        "a": {"subset": "validation", "annotations": [{"segment": [0, 10], "label": "Jump"}]},
        "b": {"subset": "training", "annotations": [{"segment": [0, 10], "label": "Swim"}]},
        "c": {"subset": "validation", "annotations": [{"segment": [5, 9], "label": "Run"}]},
    },
}


def run_cli(*args) -> tuple[int, str, str]:
    from attnviz.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(GT))

    def write(results):
        p = tmp_path / "results.json"
        p.write_text(json.dumps({"version": "VERSION 1.3", "results": results}))
        return gt, p

    return write


def test_classes_are_the_subsets_labels_in_order_of_appearance(files):
    gt, _ = files({})
    truth = read_activitynet_gt(gt, "validation")
    assert truth.class_names == ("Jump", "Run") and truth.videos == ("a", "c")
    assert read_activitynet_gt(gt, "training").class_names == ("Swim",)


def test_detections_outside_the_subset_are_false_positives(files):
    gt, pred = files(
        {
            "b": [{"segment": [0, 10], "label": "Jump", "score": 0.9}],
            "a": [{"segment": [0, 10], "label": "Jump", "score": 0.8}],
            "c": [{"segment": [5, 9], "label": "Run", "score": 0.7}],
        }
    )
    truth = read_activitynet_gt(gt)
    r = evaluate_activitynet(truth, read_activitynet_results(pred, truth.class_names))
    np.testing.assert_array_equal(r.ap[0], 0.5)  # FP (training video) then TP
    np.testing.assert_array_equal(r.ap[1], 1.0)
    assert r.extra["average_mAP"] == 0.75


def test_equal_scores_rank_the_later_detection_first(files):
    # the reference's argsort()[::-1] made stable: the TP (second in the file) ranks first
    gt, pred = files(
        {
            "a": [
                {"segment": [50, 52], "label": "Jump", "score": 0.5},
                {"segment": [0, 10], "label": "Jump", "score": 0.5},
            ]
        }
    )
    truth = read_activitynet_gt(gt)
    r = evaluate_activitynet(truth, read_activitynet_results(pred, truth.class_names))
    np.testing.assert_array_equal(r.ap[0], 1.0)


def test_unknown_label_is_one_clean_error(files):
    gt, pred = files({"a": [{"segment": [0, 10], "label": "Swim", "score": 0.9}]})
    with pytest.raises(InputError, match=r'video "a", detection 0, field "label".*Swim'):
        truth = read_activitynet_gt(gt)
        read_activitynet_results(pred, truth.class_names)
    code, out, err = run_cli("eval-anet", "--gt", gt, "--pred", pred)
    assert code == 2 and out == "" and err.count("\n") == 1 and "'Swim'" in err


def test_missing_subset_and_bad_segment(files, tmp_path):
    gt, _ = files({})
    with pytest.raises(InputError, match="no video of subset 'testing'"):
        read_activitynet_gt(gt, "testing")
    bad = json.loads(json.dumps(GT))
    bad["database"]["a"]["annotations"][0]["segment"] = [0]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match='video "a", annotation 0, field "segment"'):
        read_activitynet_gt(tmp_path / "bad.json")


def test_cli_json_layout(files, tmp_path):
    gt, pred = files({"a": [{"segment": [0, 10], "label": "Jump", "score": 0.9}]})
    out_file = tmp_path / "r.json"
    code, out, err = run_cli(
        "eval-anet", "--gt", gt, "--pred", pred, "--format", "json", "--out", out_file
    )
    assert code == 0 and out == ""
    data = json.loads(out_file.read_text())
    assert list(data) == ["protocol", "tiou", "mAP", "AP", "average_mAP"]
    assert data["protocol"] == "activitynet"
    assert data["tiou"] == np.linspace(0.5, 0.95, 10).tolist()
    assert data["AP"] == {"Jump": [1.0] * 10, "Run": [0.0] * 10}
    assert data["average_mAP"] == 0.5
    code, out, _ = run_cli("eval-anet", "--gt", gt, "--pred", pred, "--tiou", "0.5,0.9")
    assert code == 0 and "tIoU=0.9" in out and "average mAP: 50.00" in out


def test_writer_reads_back(files, tmp_path):
    gt, pred = files({"c": [{"segment": [5, 9.25], "label": "Run", "score": 0.123456789}], "a": []})
    truth = read_activitynet_gt(gt)
    d = read_activitynet_results(pred, truth.class_names)
    write_activitynet_results(tmp_path / "back.json", d, truth.class_names)
    e = read_activitynet_results(tmp_path / "back.json", truth.class_names)
    assert list(e.video) == ["c"] and e.end[0] == 9.25 and e.score[0] == 0.123456789
