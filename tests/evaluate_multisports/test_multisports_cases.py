"""Hand-computed MultiSports cases, the command line, and one ``error:`` line (nothing written)
for every kind of bad input."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from attnviz.cli import main
from attnviz.errors import InputError
from attnviz.evaluate.multisports import MultiSportsParams, evaluate, parse_iou
from attnviz.ops.tubes import tube_iou
from attnviz.types import FrameDetections, GTTube, SpatialGroundTruth, Tube, VideoAnnotation

LABELS = ("spike", "basketball save", "block")


def _gt(tubes: dict[str, list[tuple[int, list]]], test=("v/a", "v/b")) -> SpatialGroundTruth:
    videos = {
        v: VideoAnnotation(
            0, 20, tuple(GTTube(lab, np.asarray(b, float)) for lab, b in tubes.get(v, []))
        )
        for v in test
    }
    return SpatialGroundTruth(LABELS, videos, (), tuple(test), "gt")


def _box_tube(frames, box):
    return [[f, *box] for f in frames]


def test_highest_iou_box_taken_is_a_false_positive():
    # A and B in one frame; the second detection's best box is A (taken): a false positive
    # although B (IoU 80/95) is free. tp = [1, 0], npos 2: AP = 0.5 * 1 = 0.5.
    gt = _gt({"v/a": [(0, _box_tube([1], [0, 0, 10, 10])), (0, _box_tube([1], [0, 0, 10, 8]))]})
    dets = FrameDetections.from_arrays(
        ["v/a", "v/a"], [1, 1], [0, 0], [0.9, 0.8], [[0, 0, 10, 10], [0, 0, 10, 9.5]]
    )
    r = evaluate(gt, dets, MultiSportsParams("frame", (0.5,)))
    assert r.ap[0, 0] == pytest.approx(0.5)


def test_box_iou_without_plus_one():
    # [0, 0, 10, 5] inside [0, 0, 10, 10]: 50 / 100 = 0.5 exactly (with +1 pixels 66 / 121)
    gt = _gt({"v/a": [(0, _box_tube([1], [0, 0, 10, 10]))]})
    dets = FrameDetections.from_arrays(["v/a"], [1], [0], [0.9], [[0, 0, 10, 5]])
    r = evaluate(gt, dets, MultiSportsParams("frame", (0.5, 0.5000001)))
    assert r.ap[0].tolist() == [1.0, 0.0]


def test_box_iou_in_the_boxes_own_type():
    from attnviz.ops.boxes import iou_voc_nan

    g, d = np.array([0, 0, 10, 10]), np.array([0, 0, 10, 3])
    assert iou_voc_nan(g, d) == 0.3 < parse_iou("0.1:0.9:0.1")[2]
    v32 = iou_voc_nan(g.astype(np.float32), d.astype(np.float32))
    assert v32.dtype == np.float32 and float(v32) > parse_iou("0.1:0.9:0.1")[2]
    assert np.isnan(iou_voc_nan(np.array([1, 1, 1, 5.0]), np.array([1, 1, 1, 5.0])))


def test_tube_iou_over_the_temporal_intersection_without_plus_one():
    g = np.asarray(_box_tube(range(1, 6), [0, 0, 10, 10]), float)
    share_one = np.asarray(_box_tube(range(5, 10), [0, 0, 10, 10]), float)
    share_two = np.asarray(_box_tube(range(3, 8), [0, 0, 10, 5]), float)
    assert tube_iou(g, share_one, "multisports") == 0.0  # t_inter = 5 - 5 = 0 (ACT: 1/9)
    assert tube_iou(g, share_two, "multisports") == pytest.approx(0.5 * 2 / 6)
    one = np.asarray([[3, 0, 0, 10, 10]], float)
    assert np.isnan(tube_iou(one, one, "multisports"))  # 0 / 0, as the official script


def test_video_detection_on_another_video_is_a_false_positive():
    gt = _gt({"v/a": [(0, _box_tube(range(1, 6), [0, 0, 10, 10]))]})
    box = np.asarray(_box_tube(range(1, 6), [0, 0, 10, 10]), float)
    tubes = [Tube("v/b", 0, 0.9, box), Tube("v/a", 0, 0.8, box), Tube("train/x", 0, 0.7, box)]
    r = evaluate(gt, tubes, MultiSportsParams("video", (0.5,)))
    assert r.ap[0, 0] == pytest.approx(0.5)  # precision 1/2 at recall 1
    assert r.class_names == ("spike",)  # "basketball save" excluded, "block" has no GT


def test_equal_scores_keep_file_order():
    gt = _gt({"v/a": [(0, _box_tube([1], [0, 0, 10, 10]))]})
    boxes = [[50, 50, 60, 60], [0, 0, 10, 10]]  # a miss, then a hit, one score
    dets = FrameDetections.from_arrays(["v/a"] * 2, [1, 1], [0, 0], [0.5, 0.5], boxes)
    r = evaluate(gt, dets, MultiSportsParams("frame", (0.5,)))
    assert r.ap[0, 0] == pytest.approx(0.5)  # precision 1/2 at recall 1


def test_parse_iou():
    assert parse_iou("0.2,0.5") == (0.2, 0.5)
    assert parse_iou("0.05:0.45:0.05")[2] == 0.05 + 0.05 * 2 == 0.15000000000000002
    assert len(parse_iou("0.5:0.95:0.05")) == 10
    for bad in ("", "x", "0.1:0.5", "0:0.5:0.1", "0.5:0.9:0"):
        with pytest.raises(InputError):
            parse_iou(bad)


# --------------------------------------------------------------------------- command line
def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def _write(path, obj):
    path.write_bytes(pickle.dumps(obj))
    return path


@pytest.fixture()
def files(tmp_path):
    gt = {
        "labels": list(LABELS),
        "gttubes": {"v/a": {0: [np.asarray(_box_tube(range(1, 4), [0, 0, 10, 10]), float)]},
                    "v/b": {}},
        "nframes": {"v/a": 20, "v/b": 20},
        "train_videos": [[]],
        "test_videos": [["v/b", "v/a"]],
    }  # fmt: skip
    rows = np.array([[1, 1, 0, 0.9, 0, 0, 10, 10], [0, 1, 0, 0.8, 0, 0, 10, 10]], float)
    return _write(tmp_path / "gt.pkl", gt), _write(tmp_path / "dets.pkl", rows), tmp_path


def test_cli_json_layout(files, capsys):
    gt, dets, _ = files
    code, out, _ = run(["eval-multisports", "--gt", gt, "--pred", dets, "--format", "json"], capsys)
    assert code in (0, None)
    data = json.loads(out)
    assert list(data) == ["metric", "protocol", "iou", "mAP", "AP"]
    # the detection on position 1 ("v/a", frame 1) is the hit; position 0 is "v/b"
    assert data == {"metric": "frame", "protocol": "multisports", "iou": [0.5],
                    "mAP": [1 / 3], "AP": {"spike": [1 / 3]}}  # fmt: skip


def test_cli_table_names_absent_labels(files, capsys):
    gt, dets, _ = files
    code, out, _ = run(["eval-multisports", "--gt", gt, "--pred", dets], capsys)
    assert "not scored (left out by the official script): basketball save" in out
    assert "absent (no ground truth in the test videos): block" in out


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([0, 1, 0, np.nan, 0, 0, 10, 10], 'row 2, field "score": NaN'),
        ([0, 1.5, 0, 0.5, 0, 0, 10, 10], 'row 2, field "frame": 1.5 is not an integer'),
        ([2, 1, 0, 0.5, 0, 0, 10, 10], 'row 2, field "video_index": 2.0 outside 0..1'),
        ([0, 1, 3, 0.5, 0, 0, 10, 10], 'row 2, field "label": 3.0 outside 0..2'),
        ([0, 0, 0, 0.5, 0, 0, 10, 10], 'row 2, field "frame": 0.0 below 1'),
        ([0, 1, 0, 0.5, 5, 0, 4, 10], 'row 2, field "x2": 4.0 x2 < x1'),
    ],
)
def test_cli_bad_frame_rows(files, capsys, row, message):
    gt, _, tmp = files
    dets = _write(tmp / "bad.pkl", np.array([[0, 1, 0, 0.9, 0, 0, 10, 10], row], float))
    out = tmp / "report.json"
    code, _, err = run(["eval-multisports", "--gt", gt, "--pred", dets, "--out", out], capsys)
    assert code == 2 and err.startswith("error: ") and message in err, err
    assert err.count("\n") == 1 and str(dets) in err
    assert not out.exists() and not [p for p in os.listdir(tmp) if p.startswith(".report")]


def test_cli_bad_shape_and_csv_row(files, capsys):
    gt, _, tmp = files
    dets = _write(tmp / "bad.pkl", np.zeros((2, 7)))
    code, _, err = run(["eval-multisports", "--gt", gt, "--pred", dets], capsys)
    assert code == 2 and "expected an [N, 8] array" in err
    csv = tmp / "dets.csv"
    csv.write_text(
        "video,frame,class,score,x1,y1,x2,y2\nv/a,1,0,0.9,0,0,10,10\nv/a,1,0,x,0,0,1,1\n"
    )
    code, _, err = run(["eval-multisports", "--gt", gt, "--pred", csv], capsys)
    assert code == 2 and 'row 3, field "score"' in err


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({0: [("v/a", 0.9, np.array([[1, 0, 0, 10, 10, 1], [3, 0, 0, 10, 10, 1]]))]},
         'label 0, tube 1, field "tube": frames must be consecutive'),
        ({0: [("v/a", "high", np.array([[1, 0, 0, 10, 10, 1]]))]}, 'field "score"'),
        ({7: []}, "label 7: not a label index 0..2"),
        ({0: [("v/a", 0.9)]}, "label 0, tube 1: expected a (video, score, tube) triple"),
    ],
)  # fmt: skip
def test_cli_bad_video_detections(files, capsys, obj, message):
    gt, _, tmp = files
    dets = _write(tmp / "tubes.pkl", obj)
    code, _, err = run(
        ["eval-multisports", "--gt", gt, "--pred", dets, "--metric", "video"], capsys
    )
    assert code == 2 and message in err, err


def test_cli_refuses_pickled_code(files, capsys):
    gt, _, tmp = files

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    dets = _write(tmp / "evil.pkl", Evil())
    code, _, err = run(["eval-multisports", "--gt", gt, "--pred", dets], capsys)
    assert code == 2 and "refusing to unpickle" in err


def test_video_labels_missing_from_the_pickle_have_no_detection(files, capsys):
    gt, _, tmp = files
    dets = _write(tmp / "tubes.pkl", {2: []})
    code, out, _ = run(
        ["eval-multisports", "--gt", gt, "--pred", dets, "--metric", "video", "--format", "json"],
        capsys,
    )
    assert json.loads(out)["AP"] == {"spike": [0.0, 0.0]}


def test_evaluator_imports_no_torch_cv2_matplotlib_and_prints_nothing(capsys):
    import subprocess
    import sys

    code = (
        "import sys, attnviz.evaluate.multisports, attnviz.io.multisports;"
        "print(','.join(m for m in ('torch', 'cv2', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    gt = _gt({"v/a": [(0, _box_tube([1, 2], [0, 0, 10, 10]))]})
    dets = FrameDetections.from_arrays(["v/a"], [1], [0], [0.9], [[0, 0, 10, 10]])
    evaluate(gt, dets, MultiSportsParams("frame"))
    assert capsys.readouterr() == ("", "")
