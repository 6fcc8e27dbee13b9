"""explain_video and the files of spatial-map / temporal-map / localize, on generated videos
with a small random-init recognizer."""

from __future__ import annotations

import csv
import json
import warnings

import cv2
import numpy as np
import pytest
import torch

from attnviz.data import preprocess
from attnviz.errors import AttnvizError
from attnviz.io import video as V
from attnviz.io.maps import load_attention
from attnviz.localize import (
    LocalizeParams,
    boxes_from_attention,
    segments_from_attention,
    stitch_importance,
)
from attnviz.pipeline import explain as E


def _direct(model, frames):
    """The model run by hand on RGB frames: (mask, temporal, probs)."""
    with torch.inference_mode():
        out = model(preprocess(np.stack(frames), model.input_size)[None])
    return (
        out.mask[0].numpy(),
        out.temporal[0].numpy(),
        torch.softmax(out.logits, 1)[0].numpy(),
    )


def test_uniform_sampling_is_the_model_on_the_uniform_frames(small_model, make_video):
    path = make_video(n=37, fps=12.0)
    out = E.explain_video(path, model=small_model, frames=5, quiet=True)
    idx = V.uniform_indices(37, 5)
    assert out.frame_indices.tolist() == (idx + 1).tolist()
    np.testing.assert_allclose(out.timestamps, idx / 12.0)
    assert out.frame_size == (48, 64) and out.fps == pytest.approx(12.0)
    assert out.window_starts is None and out.temporal.shape == (5, 5)
    assert out.video == "v" and out.class_names == ("walk", "run", "jump")
    mask, temporal, probs = _direct(small_model, [f for _, f in V.iter_frames(path, idx)])
    np.testing.assert_allclose(out.mask, mask, atol=1e-5)
    np.testing.assert_allclose(out.temporal, temporal, atol=1e-5)
    np.testing.assert_allclose(out.scores, probs, atol=1e-5)
    np.testing.assert_allclose(out.frame_importance, temporal.mean(0), atol=1e-6)
    last = E.explain_video(path, model=small_model, frames=5, importance_rule="last", quiet=True)
    np.testing.assert_allclose(last.frame_importance, temporal[-1], atol=1e-6)


def test_short_video_repeats_frames(small_model, make_video):
    path = make_video(n=3)
    out = E.explain_video(path, model=small_model, frames=5, quiet=True)
    assert out.frame_indices.tolist() == [1, 1, 2, 3, 3]
    assert out.num_frames == 5


def test_windows_are_the_model_on_each_window_and_stitched(small_model, make_video):
    path = make_video(n=30, fps=10.0)
    calls = []
    out = E.explain_video(
        path, model=small_model, fps=5.0, window=6, stride=4, quiet=True,
        on_final=lambda t, i0, rgb, m, v: calls.append((t, i0, m, v)),
    )  # fmt: skip
    samples, windows = V.window_indices(30, 10.0, sample_fps=5.0, window=6, stride=4)
    assert out.frame_indices.tolist() == (samples + 1).tolist()
    np.testing.assert_allclose(out.timestamps, samples / 10.0)
    starts = V.window_starts(len(samples), 6, 4)
    assert out.window_starts.tolist() == starts.tolist() == [0, 4, 8, 9]
    assert out.temporal.shape == (4, 6, 6)
    frames = dict(V.iter_frames(path, samples))
    masks = []
    for k, w in enumerate(windows):
        mask, temporal, _ = _direct(small_model, [frames[i] for i in samples[w]])
        np.testing.assert_allclose(out.temporal[k], temporal, atol=1e-5)
        masks.append(mask)
    np.testing.assert_allclose(out.mask[5], (masks[0][5] + masks[1][1]) / 2, atol=1e-5)
    np.testing.assert_allclose(out.mask[12], (masks[2][4] + masks[3][3]) / 2, atol=1e-5)
    np.testing.assert_allclose(out.mask[0], masks[0][0], atol=1e-5)
    np.testing.assert_allclose(
        out.frame_importance, stitch_importance(out.temporal, starts, 15), atol=1e-6
    )
    # every sampled frame handed over once, in order, with its final values
    assert [c[0] for c in calls] == list(range(15))
    assert [c[1] for c in calls] == samples.tolist()
    for t, _, m, v in calls:
        np.testing.assert_allclose(m, out.mask[t], atol=1e-6)
        assert v == pytest.approx(float(out.frame_importance[t]), abs=1e-6)


