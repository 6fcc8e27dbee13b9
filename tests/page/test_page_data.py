"""The pages' data and files, without a browser: quantised maps, boxes on the sampled frames,
safe inline JSON, the browser-playable copy, and the size of an hour-long video's page."""

from __future__ import annotations

import base64
import json
import re
from importlib import resources

import numpy as np
import pytest
from page_helpers import grey_video, gt_tube, hot_output

from attnviz.io.video import probe
from attnviz.localize import LocalizeParams, boxes_from_attention, segments_from_attention
from attnviz.pipeline.page import page_key, write_dataset_page, write_video_page
from attnviz.render.page import PageRow, quantise_maps, video_page_data, video_page_html
from attnviz.types import AttentionOutput, Box, Segment


def _data(page) -> dict:
    text = page.read_text(encoding="utf-8")
    m = re.search(r"<script id='attnviz-data' type='application/json'>(.*?)</script>", text, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def test_quantise_maps_over_the_masks_own_range():
    m = np.array([[[0.5, 0.75], [1.5, 1.0]]])
    data, lo, hi = quantise_maps(m)
    assert (lo, hi) == (0.5, 1.5)
    assert list(data) == [0, 64, 255, 128]  # 63.75 -> 64; 127.5 -> 128 (half to even)
    data, lo, hi = quantise_maps(np.full((2, 2, 2), 0.3))
    assert list(data) == [0] * 8 and lo == hi == pytest.approx(0.3)
    data, _, _ = quantise_maps(np.array([[[np.nan, 1.0], [0.0, 0.5]]]))
    assert list(data) == [0, 255, 0, 128]
    with pytest.raises(ValueError, match=r"\[T, h, w\]"):
        quantise_maps(np.zeros((2, 2)))


def test_video_page_data_keeps_what_the_page_draws(tmp_path):
    out = hot_output("top-left")
    params = LocalizeParams()
    page = write_video_page(
        tmp_path, {"attention": out, "other": hot_output("bottom-right")},
        gt_tubes=[gt_tube(out)], gt_segments=np.array([[1.0, 2.0]]), label="run",
    )  # fmt: skip
    d = _data(page)
    assert d["video"]["src"] is None and d["video"]["label"] == "run"
    assert d["times"] == pytest.approx(out.timestamps.tolist(), abs=1e-4)
    assert d["frames"] == out.frame_indices.tolist()
    assert [m["name"] for m in d["methods"]] == ["attention", "other"]
    m = d["methods"][0]
    q = np.frombuffer(base64.b64decode(m["maps"]), np.uint8).reshape(out.mask.shape)
    assert np.array_equal(q, (out.mask * 255).astype(np.uint8))  # range [0, 1] -> 0..255
    assert m["grid"] == [8, 8] and (m["lo"], m["hi"]) == (0.0, 1.0)
    assert m["importance"] == pytest.approx([0.0] * 8 + [1.0] * 8)
    assert m["top5"][0] == ["run", pytest.approx(0.6)] and len(m["top5"]) == 5
    # the page draws on the sampled frames: their boxes (not those interpolated in between)
    boxes = boxes_from_attention(out, params.replace(frame_boxes="sampled"))
    assert len(m["boxes"]) == len(boxes) == 16
    assert m["boxes"][0][:5] == [0, boxes[0].x1, boxes[0].y1, boxes[0].x2, boxes[0].y2]
    segs = segments_from_attention(out, params)
    assert [s[:2] for s in m["segments"]] == [
        [pytest.approx(s.start, abs=1e-3), pytest.approx(s.end, abs=1e-3)] for s in segs
    ]
    assert len(d["gt_boxes"]) == 16 and d["gt_boxes"][0] == [0, 0, 0, 79, 59]
    assert d["gt_segments"] == [[1.0, 2.0]]
    lut = np.frombuffer(base64.b64decode(d["colormap"]), np.uint8).reshape(256, 3)
    assert tuple(lut[0]) == (0, 0, 128) and tuple(lut[255]) == (128, 0, 0)  # jet, as overlays


def test_given_detections_replace_the_default_ones(tmp_path):
    out = hot_output()
    box = Box("grey", int(out.frame_indices[3]), 2, 0.5, 1, 2, 30, 40)
    seg = Segment("grey", 0.5, 1.0, 2, 0.25)
    d = _data(write_video_page(tmp_path, out, pred_boxes=[box], pred_segments=[seg]))
    m = d["methods"][0]
    assert m["name"] == "attention"
    assert m["boxes"] == [[3, 1, 2, 30, 40, "jump", 0.5]]
    assert m["segments"] == [[0.5, 1.0, "jump", 0.25]]
    with pytest.raises(ValueError, match="several methods"):
        write_video_page(tmp_path, {"a": out, "b": out}, pred_boxes=[box])


def test_one_page_shows_one_sampling():
    a = hot_output(t=16)
    b = hot_output(t=8)
    with pytest.raises(ValueError, match="sampled other frames"):
        video_page_data(
            {"a": a, "b": b}, importance={"a": a.frame_importance, "b": b.frame_importance},
            threshold=0.5, pred_boxes={}, pred_segments={},
        )  # fmt: skip


def test_inline_data_cannot_close_its_script_and_nothing_is_fetched(tmp_path):
    out = hot_output(video="</script><script>alert(1)</script>")
    page = write_video_page(tmp_path, out, label="<b>x</b>")
    text = page.read_text()
    assert text.count("</script>") == 2  # the data block's and the code's
    assert _data(page)["video"]["name"] == out.video
    assert "<b>x</b>" not in text
    # no URL anywhere in the shipped code and style: nothing to fetch, no CDN
    folder = resources.files("attnviz").joinpath("resources", "page")
    for name in ("viewer.js", "dataset.js", "page.css"):
        code = folder.joinpath(name).read_text()
        assert not re.search(r"https?:|//cdn|@import|url\(", code), name


def test_web_copy_rate_and_size(tmp_path):
    video = grey_video(tmp_path / "g.mp4", n=30, width=320, height=240)
    write_video_page(tmp_path / "p", hot_output(n_source=30, size=(240, 320)), video=video,
                     max_side=160, max_fps=None)  # fmt: skip
    info = probe(tmp_path / "p" / "video.webm")
    assert (info.num_frames, info.width, info.height, info.fps) == (30, 160, 120, 25.0)
    assert _data(tmp_path / "p" / "index.html")["video"]["duration"] == pytest.approx(1.2)
    # the default: at most 15 frames a second (every second frame of 25), longest side 480
    write_video_page(tmp_path / "q", hot_output(n_source=30, size=(240, 320)), video=video)
    info = probe(tmp_path / "q" / "video.webm")
    assert (info.num_frames, info.width, info.height, info.fps) == (15, 320, 240, 12.5)
    assert _data(tmp_path / "q" / "index.html")["video"]["duration"] == pytest.approx(1.2)


def test_a_source_browsers_play_is_linked_not_encoded(tmp_path, monkeypatch):
    from attnviz.io import video as V
    from attnviz.pipeline import page as P

    webm = P.write_web_video(grey_video(tmp_path / "g.mp4", n=30, width=320, height=240),
                             tmp_path / "src.webm")  # fmt: skip
    if webm is None:
        pytest.skip("this OpenCV build writes neither VP8 nor VP9")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "video.mp4").write_bytes(b"an earlier run's copy")

    def no_decoding(*args, **kwargs):
        raise AssertionError("a playable source must not be decoded")

    monkeypatch.setattr(V, "iter_frames", no_decoding)
    monkeypatch.setattr(V, "probe", no_decoding)
    write_video_page(tmp_path / "p", hot_output(n_source=30, size=(240, 320)), video=webm)
    copy = tmp_path / "p" / "video.webm"
    assert copy.read_bytes() == webm.read_bytes()
    assert not (tmp_path / "p" / "video.mp4").exists()  # no stale copy under another name
    data = _data(tmp_path / "p" / "index.html")["video"]
    assert data["src"] == "video.webm" and data["duration"] == pytest.approx(1.2)
    assert [p.name for p in (tmp_path / "p").iterdir() if p.name.startswith(".")] == []
    # an mp4 of OpenCV's mp4v does not play in browsers: encoded again, as video.webm
    monkeypatch.undo()
    src = grey_video(tmp_path / "m.mp4", n=30, width=320, height=240)
    assert P._fourcc(src)[0] not in P._PLAYABLE[".mp4"]  # reads as FMP4
    (tmp_path / "q").mkdir()
    written, seconds = P.web_video(src, tmp_path / "q")
    assert written == tmp_path / "q" / "video.webm" and seconds == pytest.approx(1.2)


