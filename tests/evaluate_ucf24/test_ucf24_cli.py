"""``attnviz eval-ucf24`` and ``attnviz convert-gt`` through the entry point: the report
formats, ``--compare``, and one ``error:`` line with a non-zero exit (nothing written) for every
kind of bad input."""

from __future__ import annotations

import gzip
import json
import pickle

import pytest
from ucf24_helpers import make_gt

from attnviz.cli import main
from attnviz.io.spatial_gt import coco_image_ids, write_spatial_gt

GT = make_gt(
    {
        "A/v1": [(0, 1, [[0, 0, 9, 9]] * 3), (0, 1, [[4, 0, 13, 9]] * 3)],
        "B/v2": [(1, 2, [[5, 5, 20, 20]] * 4)],
    },
    labels=("Alpha", "Beta", "Gamma"),
    nframes=10,
)
ROWS = [
    "A/v1,1,Alpha,0.9,0,0,9,9",
    "A/v1,1,Alpha,0.8,1,0,10,9",
    "A/v1,2,Alpha,0.7,0,0,4,9",
    "B/v2,3,Beta,0.6,5,5,20,20",
    "B/v2,9,Beta,0.5,5,5,20,20",
]


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def files(tmp_path):
    gt = tmp_path / "gt.json"
    write_spatial_gt(GT, gt, "act-json")
    det = tmp_path / "det.csv"
    det.write_text("video,frame,class,score,x1,y1,x2,y2\n" + "\n".join(ROWS) + "\n")
    tubes = tmp_path / "tubes.json"
    tubes.write_text(
        json.dumps(
            {
                "tubes": [
                    {"video": "A/v1", "class": 0, "score": 0.9, "boxes": [[1, 0, 0, 9, 9],
                                                                        [2, 0, 0, 9, 9]]},
                    {"video": "B/v2", "class": "Beta", "score": 0.4,
                     "boxes": [[f, 5, 5, 20, 20] for f in range(2, 6)]},
                ]
            }
        )
    )  # fmt: skip
    return gt, det, tubes


def test_json_layout(files, capsys):
    gt, det, _ = files
    code, out, err = run(["eval-ucf24", "--gt", gt, "--pred", det, "--format", "json",
                          "--iou", "0.5,0.3"], capsys)  # fmt: skip
    assert code == 0 and err.startswith("warning: 1 classes have no ground truth")
    d = json.loads(out)
    assert list(d) == ["metric", "protocol", "iou", "mAP", "AP"]
    assert d["metric"] == "frame" and d["protocol"] == "act" and d["iou"] == [0.5, 0.3]
    assert list(d["AP"]) == ["Alpha", "Beta", "Gamma"]
    assert all(len(v) == 2 and all(0 <= x <= 1 for x in v) for v in d["AP"].values())
    assert d["mAP"] == pytest.approx([sum(v[i] for v in d["AP"].values()) / 3 for i in (0, 1)])