def test_video_shorter_than_a_window_is_one_window(small_model, make_video):
    out = E.explain_video(make_video(n=5), model=small_model, fps=10.0, window=25, quiet=True)
    assert out.window_starts.tolist() == [0] and out.temporal.shape == (1, 5, 5)
    np.testing.assert_allclose(out.temporal[0].sum(1), 1.0, atol=1e-5)


def test_streaming_holds_a_bounded_number_of_frames(small_model, make_video, monkeypatch):
    path = make_video(n=64, fps=10.0)
    real = V.iter_sampled
    decoded = [0]

    def counting(*args, **kw):
        for item in real(*args, **kw):
            decoded[0] += 1
            yield item

    monkeypatch.setattr(V, "iter_sampled", counting)
    lag = []
    out = E.explain_video(
        path, model=small_model, fps=10.0, window=8, stride=4, quiet=True,
        on_final=lambda t, *_: lag.append(decoded[0] - t),
    )  # fmt: skip
    assert out.num_frames == 64 and len(lag) == 64
    assert max(lag[:-8]) <= 8 + 4 + 16  # window + stride + one backbone chunk, not the video


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_spatial_map_writes_every_output(small_model, checkpoint, make_video, tmp_path):
    path = make_video(n=21, width=80, height=60, fps=10.0, fourcc="MJPG", name="clip.avi")
    out_dir = tmp_path / "out"
    summary = E.spatial_map(path, out_dir, checkpoint=checkpoint, frames=7, quiet=True)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [
        "boxes.csv", "index.html", "maps.npz", "overlay.mp4", "strip.png", "tubes.json",
        "video.webm",
    ]  # fmt: skip
    assert summary["frames"] == 7 and len(summary["top5"]) == 3
    assert summary["top5"][0][1] >= summary["top5"][1][1] >= summary["top5"][2][1]
    out = load_attention(out_dir / "maps.npz")
    assert out.frame_size == (60, 80) and out.num_frames == 7
    rows = _read_csv(out_dir / "boxes.csv")
    assert rows[0] == ["video", "frame", "class", "score", "x1", "y1", "x2", "y2"]
    want = boxes_from_attention(out)
    assert summary["boxes"] == len(want) == len(rows) - 1
    for row, b in zip(rows[1:], want, strict=True):
        assert row[0] == "clip" and int(row[1]) == b.frame and row[2] == out.class_names[b.label]
        assert [float(x) for x in row[3:]] == [b.score, b.x1, b.y1, b.x2, b.y2]
        assert 1 <= b.frame <= 21 and 0 <= b.x1 < b.x2 <= 80 and 0 <= b.y1 < b.y2 <= 60
    info = V.probe(out_dir / "overlay.mp4")
    assert (info.num_frames, info.width, info.height) == (7, 80, 60)
    strip = cv2.imread(str(out_dir / "strip.png"))
    assert strip.shape[0] == 3 * 96 + 4 and strip.shape[1] == 7 * 128 + 6 * 2
    tubes = json.loads((out_dir / "tubes.json").read_text())["tubes"]
    assert all(t["video"] == "clip" for t in tubes)


def test_spatial_map_with_windows_draws_the_same_boxes(small_model, make_video, tmp_path):
    path = make_video(n=40, fps=20.0)
    p = LocalizeParams(mask_norm="frame")
    E.spatial_map(
        path, tmp_path / "o", model=small_model, fps=10.0, window=6, stride=3, quiet=True,
        params=p, strip_frames=4,
    )  # fmt: skip
    out = load_attention(tmp_path / "o" / "maps.npz")
    assert out.window_starts is not None and out.num_frames == 20
    assert len(_read_csv(tmp_path / "o" / "boxes.csv")) - 1 == len(boxes_from_attention(out, p))
    assert V.probe(tmp_path / "o" / "overlay.mp4").num_frames == 20
    assert cv2.imread(str(tmp_path / "o" / "strip.png")).shape[1] == 4 * 128 + 3 * 2
    with pytest.raises(AttnvizError, match="'clip' needs the whole video"):
        E.spatial_map(
            path, tmp_path / "c", model=small_model, fps=10.0, quiet=True,
            params=LocalizeParams(mask_norm="clip"),
        )  # fmt: skip
    assert not (tmp_path / "c").exists()


