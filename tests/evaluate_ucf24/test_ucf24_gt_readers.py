"""Every ground-truth reader and writer: the real files agree with each other, conversions round
trip, pickles go through the restricted unpickler, and broken files give one-line errors."""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
import zipfile

import numpy as np
import pytest
from ucf24_helpers import HERE, JHMDB, UCF, make_gt, need, subset

from attnviz.errors import AttnvizError, InputError
from attnviz.io.datasets import resolve_gt
from attnviz.io.safe_pickle import safe_loads
from attnviz.io.spatial_gt import (
    GT_FORMATS,
    coco_image_ids,
    read_spatial_gt,
    to_coco,
    write_spatial_gt,
)

EXT = {
    "act-json": ".json",
    "act-pkl": ".pkl",
    "pyannot-json": ".json",
    "pyannot-pkl": ".pkl",
    "mat": ".mat",
    "yowo-zip": ".zip",
}


def boxes_by_frame(gt, videos):
    """``{(video, frame, label): sorted boxes}``: what a frame-level reader must agree on."""
    out = {}
    for v in videos:
        for t in gt.videos[v].tubes:
            for r in np.asarray(t.boxes):
                out.setdefault((v, int(r[0]), t.label), []).append(tuple(r[1:]))
    return {k: sorted(b) for k, b in out.items()}


def assert_same(a, b, videos, nframes=True, tubes=True):
    assert a.labels == b.labels
    for v in videos:
        x, y = a.videos[v], b.videos[v]
        if nframes:
            assert x.nframes == y.nframes, v
        if tubes:
            assert [t.label for t in x.tubes] == [t.label for t in y.tubes], v
            for s, t in zip(x.tubes, y.tubes, strict=True):
                assert np.array_equal(s.boxes, t.boxes), v
    if not tubes:
        assert boxes_by_frame(a, videos) == boxes_by_frame(b, videos)


# --------------------------------------------------------------------------- the real files
def test_real_ucf_split_is_testlist01(ucf_gt):
    """The packaged pyannot.pkl (restricted unpickler) takes its test split from the
    testlist01.txt beside it; training is every other annotated video."""
    listfile = resolve_gt("ucf101-24").path.with_name("testlist01.txt")
    listed = [ln.strip() for ln in listfile.read_text().splitlines() if ln.strip()]
    assert list(ucf_gt.test_videos) == listed and len(listed) == 910
    assert len(ucf_gt.videos) == 3194 and len(ucf_gt.train_videos) == 2284


def test_real_ucf_files_agree(ucf_gt):
    """pyannot.pkl, its twin with class names, pyannot.json and finalAnnots.mat hold the same
    tubes and the same split."""
    for name in ("pyannot_with_class_names.pkl", "pyannot.json", "finalAnnots.mat"):
        other = read_spatial_gt(need(UCF / name))
        assert other.test_videos == ucf_gt.test_videos, name
        assert set(other.train_videos) == set(ucf_gt.train_videos), name
        assert_same(ucf_gt, other, list(ucf_gt.videos))


def test_real_jhmdb_yowo_files_agree_with_the_packaged_json(jhmdb_gt):
    # the original per-frame files of 3 videos, re-zipped (data/README.md): the same tubes
    z = read_spatial_gt(HERE / "groundtruths_jhmdb_extract.zip")
    assert len(z.test_videos) == 3 and set(z.test_videos) <= set(jhmdb_gt.test_videos)
    assert sum(len(t.boxes) for v in z.test_videos for t in z.videos[v].tubes) == 84
    assert_same(jhmdb_gt, z, z.test_videos)


def test_real_jhmdb_act_json_and_yowo_zip_agree(jhmdb_gt):
    z = read_spatial_gt(need(JHMDB / "groundtruths_jhmdb.zip"))
    assert z.test_videos == jhmdb_gt.test_videos and len(z.test_videos) == 268
    assert_same(jhmdb_gt, z, jhmdb_gt.test_videos)  # one actor per video: same tubes


def test_uint8_boxes_are_cast_before_adding(tmp_path):
    # x = 200, w = 100 stored as uint8: x + w must be 300, not 44
    db = {
        "A/v1": {
            "label": 0,
            "numf": 5,
            "annotations": [
                {"label": 0, "sf": 1, "ef": 3, "boxes": np.array([[200, 10, 100, 20]] * 2, "u1")}
            ],
        }
    }
    p = tmp_path / "pyannot.pkl"
    p.write_bytes(pickle.dumps(db))
    (tmp_path / "testlist01.txt").write_text("A/v1\n")
    gt = read_spatial_gt(p)
    assert gt.test_videos == ("A/v1",)
    # tube frame k (0-based) is frame sf + 1 + k
    rows = gt.videos["A/v1"].tubes[0].boxes.tolist()
    assert rows == [[2, 200, 10, 300, 30], [3, 200, 10, 300, 30]]