def test_table_csv_markdown_and_out(files, capsys, tmp_path):
    gt, det, tubes = files
    code, out, _ = run(["eval-ucf24", "--gt", gt, "--pred", det, "--per-class", "--quiet"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Spatial localization frame-mAP (%), protocol act"
    assert "IoU=0.05" in lines[1] and "IoU=0.75" in lines[1]
    assert [ln.split()[0] for ln in lines[3:6]] == ["Alpha", "Beta", "Gamma"]
    assert lines[-1].startswith("mAP")
    args = ["--metric", "video", "--protocol", "ucf24-matlab", "--format", "csv", "--quiet"]
    code, out, _ = run(["eval-ucf24", "--gt", gt, "--pred", tubes, *args], capsys)
    assert code == 0 and out.splitlines()[0] == "class,iou,ap" and len(out.splitlines()) == 25
    code, out, _ = run(["eval-ucf24", "--gt", gt, "--pred", det, "--format", "markdown",
                        "--out", tmp_path / "r.md", "--quiet"], capsys)  # fmt: skip
    assert code == 0 and out == ""
    assert (tmp_path / "r.md").read_text().splitlines()[-1].startswith("| **mAP** |")


def test_warnings_on_stderr_and_empty_input(files, capsys, tmp_path):
    gt, _, _ = files
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, out, err = run(["eval-ucf24", "--gt", gt, "--pred", empty, "--protocol", "voc"], capsys)
    assert code == 0 and "mAP" in out
    assert "warning: the detection file holds no detection: every AP is 0" in err
    assert "warning: 1 classes have no ground truth in the split, left out of the mAP" in err


def test_compare(files, capsys):
    gt, det, tubes = files
    code, out, err = run(["eval-ucf24", "--gt", gt, "--pred", det, "--compare", "act,voc,coco",
                          "--iou", "0.5", "--quiet"], capsys)  # fmt: skip
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "frame-mAP (%) under each protocol"
    assert [ln.split()[0] for ln in lines[3:6]] == ["act", "voc", "coco"]
    assert any(ln.startswith("voc vs act: mAP IoU=0.5:") for ln in lines)
    # D2 (0.8) is a TP under act (it takes the free second box) and an FP under voc
    assert (
        "  detections that change status: IoU=0.5: 1 TP only under act, 0 only under voc" in lines
    )
    assert any(ln.startswith("  why: voc lets a detection take a ground-truth box") for ln in lines)
    assert any(ln.startswith("coco: IoU without +1") for ln in lines)
    args = ["--metric", "video", "--compare", "act,voc,ucf24-matlab", "--format", "json"]
    code, out, _ = run(["eval-ucf24", "--gt", gt, "--pred", tubes, *args], capsys)
    d = json.loads(out)
    assert [r["protocol"] for r in d["results"]] == ["act", "voc", "ucf24-matlab"]
    assert d["differences"][0]["protocols"] == ["act", "voc"]
    assert len(d["differences"]) == 3 and len(d["differences"][0]["changed"]) == 6


def test_coco_results_need_the_coco_gt(files, capsys, tmp_path):
    gt, _, _ = files
    cg = tmp_path / "coco.json"
    code, _, err = run(["convert-gt", gt, cg, "--to", "coco"], capsys)
    assert code == 0 and err.startswith("wrote ")
    ids = coco_image_ids(GT)
    res = tmp_path / "res.json"
    res.write_text(json.dumps([{"image_id": ids[("A/v1", 1)], "category_id": 1,
                                "bbox": [0, 0, 9, 9], "score": 0.9}]))  # fmt: skip
    code, out, _ = run(["eval-ucf24", "--gt", gt, "--pred", res, "--coco-gt", cg, "--protocol",
                        "coco", "--format", "json", "--iou", "0.5"], capsys)  # fmt: skip
    # one TP of 6 boxes: recall 1/6 reached at the 17 recall points 0, 0.01, ..., 0.16
    assert code == 0 and json.loads(out)["AP"]["Alpha"][0] == pytest.approx(17 / 101, abs=1e-12)
    code, _, err = run(["eval-ucf24", "--gt", gt, "--pred", res], capsys)
    assert code != 0 and "--coco-gt" in err


def _bad(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "kind, message",
    [
        ("video", r'det\.csv, row 2, field "video": unknown video'),
        ("class", r'det\.csv, row 2, field "class": unknown class'),
        ("frame", r'det\.csv, row 2, field "frame": frame 11 outside the video'),
        ("box", r'det\.csv, row 2, field "x2": box has x2 < x1'),
        ("nan", r'det\.csv, row 2, field "x1": missing or NaN'),
        ("fields", r"det\.csv, row 3: expected 8 fields"),
        ("gzip", r"det\.csv\.gz: truncated or corrupt gzip file"),
        ("tube", r'tubes\.json, tube 1, field "boxes": frames must be consecutive'),
        ("pickle", r"gt\.pkl: refusing to unpickle"),
        ("split", r'field "video": \'B/v2\' is not a video of the evaluated split'),
        ("iou", r"threshold list '0\.5,x': 'x' is not a number"),
        ("iou_range", r"threshold 1\.5 is outside \[0, 1\]"),
        ("protocol", r"frame protocols are act, voc, coco, got 'map'"),
        ("metric", r"--metric must be frame or video"),
        ("format", r"--format must be one of table, json, csv, markdown"),
        ("nms", r"--tube-nms must be a number in \[0, 1\] or none"),
        ("gt", r"ground truth not found"),
        ("nosplit", r"gt3\.json: the ground truth has no test split"),
        ("to", r"--to must be one of act-json"),
    ],
)
def test_bad_input_one_line_error(files, tmp_path, capsys, kind, message):
    gt, det, tubes = files
    head = "video,frame,class,score,x1,y1,x2,y2\n"
    args = ["eval-ucf24", "--gt", gt, "--pred", det]
    if kind == "video":
        args[4] = _bad(tmp_path, "det.csv", head + "C/v3,1,0,0.9,0,0,9,9\n")
    elif kind == "class":
        args[4] = _bad(tmp_path, "det.csv", head + "A/v1,1,Omega,0.9,0,0,9,9\n")
    elif kind == "frame":
        args[4] = _bad(tmp_path, "det.csv", head + "A/v1,11,0,0.9,0,0,9,9\n")
    elif kind == "box":
        args[4] = _bad(tmp_path, "det.csv", head + "A/v1,1,0,0.9,9,0,0,9\n")
    elif kind == "nan":
        args[4] = _bad(tmp_path, "det.csv", head + "A/v1,1,0,0.9,NaN,0,9,9\n")
    elif kind == "fields":
        args[4] = _bad(tmp_path, "det.csv", head + ROWS[0] + "\n" + ROWS[1] + ",3\n")
    elif kind == "gzip":
        p = tmp_path / "det.csv.gz"
        p.write_bytes(gzip.compress((head + "\n".join(ROWS * 50)).encode())[:-12])
        args[4] = p
    elif kind == "tube":
        bad = {"tubes": [{"video": "A/v1", "class": 0, "score": 1,
                          "boxes": [[1, 0, 0, 9, 9], [3, 0, 0, 9, 9]]}]}  # fmt: skip
        args[4] = _bad(tmp_path, "tubes.json", json.dumps(bad))
        args += ["--metric", "video"]
    elif kind == "pickle":

        class Evil:
            def __reduce__(self):
                import os

                return (os.getcwd, ())

        p = tmp_path / "gt.pkl"
        p.write_bytes(pickle.dumps({"db": Evil()}))
        args[2] = p
    elif kind == "split":
        g2 = tmp_path / "gt2.json"
        import dataclasses

        write_spatial_gt(dataclasses.replace(GT, test_videos=("A/v1",)), g2, "act-json")
        args[2] = g2
    elif kind == "nosplit":
        import dataclasses

        args[2] = tmp_path / "gt3.json"
        write_spatial_gt(dataclasses.replace(GT, test_videos=()), args[2], "act-json")
    elif kind == "iou":
        args += ["--iou", "0.5,x"]
    elif kind == "iou_range":
        args += ["--iou", "0.5,1.5"]
    elif kind == "protocol":
        args += ["--protocol", "map"]
    elif kind == "metric":
        args += ["--metric", "box"]
    elif kind == "format":
        args += ["--format", "xml"]
    elif kind == "nms":
        args += ["--tube-nms", "high"]
    elif kind == "gt":
        args[2] = tmp_path / "nope.pkl"
    elif kind == "to":
        args = ["convert-gt", gt, tmp_path / "o.json", "--to", "yaml"]
    out_file = tmp_path / "report.txt"
    if args[0] == "eval-ucf24":
        args += ["--out", out_file]
    code, out, err = run(args, capsys)
    assert code != 0 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    import re

    assert re.search(message, err), err
    assert not out_file.exists() and not (tmp_path / "o.json").exists()


@pytest.mark.parametrize(
    "to, name",
    [("act-pkl", "g.pkl"), ("pyannot-json", "g.json"), ("pyannot-pkl", "p.pkl"), ("mat", "g.mat")],
)
def test_convert_gt_then_evaluate_gives_the_same_numbers(files, capsys, tmp_path, to, name):
    gt, det, tubes = files
    code, _, err = run(["convert-gt", gt, tmp_path / name, "--to", to], capsys)
    assert code == 0 and err == f"wrote {tmp_path / name}\n"
    for pred, metric in ((det, "frame"), (tubes, "video")):
        outs = []
        for g in (gt, tmp_path / name):
            code, out, _ = run(["eval-ucf24", "--gt", g, "--pred", pred, "--metric", metric,
                                "--format", "json", "--quiet"], capsys)  # fmt: skip
            assert code == 0
            outs.append(json.loads(out))
        assert outs[0] == outs[1]
