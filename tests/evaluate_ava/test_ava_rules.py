"""The AVA rules on hand-made cases, the command line, and bad input."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from attnviz.errors import InputError
from attnviz.evaluate.ava import evaluate_ava
from attnviz.io.ava import (
    default_label_map,
    keyframe_key,
    read_ava_boxes,
    read_label_map,
    write_ava_detections,
)

LM = ((12, 14, 80), ("stand", "walk", "watch (a person)"))
BOX_A = "0.1,0.1,0.4,0.4"
BOX_B = "0.5,0.5,0.9,0.9"


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


def ap(tmp_path, gt_rows, det_rows, lm=LM):
    (tmp_path / "gt.csv").write_text("\n".join(gt_rows) + "\n")
    (tmp_path / "dets.csv").write_text("\n".join(det_rows) + "\n")
    r = evaluate_ava(read_ava_boxes(tmp_path / "gt.csv"), read_ava_boxes(tmp_path / "dets.csv"), lm)
    return {n: r.ap[k, 0] for k, n in enumerate(r.class_names)}, r


def test_keyframe_keys_read_the_timestamp_as_a_decimal(tmp_path):
    assert keyframe_key("v", "0902") == keyframe_key("v", "902.0") == "v,902.000000"
    assert keyframe_key("v", "10.25") == "v,10.250000"
    got, _ = ap(tmp_path, [f"v,0902,{BOX_A},12,0"], [f"v,902.0,{BOX_A},12,0.9"])
    assert got["stand"] == 1.0


def test_no_ground_truth_class_is_nan_and_out_of_the_mean(tmp_path):
    got, r = ap(tmp_path, [f"v,902,{BOX_A},12,0"], [f"v,902,{BOX_A},12,0.9"])
    assert np.isnan(got["walk"]) and r.mAP[0] == 1.0
    assert r.to_dict()["AP"]["walk"] == [None]
    assert list(r.to_dict()) == ["protocol", "iou", "mAP", "AP"]


def test_top_50_per_keyframe_with_the_official_rule_among_equal_scores(tmp_path):
    far = [f"v,902,0.{i:02d}1,0.95,0.{i:02d}2,0.96,80,0.9" for i in range(48)]
    dets = far + [
        f"v,902,{BOX_A},12,0.5",  # the 49th and 50th rows: equal lowest score
        f"v,902,{BOX_B},14,0.5",
        "v,902,0.9,0.9,0.95,0.95,80,0.95",  # evicts the smallest tuple: (0.5, 12, ...)
        f"v,902,{BOX_A},12,0.5",  # equal to the lowest kept score: not taken
    ]
    gt = [f"v,902,{BOX_A},12,0", f"v,902,{BOX_B},14,1", "v,902,0.0,0.0,0.01,0.01,80,2"]
    got, r = ap(tmp_path, gt, dets)
    assert got["stand"] == 0.0 and got["walk"] == 1.0
    assert r.extra["over_limit"] == 2


def test_detections_on_keyframes_absent_from_the_ground_truth_are_ignored(tmp_path):
    gt = [f"v,902,{BOX_A},12,0", "v,903"]
    # 904: absent (ignored); 903: a keyframe without actions (false positive)
    dets = [f"v,904,{BOX_B},12,0.99", f"v,902,{BOX_A},12,0.5"]
    got, r = ap(tmp_path, gt, dets)
    assert got["stand"] == 1.0 and r.extra["unknown_keyframe"] == 1
    got, _ = ap(tmp_path, gt, [f"v,903,{BOX_B},12,0.99", f"v,902,{BOX_A},12,0.5"])
    assert got["stand"] == 0.5


def test_ids_outside_the_label_map_and_invalid_boxes_are_skipped(tmp_path):
    gt = [f"v,902,{BOX_A},12,0", f"v,902,{BOX_A},2,0"]
    dets = [f"v,902,{BOX_A},2,0.99", "v,902,0.4,0.1,0.4,0.4,12,0.98", f"v,902,{BOX_A},12,0.5"]
    got, r = ap(tmp_path, gt, dets)
    assert got["stand"] == 1.0
    assert r.extra["skipped_label"] == 1 and r.extra["invalid_box"] == 1


def test_a_detection_whose_best_box_is_taken_is_a_false_positive(tmp_path):
    # d2's best box is A (taken by d1) although B is free at IoU >= 0.5
    gt = [f"v,902,{BOX_A},12,0", "v,902,0.1,0.1,0.4,0.45,12,1"]
    dets = [f"v,902,{BOX_A},12,0.9", "v,902,0.1,0.1,0.4,0.41,12,0.8"]
    got, _ = ap(tmp_path, gt, dets)
    assert got["stand"] == pytest.approx(0.5)


def test_packaged_label_map_is_the_v2_1_map():
    ids, names = default_label_map()
    assert len(ids) == 60 and ids[0] == 1 and names[0] == "bend/bow (at the waist)"
    assert 2 not in ids and ids[-1] == 80


def test_writer_reads_back(tmp_path):
    (tmp_path / "d.csv").write_text(f"v,0902,{BOX_A},12,0.123456789\nw,10.25,{BOX_B},14\n")
    d = read_ava_boxes(tmp_path / "d.csv")
    write_ava_detections(tmp_path / "back.csv", d)
    e = read_ava_boxes(tmp_path / "back.csv")
    assert list(e.key) == list(d.key) == ["v,902.000000", "w,10.250000"]
    np.testing.assert_array_equal(e.box, d.box)
    np.testing.assert_array_equal(e.score, d.score)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("v,902,0.1,0.1", "line 2: expected 2, 7 or 8 fields"),
        ("v,902,0.1,abc,0.4,0.4,12,0.5", 'line 2, field "y1"'),
        ("v,902,0.1,0.1,0.4,0.4,twelve,0.5", 'line 2, field "action_id"'),
        ("v,x902,0.1,0.1,0.4,0.4,12,0.5", 'line 2, field "timestamp"'),
        ("v,902,0.1,0.1,0.4,inf,12,0.5", 'line 2, field "y2"'),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path, row, message):
    p = tmp_path / "d.csv"
    p.write_text(f"v,902,{BOX_A},12,0.5\n{row}\n")
    with pytest.raises(InputError, match=message):
        read_ava_boxes(p)


def test_reversed_ground_truth_box_is_an_error(tmp_path):
    (tmp_path / "gt.csv").write_text(f"v,902,{BOX_A},12,0\nv,902,0.5,0.1,0.4,0.4,12,1\n")
    (tmp_path / "d.csv").write_text(f"v,902,{BOX_A},12,0.5\n")
    with pytest.raises(InputError, match=r'gt.csv, line 2, field "x2"'):
        evaluate_ava(read_ava_boxes(tmp_path / "gt.csv"), read_ava_boxes(tmp_path / "d.csv"), LM)


def test_label_map_errors(tmp_path):
    p = tmp_path / "m.pbtxt"
    p.write_text('item {\n  name: "a"\n  id: x\n}\n')
    with pytest.raises(InputError, match='line 3, field "id"'):
        read_label_map(p)
    p.write_text("nothing\n")
    with pytest.raises(InputError, match="no label map item"):
        read_label_map(p)


def test_cli_json_and_out(tmp_path):
    (tmp_path / "gt.csv").write_text(f"v,902,{BOX_A},12,0\nv,902,{BOX_B},14,1\n")
    (tmp_path / "d.csv").write_text(f"v,902,{BOX_A},12,0.9\nv,902,{BOX_A},14,0.8\n")
    code, out, err = run_cli(
        "eval-ava", "--gt", tmp_path / "gt.csv", "--pred", tmp_path / "d.csv", "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["protocol", "iou", "mAP", "AP"]
    assert data["protocol"] == "ava" and data["iou"] == [0.5]
    assert len(data["AP"]) == 60 and data["AP"]["stand"] == [1.0] and data["AP"]["walk"] == [0.0]
    assert data["AP"]["dance"] == [None] and data["mAP"] == [0.5]
    code, _, _ = run_cli(
        "eval-ava", "--gt", tmp_path / "gt.csv", "--pred", tmp_path / "d.csv",
        "--out", tmp_path / "r.csv", "--format", "csv", "--quiet",
    )  # fmt: skip
    assert code == 0 and (tmp_path / "r.csv").read_text().startswith("class,iou,ap\n")


def test_cli_bad_input_is_one_line_and_nothing_written(tmp_path):
    (tmp_path / "gt.csv").write_text(f"v,902,{BOX_A},12,0\n")
    (tmp_path / "d.csv").write_text("v,902,0.1\n")
    code, out, err = run_cli(
        "eval-ava", "--gt", tmp_path / "gt.csv", "--pred", tmp_path / "d.csv",
        "--out", tmp_path / "r.json",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "d.csv, line 1" in err
    assert not (tmp_path / "r.json").exists()
