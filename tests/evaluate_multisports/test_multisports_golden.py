"""MultiSports frame-AP / video-AP against the official evaluate_multisports.py, per label and
threshold, on the generated sets of tests/data/multisports (README there says how they and the
official numbers were made)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from attnviz.evaluate.multisports import MultiSportsParams, evaluate, parse_iou
from attnviz.io.detections import write_tubes
from attnviz.io.multisports import read_multisports_frames, read_multisports_tubes
from attnviz.io.safe_pickle import safe_load
from attnviz.io.spatial_gt import read_spatial_gt

DATA = Path(__file__).resolve().parents[1] / "data" / "multisports"
OFFICIAL = json.loads((DATA / "official.json").read_text())
GOLDEN = [
    ("frame_rules.pkl", "frame_rules"),
    ("frame_rules.csv", "frame_rules"),
    ("frame_ties.pkl", "frame_ties"),
    ("video_rules.pkl", "video_rules"),
    ("video_rules.pkl", "video_rules_all"),
    ("video_ties.pkl", "video_ties"),
    ("video_ties.pkl", "video_ties_all"),
    ("frame_rules32.pkl", "frame_rules32"),
]
# (ground truth, video detections, key): float32 tubes, computed in float32 as the official does
TYPED = [
    ("gt32.pkl", "video_rules32.pkl", "video_rules32"),
    ("gt.pkl", "video_rules32.pkl", "video_rules32_gt64"),
    ("gt32.pkl", "video_rules.pkl", "video_rules_gt32"),
]


@pytest.fixture(scope="module")
def gt():
    return read_spatial_gt(DATA / "gt.pkl")


def _read(gt, name: str, metric: str):
    if metric == "frame":
        return read_multisports_frames(DATA / name, gt)
    return read_multisports_tubes(DATA / name, gt)


def _assert_equal(result, off) -> None:
    assert list(result.class_names) == list(off["AP"])  # same labels, same order
    for k, name in enumerate(result.class_names):
        np.testing.assert_allclose(result.ap[k], off["AP"][name], rtol=0, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(result.mAP, off["mAP"], rtol=0, atol=1e-6)


@pytest.mark.parametrize(("file", "key"), GOLDEN)
def test_per_label_equal_to_official(gt, file, key):
    off = OFFICIAL[key]
    params = MultiSportsParams(off["metric"], tuple(off["iou"]))
    _assert_equal(evaluate(gt, _read(gt, file, off["metric"]), params), off)


@pytest.mark.parametrize(("gt_file", "file", "key"), TYPED)
def test_float32_tubes_as_official(gt_file, file, key):
    from attnviz.pipeline.multisports import eval_multisports

    off = OFFICIAL[key]
    _assert_equal(
        eval_multisports(DATA / gt_file, DATA / file, metric="video", iou=off["iou"]), off
    )


def test_float32_changes_threshold_decisions():
    """The same tubes in float64 give other numbers at 0.30000000000000004 and 0.7 (their
    float32 IoUs 0.3 and 0.7 round up and down): the float32 golden numbers have teeth."""
    a, b = OFFICIAL["video_rules32"], OFFICIAL["video_rules_all"]
    assert a["iou"] == b["iou"]
    assert any(a["AP"][n] != b["AP"][n] for n in a["AP"])


def test_labels_left_out_as_official(gt):
    r = evaluate(gt, _read(gt, "frame_rules.pkl", "frame"), MultiSportsParams("frame"))
    assert r.extra["excluded"] == ["aerobic kick jump", "basketball save", "basketball jump ball"]
    assert r.extra["no_ground_truth"] == ["volleyball block", "football shoot"]
    assert set(r.to_dict()) == {"metric", "protocol", "iou", "mAP", "AP"}
    assert "volleyball block" not in r.to_dict()["AP"]


def test_official_ranges_are_videoAP_all_doubles():
    # the thresholds the official videoAP_all passed to videoAP, recorded bit for bit
    got = [t.hex() for spec in ("0.5:0.95:0.05", "0.05:0.45:0.05", "0.1:0.9:0.1")
           for t in parse_iou(spec)]  # fmt: skip
    assert got == OFFICIAL["video_rules_all"]["iou_hex"]
    assert parse_iou("0.1:0.9:0.1")[2] == 0.30000000000000004
    # neither numpy helper builds the same doubles
    assert np.linspace(0.5, 0.95, 10).tolist() != list(parse_iou("0.5:0.95:0.05"))
    assert [t.hex() for t in parse_iou("0.2,0.5")] == OFFICIAL["video_rules"]["iou_hex"]


def test_range_means_as_videoAP_all_prints(gt):
    from attnviz.pipeline.multisports import format_multisports

    tubes = _read(gt, "video_rules.pkl", "video")
    spec = "0.05:0.45:0.05,0.1:0.9:0.1,0.5:0.95:0.05"
    text = format_multisports(evaluate(gt, tubes, MultiSportsParams.for_metric("video", spec)))
    printed = OFFICIAL["video_rules_all"]["printed"]
    for a, b in (("0.05:0.45", "0.05:0.45:0.05"), ("0.10:0.90", "0.1:0.9:0.1"),
                 ("0.50:0.95", "0.5:0.95:0.05")):  # fmt: skip
        value = printed.split(f"VideoAP_{a}:")[1].split()[0]
        assert f"video-mAP {b} (mean of" in text
        assert text.split(f"video-mAP {b} (mean of")[1].split(": ")[1].split()[0] == value


def test_tubes_json_gives_the_same_numbers(gt, tmp_path):
    tubes = _read(gt, "video_rules.pkl", "video")
    write_tubes(tmp_path / "tubes.json", tubes)
    off = OFFICIAL["video_rules_all"]
    params = MultiSportsParams("video", tuple(off["iou"]))
    _assert_equal(evaluate(gt, read_multisports_tubes(tmp_path / "tubes.json", gt), params), off)


def test_gt_pickles_of_numpy_1_and_2_both_load(gt, tmp_path):
    raw = (DATA / "gt.pkl").read_bytes()
    assert b"numpy.core.multiarray" in raw  # written by numpy 1.23.5
    data = safe_load(DATA / "gt.pkl")
    again = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    if int(np.__version__.split(".")[0]) >= 2:
        assert b"numpy._core" in again
    (tmp_path / "gt2.pkl").write_bytes(again)
    gt2 = read_spatial_gt(tmp_path / "gt2.pkl")
    off = OFFICIAL["video_rules"]
    tubes = read_multisports_tubes(DATA / "video_rules.pkl", gt2)
    _assert_equal(evaluate(gt2, tubes, MultiSportsParams("video", tuple(off["iou"]))), off)


def test_tie_order_differs_from_numpy_quicksort_only_by_order(gt, tmp_path):
    """40 detections with one score: the official quicksort does not keep file order, so its
    numbers differ from attnviz's stable order; written in the official order, they agree."""
    off = OFFICIAL["frame_tiediff"]
    params = MultiSportsParams("frame", tuple(off["iou"]))
    ours = evaluate(gt, _read(gt, "frame_tiediff.pkl", "frame"), params)
    gap = np.abs(ours.ap[ours.class_names.index("football pass")] - off["AP"]["football pass"])
    assert gap.max() > 0.01  # the difference the tie order makes (see README)
    order = OFFICIAL["frame_tiediff_official_order"]
    assert order != sorted(order)
    rows = safe_load(DATA / "frame_tiediff.pkl")[order]
    (tmp_path / "reordered.pkl").write_bytes(pickle.dumps(rows))
    _assert_equal(
        evaluate(gt, read_multisports_frames(tmp_path / "reordered.pkl", gt), params), off
    )
