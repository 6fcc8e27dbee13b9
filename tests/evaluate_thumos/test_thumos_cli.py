"""``attnviz eval-thumos`` end to end: every output format, ``--compare``, ``--out``, and one
clear line with a non-zero exit for every bad input."""

from __future__ import annotations

import json

import pytest
from thumos_helpers import run_cli, write_gt_folder

GT_ROWS = [("A", "v", 0, 10), ("A", "v", 10, 20), ("B", "w", 5, 9)]
# the case of test_three_protocols_three_numbers for class A, plus a hit for B; the kit's AP of
# A is (1/1 + 2/3) / 2 (the sum in the kit's order: 0.8333333333333333, one ulp below 5/6)
A15 = (1 + 2 / 3) / 2
RUN = "v 0 10 1 0.9\nv 30 35 1 0.8\nv 50 52 1 0.75\nv 12 20 1 0.7\nw 5 9 2 0.6\n"


@pytest.fixture
def case(tmp_path):
    gt = write_gt_folder(tmp_path / "gt", GT_ROWS, ambiguous=[("v", 30, 40)])
    run = tmp_path / "run.txt"
    run.write_text(RUN)
    return gt, run


def args(case, *extra):
    gt, run = case
    return ("eval-thumos", "--gt", gt, "--pred", run, "--classes", gt / "classes.txt", *extra)


def test_table_is_the_papers_layout(case):
    code, out, err = run_cli(*args(case))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Temporal localization mAP (%), protocol thumos14"
    assert lines[1].split("|")[1:] == [f" tIoU=0.{k} " for k in range(1, 5)] + [" tIoU=0.5"]
    # A: 5/6, B: 1 -> mAP 11/12 = 91.67 % at every threshold
    assert [c.strip() for c in lines[-1].split("|")] == ["mAP"] + ["91.67"] * 5
    code, out, _ = run_cli(*args(case, "--per-class", "--tiou", "0.5"))
    assert [ln.split("|")[0].strip() for ln in out.splitlines()[3:5]] == ["A", "B"]
    assert out.splitlines()[3].endswith("83.33")


def test_json_layout_is_exact(case):
    code, out, _ = run_cli(*args(case, "--format", "json", "--tiou", "0.1:0.5:0.2"))
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["protocol", "tiou", "mAP", "AP"]
    assert data["protocol"] == "thumos14"
    assert data["tiou"] == [0.1, 0.3, 0.5]
    assert list(data["AP"]) == ["A", "B"]
    assert data["AP"]["A"] == [A15] * 3 and data["AP"]["B"] == [1.0] * 3
    assert data["mAP"] == [(A15 + 1) / 2] * 3
    for p, a in (("thumos14-2014", 28 / 33), ("activitynet", 0.75)):
        _, out, _ = run_cli(*args(case, "--format", "json", "--protocol", p, "--tiou", "0.5"))
        data = json.loads(out)
        assert data["protocol"] == p and data["AP"]["A"] == [pytest.approx(a, abs=1e-15)]
        assert all(0 <= v <= 1 for vs in data["AP"].values() for v in vs)


def test_csv_and_markdown(case):
    code, out, _ = run_cli(*args(case, "--format", "csv", "--tiou", "0.5"))
    assert code == 0
    assert out.splitlines() == [
        "class,tiou,ap",
        f"A,0.5,{A15!r}",
        "B,0.5,1.0",
        f"mAP,0.5,{(A15 + 1) / 2!r}",
    ]
    code, out, _ = run_cli(*args(case, "--format", "markdown", "--per-class", "--tiou", "0.5"))
    assert out.splitlines() == [
        "| | tIoU=0.5 |",
        "|---|---:|",
        "| A | 83.33 |",
        "| B | 100.00 |",
        "| **mAP** | **91.67** |",
    ]


