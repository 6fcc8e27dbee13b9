"""Frame-detection CSV, COCO results and tubes JSON: what they hold, and one clear error naming
the file, the row and the field for every kind of bad input."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from ucf24_helpers import make_gt

from attnviz.errors import InputError
from attnviz.io.detections import (
    read_coco_results,
    read_frame_detections,
    read_tubes,
    write_coco_results,
    write_frame_detections,
)
from attnviz.io.spatial_gt import coco_image_ids, to_coco

GT = make_gt(
    {"A/v1": [(0, 1, [[0, 0, 9, 9]] * 3)], "B/v2": [(1, 2, [[5, 5, 20, 20]] * 4)]},
    labels=("Alpha", "Beta", "Gamma"),
    nframes=10,
)
HEADER = "video,frame,class,score,x1,y1,x2,y2\n"


def csv(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_with_header_names_and_indices(tmp_path):
    p = csv(tmp_path, HEADER + "A/v1,1,Alpha,0.9,0,0,9,9\nB/v2,3,1,0.5,5.5,5,20,20.25\n")
    d = read_frame_detections(p, GT)
    assert d.video.tolist() == ["A/v1", "B/v2"] and d.frame.tolist() == [1, 3]
    assert d.label.tolist() == [0, 1] and d.score.tolist() == [0.9, 0.5]
    assert d.boxes.tolist() == [[0, 0, 9, 9], [5.5, 5, 20, 20.25]]
    assert d.line.tolist() == [2, 3]


def test_csv_without_header_gzip_and_blank_lines(tmp_path):
    text = "A/v1,1,0,0.9,0,0,9,9\n\n   \nB/v2,3,Beta,0.5,5,5,20,20\n"
    p = tmp_path / "d.csv.gz"
    p.write_bytes(gzip.compress(text.encode()))
    d = read_frame_detections(p, GT)
    assert d.label.tolist() == [0, 1] and d.line.tolist() == [1, 4]
    bad = tmp_path / "bad.csv"
    bad.write_text("A/v1,1,0,0.9,0,0,9,9\n\nB/v2,30,Beta,0.5,5,5,20,20\n")
    with pytest.raises(InputError, match=r'bad\.csv, row 3, field "frame": frame 30 outside'):
        read_frame_detections(bad, GT)


def test_empty_files_are_valid(tmp_path):
    assert len(read_frame_detections(csv(tmp_path, ""), GT)) == 0
    assert len(read_frame_detections(csv(tmp_path, HEADER, "h.csv"), GT)) == 0
    (tmp_path / "t.json").write_text('{"tubes": []}')
    assert read_tubes(tmp_path / "t.json", GT) == []


@pytest.mark.parametrize(
    "row, message",
    [
        ("A/v9,1,0,0.9,0,0,9,9", r'row 2, field "video": unknown video \'A/v9\''),
        ("A/v1,1,Delta,0.9,0,0,9,9", r'row 2, field "class": unknown class \'Delta\''),
        ("A/v1,1,3,0.9,0,0,9,9", r'row 2, field "class": unknown class \'3\''),
        ("A/v1,0,0,0.9,0,0,9,9", r'row 2, field "frame": frame 0 outside the video \(1\.\.10\)'),
        ("A/v1,11,0,0.9,0,0,9,9", r'row 2, field "frame": frame 11 outside'),
        ("A/v1,1.5,0,0.9,0,0,9,9", r'row 2, field "frame": 1\.5 is not an integer'),
        ("A/v1,1,0,0.9,5,0,4,9", r'row 2, field "x2": box has x2 < x1'),
        ("A/v1,1,0,0.9,0,5,9,4", r'row 2, field "y2": box has x2 < x1 or y2 < y1'),
        ("A/v1,1,0,nan,0,0,9,9", r'row 2, field "score": missing or NaN'),
        ("A/v1,1,0,0.9,0,0,inf,9", r'row 2, field "x2": NaN or not a finite number'),
        ("A/v1,1,0,high,0,0,9,9", r"row 2, field \"score\": 'high' is not a number"),
        ("A/v1,1,0,0.9,0,0,9", r'row 2, field "y2": missing or NaN'),
        ("A/v1,1,0,0.9,0,0,9,9,7", r"row 2: expected 8 fields \(video,frame,.*found 9"),
    ],
)
def test_csv_errors(tmp_path, row, message):
    p = csv(tmp_path, HEADER + row + "\nB/v2,2,1,0.5,5,5,20,20\n")
    with pytest.raises(InputError, match=message) as exc:
        read_frame_detections(p, GT)
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


def test_csv_header_must_name_the_columns_in_order(tmp_path):
    p = csv(tmp_path, "video,frame,score,class,x1,y1,x2,y2\nA/v1,1,0.9,0,0,0,9,9\n")
    with pytest.raises(InputError, match="line 1: header must be video,frame,class,score"):
        read_frame_detections(p, GT)


def test_truncated_gzip(tmp_path):
    p = tmp_path / "d.csv.gz"
    p.write_bytes(gzip.compress((HEADER + "A/v1,1,0,0.9,0,0,9,9\n" * 200).encode())[:-20])
    with pytest.raises(InputError, match=r"d\.csv\.gz: truncated or corrupt gzip"):
        read_frame_detections(p, GT)


def test_csv_write_read_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = 50
    from attnviz.types import FrameDetections

    b = rng.random((n, 4)) * 100
    b[:, 2:] += b[:, :2]
    d = FrameDetections.from_arrays(
        ["A/v1"] * n, rng.integers(1, 11, n), rng.integers(0, 3, n), rng.random(n), b
    )
    write_frame_detections(tmp_path / "o.csv", d, GT.labels)
    back = read_frame_detections(tmp_path / "o.csv", GT)
    assert np.array_equal(back.boxes, d.boxes) and np.array_equal(back.score, d.score)
    assert np.array_equal(back.label, d.label) and np.array_equal(back.frame, d.frame)


def test_csv_numbers_are_short_and_exact(tmp_path):
    from attnviz.types import FrameDetections

    d = FrameDetections.from_arrays(
        ["A/v1"], [2], [1], [0.1 + 0.2], np.array([[1 / 3, 2.3, 5.0, 9.75]])
    )
    write_frame_detections(tmp_path / "o.csv", d, GT.labels)
    assert (tmp_path / "o.csv").read_text().splitlines()[1] == (
        "A/v1,2,Beta,0.30000000000000004,0.3333333333333333,2.3,5.0,9.75"
    )
    back = read_frame_detections(tmp_path / "o.csv", GT)
    assert back.score[0] == 0.1 + 0.2 and back.boxes[0].tolist() == [1 / 3, 2.3, 5.0, 9.75]


def test_coco_results(tmp_path):
    cg = tmp_path / "coco_gt.json"
    cg.write_text(json.dumps(to_coco(GT)))
    ids = coco_image_ids(GT)
    res = [
        {"image_id": ids[("B/v2", 3)], "category_id": 2, "bbox": [5, 5, 15, 15.5], "score": 0.7},
        {"image_id": ids[("A/v1", 1)], "category_id": 1, "bbox": [0, 0, 9, 9], "score": 0.9},
    ]
    (tmp_path / "r.json").write_text(json.dumps(res))
    d = read_coco_results(tmp_path / "r.json", cg, GT)
    assert d.video.tolist() == ["B/v2", "A/v1"] and d.frame.tolist() == [3, 1]
    assert d.label.tolist() == [1, 0] and d.boxes.tolist() == [[5, 5, 20, 20.5], [0, 0, 9, 9]]
    write_coco_results(tmp_path / "w.json", d, ids)
    assert json.loads((tmp_path / "w.json").read_text()) == [
        dict(r, bbox=[float(x) for x in r["bbox"]]) for r in res
    ]
    for entry, message in [
        ({"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "image_id"),
        ({"image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1], "score": 1}, "unknown category"),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}, '"bbox"'),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}, '"score": missing'),
        ({"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 1}, "x2 < x1"),
    ]:
        (tmp_path / "r.json").write_text(json.dumps([res[0], entry]))
        with pytest.raises(InputError, match=rf"r\.json, entry 2, field .*{message}|entry 2.*"):
            read_coco_results(tmp_path / "r.json", cg, GT)


def _tubes(tmp_path, tubes):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"tubes": tubes}))
    return p


def test_tubes(tmp_path):
    p = _tubes(
        tmp_path,
        [{"video": "A/v1", "class": "Beta", "score": 0.5,
          "boxes": [[2, 0, 0, 9, 9], [3, 0, 0, 9, 9]]},
         {"video": "B/v2", "class": 2, "score": 1, "boxes": [[10, 1, 1, 2, 2]]}],
    )  # fmt: skip
    t = read_tubes(p, GT)
    assert [(x.video, x.label, x.score) for x in t] == [("A/v1", 1, 0.5), ("B/v2", 2, 1.0)]
    assert t[0].boxes.tolist() == [[2, 0, 0, 9, 9], [3, 0, 0, 9, 9]]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"video": "A/v1", "class": 0, "score": 1, "boxes": [[1, 0, 0, 9, 9], [3, 0, 0, 9, 9]]},
         r'tube 1, field "boxes": frames must be consecutive and ascending \(row 2: frame 3'),
        ({"video": "A/v1", "class": 0, "score": 1, "boxes": [[2, 0, 0, 9, 9], [1, 0, 0, 9, 9]]},
         "consecutive and ascending"),
        ({"video": "A/v1", "class": 7, "score": 1, "boxes": [[1, 0, 0, 9, 9]]},
         r'tube 1, field "class": unknown class 7'),
        ({"video": "A/v1", "class": "Zeta", "score": 1, "boxes": [[1, 0, 0, 9, 9]]},
         "unknown class 'Zeta'"),
        ({"video": "A/v7", "class": 0, "score": 1, "boxes": [[1, 0, 0, 9, 9]]},
         r'field "video": unknown video'),
        ({"video": "A/v1", "class": 0, "score": 1, "boxes": [[1, 0, 0, 9, float("nan")]]},
         "NaN or not finite"),
        ({"video": "A/v1", "class": 0, "score": float("nan"), "boxes": [[1, 0, 0, 9, 9]]},
         r'field "score": NaN'),
        ({"video": "A/v1", "class": 0, "score": 1, "boxes": [[1, 9, 0, 0, 9]]},
         r"row 1 \(frame 1\) has x2 < x1"),
        ({"video": "A/v1", "class": 0, "score": 1, "boxes": [[9, 0, 0, 1, 1], [10, 0, 0, 1, 1],
                                                            [11, 0, 0, 1, 1]]},
         r"frames 9\.\.11 outside the video \(1\.\.10\)"),
        ({"video": "A/v1", "class": 0, "boxes": [[1, 0, 0, 9, 9]]}, r'field "score": missing'),
        ({"video": "A/v1", "class": 0, "score": 1, "boxes": []}, "non-empty"),
    ],
)  # fmt: skip
def test_tube_errors(tmp_path, entry, message):
    p = _tubes(tmp_path, [entry])
    with pytest.raises(InputError, match=message) as exc:
        read_tubes(p, GT)
    assert str(p) in str(exc.value)


def test_tubes_not_json(tmp_path):
    (tmp_path / "t.json").write_text('{"tubes": [\n{"video": }]}')
    with pytest.raises(InputError, match=r"t\.json, line 2: not valid JSON"):
        read_tubes(tmp_path / "t.json", GT)
    (tmp_path / "t.json").write_text("[1, 2]")
    with pytest.raises(InputError, match=r'expected \{"tubes": \[\.\.\.\]\}'):
        read_tubes(tmp_path / "t.json", GT)