# --------------------------------------------------------------------------- round trips
@pytest.fixture(scope="module")
def ucf_small(ucf_gt):
    multi = [v for v in ucf_gt.test_videos if len(ucf_gt.videos[v].tubes) > 1][:12]
    single = [v for v in ucf_gt.test_videos if len(ucf_gt.videos[v].tubes) == 1][::60]
    keep = set(multi + single + list(ucf_gt.train_videos[:10]))
    vids = {v: a for v, a in ucf_gt.videos.items() if v in keep}
    import dataclasses

    return dataclasses.replace(
        ucf_gt,
        videos=vids,
        test_videos=tuple(v for v in ucf_gt.test_videos if v in keep),
        train_videos=tuple(v for v in ucf_gt.train_videos if v in keep),
    )


@pytest.mark.parametrize("fmt", [f for f in GT_FORMATS if f != "coco"])
def test_convert_round_trip(ucf_small, fmt, tmp_path):
    p = tmp_path / f"gt{EXT[fmt]}"
    write_spatial_gt(ucf_small, p, fmt)
    back = read_spatial_gt(p)
    if fmt == "yowo-zip":  # per-frame files: the test split, boxes per frame, no frame count
        assert back.test_videos == tuple(sorted(ucf_small.test_videos))
        assert_same(ucf_small, back, ucf_small.test_videos, nframes=False, tubes=False)
        return
    assert back.test_videos == ucf_small.test_videos
    assert back.train_videos == ucf_small.train_videos
    assert_same(ucf_small, back, list(ucf_small.videos))
    # and once more through a second layout
    q = tmp_path / "again.json"
    write_spatial_gt(back, q, "act-json")
    assert_same(ucf_small, read_spatial_gt(q), list(ucf_small.videos))


def test_gzip_ground_truth(tmp_path, ucf_small):
    p = tmp_path / "gt.json"
    write_spatial_gt(ucf_small, p, "act-json")
    gz = tmp_path / "gt.json.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert_same(ucf_small, read_spatial_gt(gz), list(ucf_small.videos))
    gz.write_bytes(gzip.compress(p.read_bytes())[:-30])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        read_spatial_gt(gz)


def test_coco_export():
    gt = make_gt({"A/v1": [(1, 2, [[0, 0, 9, 4], [1, 1, 5, 5]])], "A/v0": []}, nframes=3)
    ids = coco_image_ids(gt)
    assert list(ids) == [("A/v0", 1), ("A/v0", 2), ("A/v0", 3), ("A/v1", 1), ("A/v1", 2),
                         ("A/v1", 3)]  # fmt: skip
    c = to_coco(gt)
    assert [im["file_name"] for im in c["images"]][:2] == ["A/v0/00001.jpg", "A/v0/00002.jpg"]
    assert c["annotations"][0] == {
        "id": 1, "image_id": 5, "category_id": 2, "bbox": [0.0, 0.0, 9.0, 4.0], "area": 36.0,
        "iscrowd": 0,
    }  # fmt: skip
    assert [c_["name"] for c_ in c["categories"]] == ["a", "b", "c"]


# --------------------------------------------------------------------------- pickles
class _Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch should-not-exist",))


