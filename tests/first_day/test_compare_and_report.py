"""Issue 22, points 7 and 12: ``--compare`` in every format with counts that add up, and
``report`` reading it; report tables without a % in every cell, rows with useful names, the
paper's Table 5 rows once, and no threshold dropped without a word."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def thumos_case(tmp_path):
    """A detection at tIoU exactly 0.5 over an Ambiguous segment: thumos14 (overlap > 0.5) drops
    it, activitynet (tIoU >= 0.5) counts it a true positive: dropped -> TP."""
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "BaseballPitch_test.txt").write_text("v1 0 10\nv2 0 10\n")
    (gt / "Ambiguous_test.txt").write_text("v1 0 10\n")
    (tmp_path / "classes.txt").write_text("7 BaseballPitch\n")
    run = tmp_path / "run.txt"
    run.write_text("v1 0 5 7 0.9\nv2 0 10 7 0.8\nv2 20 30 7 0.7\n")
    return gt, tmp_path / "classes.txt", run


def test_compare_counts_add_up_and_every_format(cli, thumos_case, tmp_path):  # point 7
    gt, classes, run = thumos_case
    base = ("eval-thumos", "--gt", gt, "--classes", classes, "--pred", run, "--tiou", "0.5",
            "--compare", "thumos14,activitynet", "--quiet")  # fmt: skip
    code, out, err = cli(*base)
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if "change status" in ln)
    changed = int(line.split("detections change status")[0].split(";")[-1])
    parts = line.split("(")[1].split(")")[0].split(", ")
    assert sum(int(p.split()[0]) for p in parts) == changed == 1
    assert "1 dropped->TP" in line
    for fmt in ("markdown", "csv"):
        code, out, err = cli(*base, "--format", fmt)
        assert code == 0, err
    assert "activitynet,0.5,1.0,1," in out  # csv: mAP and the changes
    code, out, err = cli(*base, "--format", "json", "--out", tmp_path / "cmp.json")
    assert code == 0, err
    code, out, err = cli("report", "--eval", f"run={tmp_path / 'cmp.json'}")
    assert code == 0, err
    assert "| run (thumos14) |" in out and "| run (activitynet) |" in out


def _spatial(path, metric, thresholds, values):
    path.write_text(json.dumps({"metric": metric, "protocol": "act", "iou": thresholds,
                                "mAP": values, "AP": {"a": values}}))  # fmt: skip
    return path


def test_report_tables(cli, tmp_path):  # point 12
    thr = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75]
    (tmp_path / "runA").mkdir()
    fr = _spatial(
        tmp_path / "runA" / "eval_frame.json", "frame", thr, [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    )
    vi = _spatial(tmp_path / "runA" / "eval_video.json", "video", thr, [0.5] * 6)
    code, out, err = cli("report", "--eval", fr, "--eval", vi, "--paper", "--out", tmp_path / "r")
    assert code == 0, err
    assert "%" not in out.replace("(%)", "")  # the header says (%), not every cell
    assert "| runA |" in out and "eval_frame" not in out  # named after the run folder
    assert out.count("Ours (paper)") == 1 and "does not say whether" in out
    assert "α = 0.5 |" in out and "α = 0.75" in out  # no column dropped
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert "runA_frame.md" in names and not any("frame_frame" in n for n in names)
