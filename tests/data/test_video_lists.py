"""Video lists: plain CSV, UCF101 / HMDB51 split files, UCF101-24 and THUMOS14 ground truth,
frame folders."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.errors import AttnvizError, InputError
from attnviz.io.splits import (
    looks_like_test_split,
    read_csv_list,
    read_hmdb51_split,
    read_thumos_list,
    read_ucf24_list,
    read_ucf101_split,
    read_video_list,
)


def test_csv_names_indices_header_and_class_file(tmp_path):
    (tmp_path / "v").mkdir()
    for name in ("a.mp4", "b.avi"):
        (tmp_path / "v" / name).write_bytes(b"")
    (tmp_path / "v" / "c").mkdir()  # a frame folder
    (tmp_path / "classes.txt").write_text("1 Walk\r\n2 Run\r\n")
    (tmp_path / "list.csv").write_text("video,label\na,Run\nb.avi,0\nc,Walk\n")
    lst = read_csv_list(tmp_path / "list.csv", root=tmp_path / "v")
    assert lst.class_names == ("Walk", "Run")
    assert lst.keys == ("a", "b", "c") and lst.labels == (1, 0, 0)
    assert [p.name for p in (it.path for it in lst.items)] == ["a.mp4", "b.avi", "c"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "l.csv").write_text("x,jump\ny,clap\n")  # no header, no class file
    lst = read_csv_list(tmp_path / "other" / "l.csv")
    assert lst.class_names == ("clap", "jump") and lst.labels == (1, 0)
    assert lst.items[0].path is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("video,label\na,Swim\n", 'line 2, field "label"'),
        ("video,label\na,Walk\na,Run\n", "line 3"),
        ("video,label\na\n", "line 2"),
        ("video,label\n", "no video"),
        ("video,label\n,Walk\n", 'field "video"'),
    ],
)
def test_csv_errors_name_line_and_field(tmp_path, text, match):
    (tmp_path / "classes.txt").write_text("1 Walk\n2 Run\n")
    (tmp_path / "l.csv").write_text(text)
    with pytest.raises(InputError, match=match):
        read_csv_list(tmp_path / "l.csv")


def test_missing_video_names_the_line(tmp_path):
    (tmp_path / "l.csv").write_text("video,label\nnothere,Walk\n")
    with pytest.raises(AttnvizError, match="line 2.*nothere"):
        read_csv_list(tmp_path / "l.csv", root=tmp_path)


def test_ucf101_official_split_files(tmp_path):
    (tmp_path / "classInd.txt").write_text("1 ApplyEyeMakeup\r\n2 Archery\r\n")
    (tmp_path / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\nArchery/v_Archery_g08_c01.avi 2\r\n"
    )
    (tmp_path / "testlist01.txt").write_text("Archery/v_Archery_g01_c01.avi\r\n")
    tr = read_ucf101_split(tmp_path, subset="train")
    te = read_ucf101_split(tmp_path, subset="test")
    assert tr.keys == ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01", "Archery/v_Archery_g08_c01")
    assert tr.labels == (0, 1) and te.labels == (1,) and te.subset == "test"
    (tmp_path / "trainlist02.txt").write_text("Archery/v_Archery_g08_c01.avi 7\n")
    with pytest.raises(InputError, match='line 1, field "class"'):
        read_ucf101_split(tmp_path, split=2)


def test_hmdb51_official_split_files(tmp_path):
    (tmp_path / "clap_test_split1.txt").write_text("c1.avi 1 \nc2.avi 2 \nc3.avi 0 \n")
    (tmp_path / "brush_hair_test_split1.txt").write_text("b1.avi 2 \nb2.avi 1 \n")
    tr = read_hmdb51_split(tmp_path, subset="train")
    te = read_video_list(tmp_path, dataset="hmdb51", subset="test")
    assert tr.class_names == ("brush_hair", "clap")
    assert tr.keys == ("brush_hair/b2", "clap/c1") and tr.labels == (0, 1)
    assert te.keys == ("brush_hair/b1", "clap/c2")


def test_test_split_names():
    for name in ("testlist01.txt", "brush_hair_test_split1.txt", "test.csv", "synth_test.csv"):
        assert looks_like_test_split(name), name
    for name in ("trainlist01.txt", "val.csv", "train.csv", "contest.csv", "latest.csv"):
        assert not looks_like_test_split(name), name


def test_ucf24_lists_from_the_real_ground_truth():
    from attnviz.io.datasets import resolve_gt
    from attnviz.io.spatial_gt import read_spatial_gt

    truth = read_spatial_gt(resolve_gt("ucf101-24").path)  # the one that ships
    te = read_ucf24_list(truth, subset="test")
    tr = read_ucf24_list(truth, subset="train")
    assert len(te) == 910 and len(tr) == 2284  # SOURCES.md
    assert all(te.class_names[it.label] == it.key.split("/")[0] for it in te.items)


def test_thumos14_training_list_is_the_validation_set_without_multilabel_videos():
    from attnviz.io.datasets import resolve_gt

    th = resolve_gt("thumos14-val")  # the ground truth that ships, with its class list
    val = read_thumos_list(th.path, subset="val", classes=th.classes)
    # 200 validation videos, 27 with two classes: 17 dropped, 10 CliffDiving+Diving kept as
    # CliffDiving (every CliffDiving instance is also annotated as Diving)
    assert len(val) == 183
    assert sum(val.class_names[it.label] == "CliffDiving" for it in val.items) == 10
    assert all(k.startswith("video_validation_") for k in val.keys)
    te = resolve_gt("thumos14")
    test = read_thumos_list(te.path, subset="test", classes=te.classes)
    assert test.subset == "test" and all(k.startswith("video_test_") for k in test.keys)


def test_frame_folders(tmp_path):
    import cv2

    from attnviz.io.frames import list_frame_files, probe_source, read_source_frames

    folder = tmp_path / "vid"
    folder.mkdir()
    for i in (1, 2, 10):  # natural order: img_2 before img_10
        img = np.full((12, 16, 3), i * 20, dtype=np.uint8)
        cv2.imwrite(str(folder / f"img_{i}.png"), img)
    (folder / "notes.txt").write_text("x")
    assert [p.name for p in list_frame_files(folder)] == ["img_1.png", "img_2.png", "img_10.png"]
    n, fps, size = probe_source(folder, fps=10)
    assert (n, fps, size) == (3, 10.0, (12, 16))
    frames = read_source_frames(folder, [0, 2, 2])
    assert frames.shape == (3, 12, 16, 3) and frames[1, 0, 0, 0] == 200
    with pytest.raises(AttnvizError, match="frame 4"):
        read_source_frames(folder, [3])
    with pytest.raises(AttnvizError, match="no frame images"):
        list_frame_files(tmp_path)
