"""The synthetic generator: reproducible from the seed, the actor only in its segment and inside
its box, and ground truth that attnviz's own readers and evaluators accept (a perfect detection
scores 1.0)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from attnviz_data_fixtures import TINY
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.data.synthetic import (
    COLOURS,
    DEFAULT_CLASSES,
    SynthConfig,
    generate_dataset,
    parse_splits,
    render_video,
    video_spec,
)
from attnviz.errors import AttnvizError


def test_same_seed_same_video_other_seed_other_video():
    a = video_spec(3, 7, config=TINY)
    b = video_spec(3, 7, config=TINY)
    c = video_spec(4, 7, config=TINY)
    assert (a.num_frames, a.start, a.end) == (b.num_frames, b.start, b.end)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    fa = np.stack(list(render_video(a, TINY)))
    fb = np.stack(list(render_video(b, TINY)))
    np.testing.assert_array_equal(fa, fb)
    fc = np.stack(list(render_video(c, TINY)))
    assert fa.shape != fc.shape or not np.array_equal(fa, fc)


def test_classes_need_shape_and_colour_together():
    shapes = [c.shape for c in DEFAULT_CLASSES]
    colours = [c.colour for c in DEFAULT_CLASSES]
    assert len({(c.shape, c.colour) for c in DEFAULT_CLASSES}) == len(DEFAULT_CLASSES)
    assert all(shapes.count(s) == 2 for s in set(shapes))
    assert all(colours.count(c) == 2 for c in set(colours))


@pytest.mark.parametrize("index", range(8))  # one video of every class
def test_actor_visible_only_in_segment_and_inside_its_box(index):
    spec = video_spec(11, index, config=TINY)
    assert spec.label == index
    assert 0 <= spec.start < spec.end <= spec.num_frames
    frames = list(render_video(spec, TINY))
    assert len(frames) == spec.num_frames
    colour = np.array(COLOURS[DEFAULT_CLASSES[index].colour])
    for f, img in enumerate(frames):
        white = (img.astype(int) > 235).all(axis=2)  # only the actor's core is white
        if spec.start <= f < spec.end:
            x1, y1, x2, y2 = spec.boxes[f - spec.start].astype(int)
            assert 0 <= x1 < x2 <= TINY.width and 0 <= y1 < y2 <= TINY.height
            assert white[y1:y2, x1:x2].sum() > 0, f"frame {f}: no white core in the box"
            outside = white.copy()
            outside[y1:y2, x1:x2] = False
            assert outside.sum() == 0, f"frame {f}: white pixels outside the actor box"
            # the actor's colour is in the box
            box = img[y1:y2, x1:x2].reshape(-1, 3).astype(int)
            assert (np.abs(box - colour).sum(axis=1) < 40).any()
        else:
            assert white.sum() == 0, f"frame {f}: actor visible outside its segment"


def test_actor_moves_and_boxes_fit_the_frame():
    for index in range(8):
        spec = video_spec(2, index)
        centres = (spec.boxes[:, :2] + spec.boxes[:, 2:]) / 2
        sizes = spec.boxes[:, 2:] - spec.boxes[:, :2]
        moved = np.ptp(centres, axis=0).max() > 2 or np.ptp(sizes, axis=0).max() > 2
        assert moved, f"class {index}: the actor does not move"
        assert (spec.boxes[:, :2] >= 0).all() and (spec.boxes[:, 2] <= 160).all()


def test_parse_splits():
    assert parse_splits("train=0.8,val=0.2") == {"train": 0.8, "val": 0.2}
    for bad in ("train=0.5", "train", "foo=1", "train=x", "train=1.5,val=-0.5"):
        with pytest.raises(AttnvizError):
            parse_splits(bad)


def test_config_checked():
    with pytest.raises(AttnvizError, match="codec"):
        SynthConfig(codec="gif")
    with pytest.raises(AttnvizError, match="exceeds"):
        SynthConfig(width=64, height=64, actor_size=(40, 50))


def test_written_dataset_is_read_back_by_attnviz_readers(tiny_synth):
    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.io.splits import read_csv_list
    from attnviz.io.thumos import read_thumos_gt
    from attnviz.io.video import probe

    out, summary = tiny_synth
    assert summary["splits"] == {"train": 6, "val": 4}
    meta = json.loads((out / "synth.json").read_text())
    items = {it["video"]: it for it in meta["items"]}
    train = read_csv_list(out / "train.csv", root=out / "videos")
    val = read_csv_list(out / "val.csv", root=out / "videos")
    assert train.class_names == tuple(c.name for c in DEFAULT_CLASSES)
    assert len(train) == 6 and len(val) == 4 and not set(train.keys) & set(val.keys)
    for it in train.items + val.items:
        info = probe(it.path)  # frames that really decode
        assert info.num_frames == items[it.key]["num_frames"]
        assert (info.width, info.height) == (TINY.width, TINY.height)
    gt = read_thumos_gt(out / "annotations", subset="val", classes=out / "classes.txt")
    assert len(gt) == 4
    for v, s, e in zip(gt.video, gt.start, gt.end, strict=True):
        assert s == pytest.approx(items[v]["start_frame"] / TINY.fps, abs=1e-6)
        assert e == pytest.approx(items[v]["end_frame"] / TINY.fps, abs=1e-6)
    sgt = read_spatial_gt(out / "gt_tubes.json")
    assert len(sgt.videos) == 10 and len(sgt.test_videos) == 0
    v = next(iter(items))
    tube = sgt.videos[v].tubes[0].boxes
    assert tube[0, 0] == items[v]["start_frame"] + 1 and len(tube) == (
        items[v]["end_frame"] - items[v]["start_frame"]
    )


def test_perfect_detections_score_one(tmp_path):
    """The ground truth given back as detections scores 1.0 under both evaluators."""
    from attnviz.evaluate.thumos import evaluate_thumos
    from attnviz.evaluate.ucf24 import frame_map, video_map
    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.io.thumos import read_thumos_gt
    from attnviz.types import FrameDetections, TemporalDetections, Tube

    small = SynthConfig(
        width=64,
        height=64,
        frames=(10, 12),
        actor_size=(12, 16),
        distractor_size=(8, 12),
        amplitude=(2.0, 4.0),
    )
    generate_dataset(tmp_path, videos=8, seed=9, splits="test=1", config=small, quiet=True)
    gt = read_thumos_gt(tmp_path / "annotations", subset="test", classes=tmp_path / "classes.txt")
    dets = TemporalDetections.from_arrays(gt.video, gt.start, gt.end, gt.label, np.ones(len(gt)))
    assert evaluate_thumos(gt, dets).mAP == pytest.approx(np.ones(5))
    sgt = read_spatial_gt(tmp_path / "gt_tubes.json")
    assert len(sgt.test_videos) == 8
    tubes, rows = [], []
    for v in sgt.test_videos:
        for t in sgt.videos[v].tubes:
            tubes.append(Tube(v, t.label, 1.0, t.boxes))
            rows += [(v, int(r[0]), t.label, r[1:]) for r in t.boxes]
    fd = FrameDetections.from_arrays(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        np.ones(len(rows)),
        np.array([r[3] for r in rows]),
    )
    assert frame_map(sgt, fd).mAP == pytest.approx(1.0)
    assert video_map(sgt, tubes).mAP == pytest.approx(1.0)


def test_rerun_keeps_complete_videos_and_redoes_missing(tmp_path):
    small = SynthConfig(
        width=64,
        height=64,
        frames=(8, 10),
        actor_size=(12, 16),
        distractor_size=(8, 12),
        amplitude=(2.0, 4.0),
        codec="avi",
    )
    generate_dataset(tmp_path, videos=3, seed=1, config=small, quiet=True)
    files = sorted((tmp_path / "videos").glob("*.avi"))
    assert len(files) == 3
    stamp = files[0].stat().st_mtime_ns
    data1 = files[1].read_bytes()
    files[1].unlink()
    generate_dataset(tmp_path, videos=3, seed=1, config=small, quiet=True)
    assert files[0].stat().st_mtime_ns == stamp
    assert files[1].read_bytes() == data1  # rebuilt identically from the seed
    assert not list(tmp_path.glob("**/.*tmp*"))


def test_synth_cli(tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "synth",
            "--out",
            str(tmp_path / "s"),
            "--videos",
            "2",
            "--seed",
            "3",
            "--width",
            "96",
            "--height",
            "96",
            "--splits",
            "test=1",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s" / "test.csv").read_text().count("\n") == 3
    bad = CliRunner().invoke(
        app,
        [
            "synth",
            "--out",
            str(tmp_path / "t"),
            "--videos",
            "2",
            "--seed",
            "1",
            "--splits",
            "train=2",
        ],
    )
    assert bad.exit_code != 0