def test_dataset_page_rows(tmp_path):
    rows = [
        PageRow("Class/v_1", "videos/Class__v_1/index.html", "run", "run", 0.9, "true positive",
                True),
        PageRow("v_2", "videos/v_2/index.html", "", "jump", float("nan"), "false alarm", False),
    ]  # fmt: skip
    d = _data(write_dataset_page(tmp_path, rows, title="t"))
    assert d["title"] == "t"
    assert d["rows"][0] == {
        "video": "Class/v_1", "href": "videos/Class__v_1/index.html", "label": "run",
        "predicted": "run", "score": 0.9, "outcome": "true positive", "correct": True,
    }  # fmt: skip
    assert d["rows"][1]["score"] is None
    assert page_key("Class/v_1") == "Class__v_1"
    assert all("/" not in page_key(k) and ".." not in page_key(k) for k in ("../x", "a/../../b"))


def test_an_hour_at_10_fps_stays_under_20_mb():
    """3600 s x 10 fps = 36000 sampled frames, a 14 x 14 grid (the default model's), one box a
    frame, sliding-window temporal weights: the page is a few MB, not one image per frame."""
    rng = np.random.default_rng(0)
    t, n = 36000, 25
    starts = np.arange(0, t - n + 1, 12)
    out = AttentionOutput(
        frame_indices=np.arange(t) * 3 + 1,
        timestamps=np.arange(t) / 10.0,
        frame_size=(240, 320),
        mask=rng.random((t, 14, 14), dtype=np.float32),
        temporal=np.full((len(starts), n, n), 1.0 / n, dtype=np.float32),
        frame_importance=rng.random(t, dtype=np.float32),
        scores=np.full(8, 1 / 8, dtype=np.float32),
        class_names=tuple(f"c{i}" for i in range(8)),
        video="hour",
        fps=30.0,
        window_starts=starts,
    )
    boxes = [Box("hour", int(f), 1, 0.5, 10.5, 20.5, 200.5, 230.5) for f in out.frame_indices]
    segs = [Segment("hour", s, s + 30.0, 1, 0.5) for s in range(0, 3600, 60)]
    html = video_page_html(
        video_page_data(
            {"attention": out},
            importance={"attention": out.frame_importance},
            threshold=0.5,
            pred_boxes={"attention": boxes},
            pred_segments={"attention": segs},
            duration=3600.0,
        )  # fmt: skip
    )
    size = len(html.encode("utf-8"))
    assert 36000 * 196 < size <= 20 * 1024 * 1024, size