def test_temporal_map_and_localize_agree(small_model, make_video, tmp_path):
    path = make_video(n=60, fps=10.0, name="video_test_0000004.mp4")
    summary = E.temporal_map(
        path, tmp_path / "t", model=small_model, fps=10.0, window=10, stride=5, quiet=True,
        html=False,
    )  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert names == ["maps.npz", "run.txt", "segments.csv", "temporal.png"]
    out = load_attention(tmp_path / "t" / "maps.npz")
    segs = segments_from_attention(out)
    assert summary["segments"] == len(segs) >= 1
    rows = _read_csv(tmp_path / "t" / "segments.csv")
    assert rows[0] == ["video", "t_start", "t_end", "class", "score"]
    assert [(r[0], float(r[1]), float(r[2]), r[3]) for r in rows[1:]] == [
        ("video_test_0000004", s.start, s.end, out.class_names[s.label]) for s in segs
    ]
    run = (tmp_path / "t" / "run.txt").read_text().splitlines()
    assert [ln.split() for ln in run] == [
        [
            "video_test_0000004",
            repr(round(s.start, 6)),
            repr(round(s.end, 6)),
            str(s.label + 1),
            repr(s.score),
        ]  # fmt: skip
        for s in segs
    ]
    assert all(0 <= s.start < s.end <= 6.0 for s in segs)
    loc = E.localize_maps(tmp_path / "t" / "maps.npz", tmp_path / "l")
    assert (tmp_path / "l" / "segments.csv").read_text() == (
        tmp_path / "t" / "segments.csv"
    ).read_text()
    assert loc["segments"] == len(segs) and loc["boxes"] == len(boxes_from_attention(out))
    again = E.localize_maps(tmp_path / "t" / "maps.npz", tmp_path / "m", importance="mean")
    assert again["segments"] == len(segs)  # the stored curve is the mean rule's


def test_truncated_video_is_explained_from_what_decoded(small_model, make_video, tmp_path):
    path = make_video(n=40, fourcc="MJPG", name="cut.avi")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(V.TruncatedVideoWarning, match="decoding stopped after frame"):
        summary = E.spatial_map(path, tmp_path / "o", model=small_model, frames=5, quiet=True)
    out = load_attention(tmp_path / "o" / "maps.npz")
    assert summary["frames"] == 5 and out.frame_indices.max() < 40


@pytest.mark.parametrize("kind", ["empty", "text", "missing"])
def test_unusable_video_leaves_nothing(small_model, tmp_path, kind):
    path = tmp_path / "x.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a video")
    for job in (E.spatial_map, E.temporal_map):
        with pytest.raises(AttnvizError, match="x.mp4"):
            job(path, tmp_path / "out", model=small_model, quiet=True)
        assert not (tmp_path / "out").exists()


def test_failure_midway_leaves_no_half_written_outputs(small_model, make_video, tmp_path):
    path = make_video(n=12)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("mine")

    def boom(*args, **kw):
        raise RuntimeError("disk full")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(E, "save_attention", boom, raising=False)
        import attnviz.io.maps as maps_mod

        mp.setattr(maps_mod, "save_attention", boom)
        with pytest.raises(RuntimeError, match="disk full"):
            E.spatial_map(path, out_dir, model=small_model, frames=4, quiet=True)
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt"]


def test_detect_segments_in_videos(small_model, checkpoint, make_video, tmp_path):
    a = make_video("a.mp4", n=30)
    make_video("b.avi", n=25, fourcc="MJPG")
    (a.parent / "notes.txt").write_text("not a video")
    dets = E.detect_segments_in_videos(a.parent, model=small_model, fps=10.0, window=8, stride=4)
    assert set(dets.video.tolist()) <= {"a", "b"} and len(dets) >= 2
    assert dets.label.max() < 3 and (dets.end > dets.start).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = E.temporal_run_file(
            a.parent, checkpoint=checkpoint, fps=10.0, window=8, stride=4, quiet=True,
            out=tmp_path / "run.txt",
        )  # fmt: skip
    assert len(run.read_text().splitlines()) == len(dets)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AttnvizError, match="no video files"):
        E.detect_segments_in_videos(tmp_path / "empty", model=small_model)
    with pytest.raises(AttnvizError, match="not a folder"):
        E.detect_segments_in_videos(tmp_path / "missing", model=small_model)


def test_bf16_runs_on_cpu(small_model, make_video):
    out = E.explain_video(
        make_video(n=8), model=small_model, frames=4, precision="bf16", quiet=True
    )
    ref = E.explain_video(make_video(n=8), model=small_model, frames=4, quiet=True)
    np.testing.assert_allclose(out.scores, ref.scores, atol=0.05)
    with pytest.raises(AttnvizError, match="precision"):
        E.explain_video(make_video(n=8), model=small_model, precision="fp16", quiet=True)