def test_restricted_unpickler_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = pickle.dumps({"db": {"A/v1": _Boom()}})
    with pytest.raises(InputError, match=r"refusing to unpickle (posix|os)\.system"):
        safe_loads(data, "evil.pkl")
    assert not (tmp_path / "should-not-exist").exists()
    p = tmp_path / "evil.pkl"
    p.write_bytes(data)
    with pytest.raises(InputError, match=r"evil\.pkl: refusing to unpickle"):
        read_spatial_gt(p)
    with pytest.raises(InputError, match="builtins.eval"):
        safe_loads(pickle.dumps(eval), "x.pkl")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_restricted_unpickler_reads_numpy_arrays(protocol):
    obj = {
        "a": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "b": np.float32(1.5),
        "c": [np.zeros((0, 5)), (1, "x")],
        "d": np.asfortranarray(np.ones((3, 2))),
    }
    back = safe_loads(pickle.dumps(obj, protocol=protocol))
    assert back["a"].dtype == np.uint8 and back["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["b"] == 1.5 and back["c"][1] == (1, "x") and back["d"].sum() == 6


def test_damaged_pickle(tmp_path):
    p = tmp_path / "gt.pkl"
    p.write_bytes(pickle.dumps({"labels": ["a"]})[:-5])
    with pytest.raises(InputError, match="gt.pkl: not a readable pickle"):
        read_spatial_gt(p)


# --------------------------------------------------------------------------- broken files
def _act(tmp_path, tubes, **extra):
    data = {"labels": ["a", "b"], "gttubes": {"a/v1": {"0": tubes}}, "nframes": {"a/v1": 20},
            "test_videos": [["a/v1"]], **extra}  # fmt: skip
    p = tmp_path / "act.json"
    p.write_text(json.dumps(data))
    return p


@pytest.mark.parametrize(
    "tubes, message",
    [
        ([[[1, 0, 0, 5, 5], [3, 0, 0, 5, 5]]], r'"a/v1", label 0, tube 0: frame numbers must'),
        ([[[1, 0, 0, 5, 5], [2, 6, 0, 5, 5]]], r"tube 0, frame 2: box has x2 < x1"),
        ([[[1, 0, 0, 5]]], r"expected a non-empty \[n, 5\] array"),
        ([[[1, 0, 0, float("nan"), 5]]], "NaN or infinite"),
        ([[]], r"expected a non-empty \[n, 5\]"),
    ],
)
def test_broken_act_tubes(tmp_path, tubes, message):
    with pytest.raises(InputError, match=message):
        read_spatial_gt(_act(tmp_path, tubes))


def test_broken_files(tmp_path):
    with pytest.raises(InputError, match=r"label 5 outside 0\.\.1"):
        d = {"labels": ["a", "b"], "gttubes": {"a/v1": {"5": [[[1, 0, 0, 5, 5]]]}},
             "nframes": {"a/v1": 20}}  # fmt: skip
        (tmp_path / "l.json").write_text(json.dumps(d))
        read_spatial_gt(tmp_path / "l.json")
    with pytest.raises(InputError, match='missing "nframes"'):
        (tmp_path / "n.json").write_text(json.dumps({"labels": [], "gttubes": {}}))
        read_spatial_gt(tmp_path / "n.json")
    (tmp_path / "bad.json").write_text('{"labels": [1,\n 2,,]}')
    with pytest.raises(InputError, match=r"bad\.json, line 2: not valid JSON"):
        read_spatial_gt(tmp_path / "bad.json")
    tube = {"label": 0, "sf": 0, "ef": 5, "boxes": [[1, 1, 2, 2]] * 3}
    db = {"a/v1": {"label": 0, "numf": 9, "annotations": [tube]}}
    (tmp_path / "p.json").write_text(json.dumps(db))
    with pytest.raises(InputError, match=r'"a/v1", tube 0, field "ef": ef - sf = 5 but 3 boxes'):
        read_spatial_gt(tmp_path / "p.json")
    db["a/v1"]["annotations"][0]["boxes"] = [[1, 1, -2, 2]] * 5
    (tmp_path / "p.json").write_text(json.dumps(db))
    with pytest.raises(InputError, match=r'"a/v1", tube 0, frame 1: box has x2 < x1'):
        read_spatial_gt(tmp_path / "p.json")
    (tmp_path / "c.json").write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(InputError, match="COCO ground truth, which has no tubes"):
        read_spatial_gt(tmp_path / "c.json")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(InputError, match="unknown ground-truth format"):
        read_spatial_gt(tmp_path / "x.txt")
    with pytest.raises(AttnvizError, match="ground truth not found"):
        read_spatial_gt(tmp_path / "missing.pkl")
    (tmp_path / "m.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(InputError, match=r"m\.mat: not a readable \.mat file"):
        read_spatial_gt(tmp_path / "m.mat")
    (tmp_path / "z.zip").write_bytes(b"PK not a zip")
    with pytest.raises(InputError, match=r"z\.zip: not a readable zip"):
        read_spatial_gt(tmp_path / "z.zip")


def test_broken_yowo_zip(tmp_path):
    p = tmp_path / "g.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("groundtruths/golf_v1_00001.txt", "5 1 2 3\n")
    with pytest.raises(InputError, match=r"golf_v1_00001\.txt, line 1: expected 'label x1 y1 x2"):
        read_spatial_gt(p)
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("groundtruths/nothing_v1_00001.txt", "5 1 2 3 4\n")
    with pytest.raises(InputError, match="names no JHMDB-21 or UCF101-24 class"):
        read_spatial_gt(p)
    with zipfile.ZipFile(p, "w") as zf:  # an actor with a gap: two tubes
        for f in (1, 2, 5):
            zf.writestr(f"groundtruths/golf_v1_{f:05d}.txt", "5 1 2 3 4\n")
    g = read_spatial_gt(p)
    assert [t.boxes[:, 0].tolist() for t in g.videos["golf/v1"].tubes] == [[1, 2], [5]]
    assert g.labels[4] == "golf" and g.videos["golf/v1"].tubes[0].label == 4


def test_split_from_testlist_beside_the_file(tmp_path):
    src = resolve_gt("ucf101-24").path  # pyannot.pkl.gz: gzip is read whatever the name
    shutil.copy(src, tmp_path / "pyannot.pkl")
    alone = read_spatial_gt(tmp_path / "pyannot.pkl")  # no testlist01.txt, no split in the file
    assert alone.test_videos == () and alone.split("all")
    (tmp_path / "testlist01.txt").write_text("Basketball/v_Basketball_g01_c01\n")
    listed = read_spatial_gt(tmp_path / "pyannot.pkl")
    assert listed.test_videos == ("Basketball/v_Basketball_g01_c01",)
    assert len(listed.train_videos) == 3193


def test_subset_helper_keeps_order(ucf_gt):
    s = subset(ucf_gt, ucf_gt.test_videos[:3][::-1])
    assert s.split("test") == ucf_gt.test_videos[:3][::-1]