def test_compare_shows_what_changed_and_why(case):
    code, out, err = run_cli(*args(case, "--compare", "thumos14,activitynet,thumos14-2014"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Temporal localization mAP (%) under each protocol"
    rows = [[c.strip() for c in ln.split("|")][:2] for ln in lines[3:6]]
    assert rows == [["thumos14", "91.67"], ["activitynet", "87.50"], ["thumos14-2014", "92.42"]]
    at5 = next(ln for ln in lines if ln.startswith("thumos14 vs activitynet at tIoU=0.5"))
    # the detection in the Ambiguous segment (line 2) is dropped by the kit, an FP for anet
    assert "1 detections change status" in at5 and "because of: ambiguous 1" in at5
    assert "(e.g. lines 2)" in at5
    assert "thumos14 vs thumos14-2014 at tIoU=0.5: mAP 91.67 vs 92.42; 0 detections" in out
    assert any(ln.startswith("why thumos14 and activitynet differ") for ln in lines)
    code, out, _ = run_cli(*args(case, "--compare", "thumos14,activitynet", "--format", "json"))
    data = json.loads(out)
    assert [r["protocol"] for r in data["protocols"]] == ["thumos14", "activitynet"]
    assert data["differences"][0] == {
        "a": "thumos14",
        "b": "activitynet",
        "tiou": 0.1,
        "mAP": [(A15 + 1) / 2, (0.75 + 1) / 2],
        "changed": 1,
        "tp_to_fp": 0,
        "fp_to_tp": 0,
        "ignored_to_fp": 1,
        "fp_to_ignored": 0,
        "tp_to_ignored": 0,
        "ignored_to_tp": 0,
        "reasons": {"ambiguous": 1},
        "examples": [2],
    }


def test_compare_reasons(tmp_path):
    gt = write_gt_folder(tmp_path / "gt", [("A", "v", 0, 10), ("A", "v", 2, 12)], ambiguous=[])
    run = tmp_path / "run.txt"
    # line 1: reversed [8,2] (kits: hit); line 2: overlap exactly .5 with [2,12]... as [2,7];
    # line 3: a .mp4 name; see test_thumos_hand_cases for each rule
    run.write_text("v 8 2 1 0.9\nv 2 7 1 0.8\nv.mp4 0 10 1 0.7\n")
    code, out, _ = run_cli(
        "eval-thumos", "--gt", gt, "--pred", run, "--classes", gt / "classes.txt",
        "--compare", "thumos14,activitynet", "--tiou", "0.5", "--format", "json",
    )  # fmt: skip
    assert code == 0
    diff = json.loads(out)["differences"][0]
    assert diff["reasons"] == {"video_name": 1, "reversed": 1, "at_threshold": 1}


def test_out_is_written_atomically(case, tmp_path):
    dest = tmp_path / "reports" / "table6.json"
    code, out, _ = run_cli(*args(case, "--format", "json", "--out", dest))
    assert code == 0 and out == ""
    assert json.loads(dest.read_text())["protocol"] == "thumos14"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["table6.json"]
    # a failing run leaves the previous report as it was and no temporary file
    gt, run = case
    run.write_text("v 0 10 1 nan\n")
    before = dest.read_text()
    code, _, err = run_cli(*args(case, "--format", "json", "--out", dest))
    assert code != 0 and "is NaN" in err
    assert dest.read_text() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["table6.json"]


def test_warnings_on_stderr_and_quiet(case):
    gt, run = case
    run.write_text(RUN + "nowhere 0 10 1 0.5\n")
    code, out, err = run_cli(*args(case))
    assert code == 0
    assert err == (
        "warning: 1 detections on 1 videos absent from the ground truth (e.g. 'nowhere') count "
        "as false positives\n"
    )
    code, out2, err = run_cli(*args(case, "--quiet"))
    assert code == 0 and err == "" and out2 == out


def test_empty_prediction_file(case):
    gt, run = case
    run.write_text("")
    code, out, err = run_cli(*args(case, "--format", "json"))
    assert code == 0
    assert json.loads(out)["mAP"] == [0.0] * 5
    assert "holds no detection" in err


def test_classes_crlf_and_subset(tmp_path):
    gt = write_gt_folder(tmp_path / "gt", GT_ROWS, ambiguous=[], subset="val")
    (gt / "classes.txt").write_bytes(b"1 A\r\n2 B\r\n")
    run = tmp_path / "run.txt"
    run.write_text("v 0 10 1 0.9\nw 5 9 2 0.6\n")
    code, out, err = run_cli(
        "eval-thumos", "--gt", gt, "--pred", run, "--classes", gt / "classes.txt",
        "--subset", "val", "--format", "json", "--tiou", "0.5",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["AP"] == {"A": [0.5], "B": [1.0]}


def test_real_annotations_through_every_gt_and_pred_format(th14, tmp_path):
    # a perfect run on the real test annotations, as a run file (ids), JSON and CSV (names);
    # ground truth as the official folder, the CSV and (under activitynet) the JSON
    lines = []
    res: dict = {}
    ids = {}
    for ln in (th14 / "Class Index_Detection.txt").read_text().splitlines():
        i, name = ln.split()
        ids[name] = i
    for name in ids:
        for ln in (th14 / "annotations_test" / f"{name}_test.txt").read_text().splitlines():
            v, s, e = ln.split()
            lines.append(f"{v} {s} {e} {ids[name]} 1")
            res.setdefault(v, []).append({"segment": [s, e], "label": name, "score": 1})
    run = tmp_path / "perfect.txt"
    run.write_text("\n".join(lines) + "\n")
    js = tmp_path / "perfect.json"
    js.write_text(json.dumps({"results": res}))
    csv = tmp_path / "perfect.csv"
    csv.write_text("video,t_start,t_end,label,score\n" + "\n".join(
        ",".join([*ln.split()[:3], n, "1"]) for ln, n in zip(
            lines, [n for n in ids for _ in (th14 / "annotations_test" / f"{n}_test.txt")
                    .read_text().splitlines()], strict=True)
    ) + "\n")  # fmt: skip
    for gt in (th14 / "annotations_test", th14 / "thumos14_test_groundtruth.csv"):
        for pred in (run, js, csv):
            code, out, err = run_cli(
                "eval-thumos", "--gt", gt, "--pred", pred, "--format", "json",
                "--classes", th14 / "Class Index_Detection.txt",
            )  # fmt: skip
            assert code == 0, err
            assert json.loads(out)["mAP"] == [1.0] * 5
    # the JSON ground truth lacks three videos: their detections are unknown, and warned
    code, out, err = run_cli(
        "eval-thumos", "--gt", th14 / "thumos_gt.json", "--pred", js, "--protocol", "activitynet",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert "absent from the ground truth" in err
    assert min(json.loads(out)["mAP"]) < 1.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--tiou", "0.1,x"), "threshold list '0.1,x': 'x' is not a number"),
        (("--tiou", "0.1:0.5"), "threshold range '0.1:0.5': expected start:stop:step"),
        (("--tiou", "1.5"), "threshold 1.5 is outside [0, 1]"),
        (("--protocol", "thumos15"), "--protocol must be one of thumos14, thumos14-2014, "),
        (("--format", "xml"), "--format must be one of table, json, csv, markdown"),
        (("--compare", "thumos14"), "--compare takes two or more of"),
        (("--compare", "thumos14,anet"), "--compare takes two or more of"),
        # --compare with --format csv / markdown is accepted since issue 22
        (("--pred-format", "xml"), "unknown prediction format 'xml'"),
        (("--subset", "val"), "no ground-truth files '<Class>_val.txt'"),
    ],
)
def test_bad_options_one_line(case, extra, message):
    code, out, err = run_cli(*args(case, *extra))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("v 0 10 1\n", "run.txt, line 1: expected 5 fields"),
        ("v 0 10 1 .5\nv 0 ten 1 .5\n", "run.txt, line 2, field \"t_end\": 'ten' is not a number"),
        ("v 0 10 9 .5\n", "run.txt, line 1, field \"class_id\": unknown class '9'"),
        ("v 0 10 1 NaN\n", "run.txt, line 1, field \"score\": 'NaN' is NaN"),
    ],
)
def test_bad_prediction_lines_one_line(case, content, message):
    gt, run = case
    run.write_text(content)
    code, out, err = run_cli(*args(case))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_missing_inputs_one_line(case, tmp_path):
    gt, run = case
    for argv, message in [
        (("eval-thumos", "--pred", run), "--gt is required"),
        (("eval-thumos", "--gt", gt), "--pred (or --videos) is required"),
        (("eval-thumos", "--gt", gt, "--pred", tmp_path / "no.txt", "--classes",
          gt / "classes.txt"), "no.txt: file not found"),
        (("eval-thumos", "--gt", tmp_path / "none", "--pred", run), "none: ground truth not found"),
        (("eval-thumos", "--gt", gt, "--pred", run), "annotation file of class 'BaseballPitch'"),
        (("eval-thumos", "--gt", gt, "--pred", run, "--videos", tmp_path), "not both"),
    ]:  # fmt: skip
        code, out, err = run_cli(*argv)
        assert code == 2 and out == "", argv
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert message in err
