"""Every input format of ``eval-thumos`` reads to the same records, and every malformed input
gives one clear error naming the file, the line and the field."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest
from thumos_helpers import write_gt_folder

from attnviz.errors import AttnvizError, InputError
from attnviz.io.thumos import (
    default_class_list,
    detection_format,
    read_class_list,
    read_detections,
    read_thumos_gt,
    write_run_file,
)
from attnviz.types import TemporalDetections

ROWS = [("A", "v1", 0.0, 10.0), ("A", "v2", 3.5, 7.25), ("B", "v1", 20.0, 30.0)]
IDS, NAMES = (1, 2), ("A", "B")


def _same_dets(a: TemporalDetections, b: TemporalDetections, times_to: int | None = None) -> None:
    """Equal detections; ``times_to`` decimals: times as a run file writes them (rounded)."""
    assert a.video.tolist() == b.video.tolist()
    r = (lambda x: x) if times_to is None else (lambda x: np.round(x, times_to))
    np.testing.assert_array_equal(a.start, r(b.start))
    np.testing.assert_array_equal(a.end, r(b.end))
    np.testing.assert_array_equal(a.label, b.label)
    np.testing.assert_array_equal(a.score, b.score)


@pytest.fixture
def dets() -> TemporalDetections:
    return TemporalDetections.from_arrays(
        ["v1", "v1", "v2", "v3"],
        [0.1, 20.0, 3.5, 1.0],
        [9.9, 0.30000000000000004, 7.0, 1.0],
        [0, 1, 0, 1],
        [0.9, 0.8, 0.123456789012345678, -2.5],
    )


# ----------------------------------------------------------------- class lists
def test_default_class_list_is_thumos14():
    ids, names = default_class_list()
    assert len(ids) == 20 and ids[0] == 7 and names[0] == "BaseballPitch"
    assert ids[-1] == 97 and names[-1] == "VolleyballSpiking"
    assert dict(zip(names, ids, strict=True))["CliffDiving"] == 22


def test_class_list_crlf_and_lf(tmp_path, th14):
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"7 BaseballPitch\r\n9 BasketballDunk\r\n\r\n")
    lf = tmp_path / "lf.txt"
    lf.write_bytes(b"7 BaseballPitch\n9 BasketballDunk\n")
    assert (
        read_class_list(crlf)
        == read_class_list(lf)
        == ((7, 9), ("BaseballPitch", "BasketballDunk"))
    )
    # the official file (CRLF) equals the one shipped in the package
    assert read_class_list(th14 / "Class Index_Detection.txt") == default_class_list()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7 A\n8\n", "line 2: expected 'id name'"),
        ("x A\n", "line 1, field \"id\": 'x' is not an integer"),
        ("7 A\n8 A\n", 'line 2, field "name": duplicate class'),
        ("7 A\n7 B\n", 'line 2, field "id": duplicate id 7'),
        ("7 Ambiguous\n", "reserved"),
        ("\n\n", "empty class list"),
    ],
)
def test_bad_class_lists(tmp_path, text, message):
    p = tmp_path / "classes.txt"
    p.write_text(text)
    with pytest.raises(InputError, match="classes.txt") as exc:
        read_class_list(p)
    assert message in str(exc.value)


# ----------------------------------------------------------------- ground truth
def test_gt_folder_json_csv_agree_on_real_annotations(th14):
    folder = read_thumos_gt(th14 / "annotations_test")
    csv = read_thumos_gt(th14 / "thumos14_test_groundtruth.csv")
    js = read_thumos_gt(th14 / "thumos_gt.json")
    assert len(folder) == 3358 and len(csv) == 3358
    for other in (csv,):
        assert other.video.tolist() == folder.video.tolist()
        np.testing.assert_array_equal(other.start, folder.start)
        np.testing.assert_array_equal(other.end, folder.end)
        np.testing.assert_array_equal(other.label, folder.label)
        assert {k: v.tolist() for k, v in other.ambiguous.items()} == {
            k: v.tolist() for k, v in folder.ambiguous.items()
        }
    assert sum(len(v) for v in folder.ambiguous.values()) == 99
    assert "video_test_0001292" in folder.videos and "video_test_0001292" not in set(folder.video)
    # the JSON drops 3 test videos (47 instances) and every Ambiguous segment
    assert len(js) == 3311 and not js.ambiguous
    # (the JSON lists videos first: compare within each class and video, where order matters)
    keep = ~np.isin(folder.video.astype(str), ["video_test_0000270", "video_test_0001496"])

    def grouped(g, sel=slice(None)):
        rows = list(
            zip(
                g.label[sel].tolist(),
                g.video[sel].tolist(),
                g.start[sel].tolist(),
                g.end[sel].tolist(),
                strict=True,
            )
        )
        return sorted(rows, key=lambda r: (r[0], r[1]))  # stable: annotation order kept

    assert grouped(js) == grouped(folder, keep)
    val = read_thumos_gt(th14 / "annotations_val", subset="val")
    assert len(val) == 3007 and sum(len(v) for v in val.ambiguous.values()) == 89
    assert len(read_thumos_gt(th14 / "thumos_gt.json", subset="val")) == 3007


def test_gt_gzip_and_small_folder(tmp_path):
    folder = write_gt_folder(tmp_path / "gt", ROWS, ambiguous=[("v1", 40, 45)])
    gt = read_thumos_gt(folder, classes=folder / "classes.txt")
    assert gt.video.tolist() == ["v1", "v2", "v1"] and gt.label.tolist() == [0, 0, 1]
    assert gt.start.tolist() == [0.0, 3.5, 20.0] and gt.ambiguous["v1"].tolist() == [[40, 45]]
    db = {
        "v1": {
            "subset": "test",
            "annotations": [
                {"segment": ["0.0", "10.0"], "label": "A"},
                {"segment": [20, 30], "label": "B"},
                {"segment": [40, 45], "label": "Ambiguous"},
            ],
        },
        "v2": {"subset": "test", "annotations": [{"segment": [3.5, 7.25], "label": "A"}]},
        "v9": {"subset": "train", "annotations": [{"segment": [1, 2], "label": "A"}]},
    }
    path = tmp_path / "gt.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"database": db}).encode()))
    js = read_thumos_gt(path, classes=folder / "classes.txt")
    assert sorted(zip(js.video, js.label, js.start, strict=True)) == sorted(
        zip(gt.video, gt.label, gt.start, strict=True)
    )
    assert js.ambiguous["v1"].tolist() == [[40, 45]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("v1  0 10\nv2 3\n", "A_test.txt, line 2: expected 'video t_start t_end'"),
        ("v1  0 10\nv2  x 3\n", "A_test.txt, line 2, field \"t_start\": 'x' is not a number"),
        ("v1  0 nan\n", "A_test.txt, line 1, field \"t_end\": 'nan' is NaN"),
        ("v1  0 inf\n", "A_test.txt, line 1, field \"t_end\": 'inf' is not finite"),
    ],
)
def test_bad_gt_files(tmp_path, content, message):
    folder = write_gt_folder(tmp_path / "gt", ROWS)
    (folder / "A_test.txt").write_text(content)
    with pytest.raises(InputError) as exc:
        read_thumos_gt(folder, classes=folder / "classes.txt")
    assert message in str(exc.value)


def test_missing_gt_files(tmp_path):
    folder = write_gt_folder(tmp_path / "gt", ROWS)
    (folder / "B_test.txt").unlink()
    with pytest.raises(AttnvizError, match=r"B_test.txt: annotation file of class 'B' not found"):
        read_thumos_gt(folder, classes=folder / "classes.txt")
    with pytest.raises(AttnvizError, match=r"no ground-truth files '<Class>_val.txt'"):
        read_thumos_gt(folder, subset="val", classes=folder / "classes.txt")
    with pytest.raises(AttnvizError, match="ground truth not found"):
        read_thumos_gt(tmp_path / "nope")
    (tmp_path / "gt.txt").write_text("x")
    with pytest.raises(InputError, match="unknown ground-truth format"):
        read_thumos_gt(tmp_path / "gt.txt")


def test_bad_gt_json_and_csv(tmp_path):
    p = tmp_path / "gt.json"
    p.write_text(
        '{"database": {"v": {"subset": "test", "annotations": [{"segment": [1], "label": "A"}]}}}'
    )
    with pytest.raises(InputError, match=r'video "v", annotation 0, field "segment"'):
        read_thumos_gt(p)
    p.write_text(
        '{"database": {"v": {"subset": "test", "annotations": [{"segment": [1, 2], '
        '"label": "Nope"}]}}}'
    )
    with pytest.raises(InputError, match=r"field \"label\": unknown class 'Nope'"):
        read_thumos_gt(p)
    p.write_text('{"database": ')
    with pytest.raises(InputError, match="gt.json, line 1: not valid JSON"):
        read_thumos_gt(p)
    c = tmp_path / "gt.csv"
    c.write_text("video-name,t-init,t-end,label-idx\nv,1,2,0\nv,1,2,20\n")
    with pytest.raises(InputError, match=r'gt.csv, line 3, field "label-idx": 20 out of range'):
        read_thumos_gt(c)
    c.write_text("video-name,t-init,t-end\nv,1,2\n")
    with pytest.raises(InputError, match='missing column "label-idx"'):
        read_thumos_gt(c)


# ----------------------------------------------------------------- detections
def test_run_json_csv_gz_read_the_same(tmp_path, dets):
    run = tmp_path / "run.txt"
    write_run_file(run, dets, IDS)
    base = read_detections(run, class_ids=IDS, class_names=NAMES)
    _same_dets(base, dets, times_to=6)
    assert base.line.tolist() == [1, 2, 3, 4]
    # gzip, with or without the .gz name
    gz = tmp_path / "run.txt.gz"
    gz.write_bytes(gzip.compress(run.read_bytes()))
    _same_dets(read_detections(gz, class_ids=IDS, class_names=NAMES), dets, times_to=6)
    hidden = tmp_path / "run2.txt"
    hidden.write_bytes(gz.read_bytes())
    _same_dets(read_detections(hidden, class_ids=IDS, class_names=NAMES), dets, times_to=6)
    # ActivityNet results JSON, labels as names or ids
    res: dict = {}
    cols = [c.tolist() for c in (dets.video, dets.start, dets.end, dets.label, dets.score)]
    for v, s, e, k, sc in zip(*cols, strict=True):
        lab = NAMES[k] if k == 0 else str(IDS[k])
        res.setdefault(v, []).append({"segment": [s, e], "label": lab, "score": sc})
    js = tmp_path / "pred.json"
    js.write_text(json.dumps({"version": "x", "results": res}))
    _same_dets(read_detections(js, class_ids=IDS, class_names=NAMES), dets)
    # CSV with and without a header, labels as names or ids, CRLF line ends
    body = [
        f"{v},{s!r},{e!r},{NAMES[k] if k else IDS[k]},{sc!r}"
        for v, s, e, k, sc in zip(*cols, strict=True)
    ]
    for header in ("", "video,t_start,t_end,label,score\r\n"):
        c = tmp_path / "pred.csv"
        c.write_text(header + "\r\n".join(body) + "\r\n", newline="")
        got = read_detections(c, class_ids=IDS, class_names=NAMES)
        _same_dets(got, dets)
        assert got.line.tolist() == ([2, 3, 4, 5] if header else [1, 2, 3, 4])
    # a header naming the columns in another order
    c.write_text("score,label,video,t_end,t_start\n0.5,A,v1,10,0\n")
    got = read_detections(c, class_ids=IDS, class_names=NAMES)
    assert (got.video[0], got.start[0], got.end[0], got.label[0], got.score[0]) == (
        "v1",
        0.0,
        10.0,
        0,
        0.5,
    )
    # --pred-format forces the reader whatever the extension
    odd = tmp_path / "pred.dat"
    shutil.copy(js, odd)
    assert detection_format(odd) == "run"
    _same_dets(read_detections(odd, class_ids=IDS, class_names=NAMES, fmt="json"), dets)
    assert detection_format("x.CSV.gz") == "csv" and detection_format("x.json") == "json"


def test_run_file_tolerances(tmp_path):
    p = tmp_path / "run.txt"
    # tabs, repeated blanks, blank lines, CRLF, class id written 2.0, exponent scores
    p.write_bytes(b"v1\t0 10  1 0.5\r\n\r\n  v2 1e1 2E1 2.0 -1e-3 \r\n")
    d = read_detections(p, class_ids=IDS, class_names=NAMES)
    assert d.video.tolist() == ["v1", "v2"] and d.line.tolist() == [1, 3]
    assert d.start.tolist() == [0.0, 10.0] and d.label.tolist() == [0, 1]
    assert d.score.tolist() == [0.5, -0.001]
    # a file with no detection is valid
    p.write_text("\n \n")
    assert len(read_detections(p, class_ids=IDS, class_names=NAMES)) == 0
    p.write_text('{"results": {}}')
    assert len(read_detections(p, class_ids=IDS, class_names=NAMES, fmt="json")) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("v 0 1 1 .5\nv 0 1 1\n", "run.txt, line 2: expected 5 fields"),
        ("v 0 1 1 .5 extra\n", "run.txt, line 1: expected 5 fields"),
        ("v 0 1 1 .5\n\nv 0 x 1 .5\n", "run.txt, line 3, field \"t_end\": 'x' is not a number"),
        ("v 0 1 1 nan\n", "run.txt, line 1, field \"score\": 'nan' is NaN"),
        ("v 0 1 1 NaN\n", "run.txt, line 1, field \"score\": 'NaN' is NaN"),
        ("v -inf 1 1 .5\n", "run.txt, line 1, field \"t_start\": '-inf' is not finite"),
        ("v 0 1 1 1_0\n", "run.txt, line 1, field \"score\": '1_0' is not a number"),
        ("v 0 1 3 .5\n", "run.txt, line 1, field \"class_id\": unknown class '3'"),
        ("v 0 1 A .5\n", "run.txt, line 1, field \"class_id\": unknown class 'A'"),
        ("v 0 1 1.5 .5\n", "run.txt, line 1, field \"class_id\": unknown class '1.5'"),
    ],
)
def test_bad_run_files(tmp_path, content, message):
    p = tmp_path / "run.txt"
    p.write_text(content)
    with pytest.raises(InputError) as exc:
        read_detections(p, class_ids=IDS, class_names=NAMES)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"results": [1]}', 'expected an object with a "results" mapping'),
        ('{"results": {"v": 3}}', 'video "v": expected a list of detections'),
        (
            '{"results": {"v": [{"segment": [1], "label": "A", "score": 1}]}}',
            'video "v", detection 0, field "segment"',
        ),
        ('{"results": {"v": [{"segment": [1, 2], "label": "A"}]}}', 'field "score": missing'),
        (
            '{"results": {"v": [{"segment": [1, 2], "label": "A", "score": "x"}]}}',
            "field \"score\": 'x' is not a number",
        ),
        (
            '{"results": {"v": [{"segment": [1, NaN], "label": "A", "score": 1}]}}',
            'field "segment": nan is NaN',
        ),
        ('{"results": {"v": [{"segment": [1, 2], "score": 1}]}}', 'field "label": missing'),
        (
            '{"results": {"v": [{"segment": [1, 2], "label": "C", "score": 1}]}}',
            "field \"label\": unknown class 'C'",
        ),
        ('{"results": {"v": [', "pred.json, line 1: not valid JSON"),
    ],
)
def test_bad_json_predictions(tmp_path, content, message):
    p = tmp_path / "pred.json"
    p.write_text(content)
    with pytest.raises(InputError) as exc:
        read_detections(p, class_ids=IDS, class_names=NAMES)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("v,0,1,A,.5\nv,0,1,A\n", "pred.csv, line 2: expected 5 fields"),
        ("video,start,end,what,score\nv,0,1,A,.5\n", "line 1: header"),
        ("v,0,1,C,.5\n", "pred.csv, line 1, field \"label\": unknown class 'C'"),
        ("v,0,1,A,\n", "pred.csv, line 1, field \"score\": '' is not a number"),
    ],
)
def test_bad_csv_predictions(tmp_path, content, message):
    p = tmp_path / "pred.csv"
    p.write_text(content)
    with pytest.raises(InputError) as exc:
        read_detections(p, class_ids=IDS, class_names=NAMES)
    assert message in str(exc.value)


def test_missing_and_unknown_formats(tmp_path):
    with pytest.raises(AttnvizError, match="nope.txt: file not found"):
        read_detections(tmp_path / "nope.txt", class_ids=IDS, class_names=NAMES)
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(AttnvizError, match="unknown prediction format 'xml'"):
        read_detections(tmp_path / "x.txt", class_ids=IDS, class_names=NAMES, fmt="xml")
    bad = tmp_path / "x.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        read_detections(bad, class_ids=IDS, class_names=NAMES)


def test_write_run_file_rounds_times_and_keeps_every_score(tmp_path, dets):
    p = tmp_path / "sub" / "run.txt"
    write_run_file(p, dets, IDS)
    assert p.read_text().splitlines()[1] == "v1 20.0 0.3 2 0.8"  # issue 22: times rounded
    assert p.read_text().splitlines()[2].endswith(f" {0.123456789012345678!r}")
    _same_dets(read_detections(p, class_ids=IDS, class_names=NAMES), dets, times_to=6)
    assert not [q for q in p.parent.iterdir() if q.name != "run.txt"]
