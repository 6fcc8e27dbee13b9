"""attnviz.pipeline.figures: ground truth per video, evaluation with PR curves, the two writers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from figures_helpers import make_output, make_result

from attnviz.errors import AttnvizError, InputError
from attnviz.io.maps import save_attention
from attnviz.localize import LocalizeParams
from attnviz.pipeline.figures import (
    evaluate_maps,
    find_video,
    gt_boxes_for,
    gt_segments_for,
    load_frames,
    load_maps,
    pr_curves,
    read_eval,
    read_ground_truth,
    write_figures,
    write_report,
)
from attnviz.report import result_from_dict
from attnviz.types import GTTube, SpatialGroundTruth, TemporalGroundTruth, VideoAnnotation

NAMES = ("Walk", "Jump", "Run")


def _temporal_gt() -> TemporalGroundTruth:
    return TemporalGroundTruth(
        class_names=NAMES,
        class_ids=(1, 2, 3),
        video=np.array(["vid_a", "vid_b", "other"], dtype=object),
        start=np.array([1.2, 0.0, 5.0]),
        end=np.array([2.8, 1.0, 9.0]),
        label=np.array([1, 1, 1]),
        videos=("other", "vid_a", "vid_b"),
    )


def _spatial_gt() -> SpatialGroundTruth:
    frames = np.arange(1, 20, dtype=np.float64)[:, None]
    boxes = np.hstack([frames, np.tile([0.0, 0.0, 40.0, 30.0], (19, 1))])
    tube = GTTube(1, boxes)
    return SpatialGroundTruth(
        labels=NAMES,
        videos={
            "Jump/vid_a": VideoAnnotation(1, 20, (tube,), (60, 80)),
            "Jump/unseen": VideoAnnotation(1, 20, (tube,), (60, 80)),
        },
        test_videos=("Jump/vid_a", "Jump/unseen"),
    )


def _maps():
    a = make_output("vid_a")  # Jump, 0.7: segment 1.4-2.6 s, box (0, 0, 40, 30) on each frame
    b = dataclasses.replace(make_output("vid_b"), scores=np.array([0.1, 0.6, 0.3], np.float32))
    return [a, b]


def test_gt_per_video_by_key_or_basename():
    boxes = gt_boxes_for(_spatial_gt(), "vid_a")  # key "Jump/vid_a"
    assert sorted(boxes) == list(range(1, 20))
    np.testing.assert_array_equal(boxes[5], [[0, 0, 40, 30]])
    assert gt_boxes_for(_spatial_gt(), "nope") == {}
    assert gt_segments_for(_temporal_gt(), "vid_b") == [(0.0, 1.0)]
    assert gt_segments_for(_temporal_gt(), "vid_b.mp4") == []


def test_evaluate_maps_hand_computed():
    res = evaluate_maps(_maps(), temporal_gt=_temporal_gt(), spatial_gt=_spatial_gt())
    t = res["temporal"]
    # Jump: vid_a detected (tIoU 1.2/1.6 = 0.75), vid_b's detection misses; "other" is not
    # covered by the maps and left out: AP = 1/2 at every threshold up to 0.5
    np.testing.assert_allclose(t.ap[1], 0.5)
    np.testing.assert_allclose(t.mAP, 0.5)
    assert "scored on the 2 videos that have maps" in t.warnings
    curve = pr_curves(t, 0.3)["Jump"]
    np.testing.assert_allclose(curve.recall, [0.5, 0.5])
    np.testing.assert_allclose(curve.precision, [1.0, 0.5])
    assert curve.ap == pytest.approx(0.5)
    # frame-mAP: the 10 sampled frames' exact boxes and the 9 interpolated between them cover
    # the 19 ground-truth boxes, all true positives
    f = res["frame"]
    np.testing.assert_allclose(f.ap[1], 1.0, rtol=1e-6)
    # the paper's rule (boxes on the sampled frames only): 10 of 19
    sampled = evaluate_maps(
        _maps(),
        temporal_gt=_temporal_gt(),
        spatial_gt=_spatial_gt(),
        params=LocalizeParams(frame_boxes="sampled"),
    )["frame"]
    np.testing.assert_allclose(sampled.ap[1], 10 / 19, rtol=1e-6)
    fc = pr_curves(sampled, 0.5)["Jump"]
    np.testing.assert_allclose(fc.recall, np.arange(1, 11) / 19)
    np.testing.assert_allclose(fc.precision, 1.0)
    # video-mAP: tube over frames 9..13 against a ground-truth tube over 1..19, same box:
    # spatio-temporal IoU 5/19 = 0.26 -> a hit at 0.05, 0.1, 0.2, a miss at 0.3 and 0.5
    v = res["video"]
    np.testing.assert_allclose(v.ap[1], [1.0, 1.0, 1.0, 0.0, 0.0])
    with pytest.raises(AttnvizError, match="holds no precision-recall"):
        pr_curves(v, 0.1)
    with pytest.raises(AttnvizError, match="threshold 0.7 was not evaluated"):
        pr_curves(t, 0.7)


def test_evaluate_maps_needs_ground_truth_and_maps():
    with pytest.raises(AttnvizError, match="no ground truth"):
        evaluate_maps(_maps())
    with pytest.raises(AttnvizError, match="no attention maps"):
        evaluate_maps([], temporal_gt=_temporal_gt())
    with pytest.raises(AttnvizError, match="none of the maps' videos"):
        evaluate_maps([make_output("zzz")], spatial_gt=_spatial_gt())


def test_pr_curves_from_thumos_matches():
    from attnviz.evaluate.thumos import evaluate_thumos
    from attnviz.types import TemporalDetections

    gt = _temporal_gt()
    dets = TemporalDetections.from_arrays(
        ["vid_a", "vid_a", "other"], [1.2, 5.0, 5.0], [2.8, 6.0, 9.0], [1, 1, 1], [0.9, 0.8, 0.7]
    )
    r = evaluate_thumos(gt, dets, tiou=(0.5,), keep_matches=True)
    c = pr_curves(r, 0.5)["Jump"]
    np.testing.assert_allclose(c.recall, [1 / 3, 1 / 3, 2 / 3])
    np.testing.assert_allclose(c.precision, [1.0, 0.5, 2 / 3])
    assert c.ap == pytest.approx((1.0 + 2 / 3) / 3)


def test_result_json_round_trip_and_errors(tmp_path):
    r = make_result("video", (0.1, 0.2), [0.5, 0.25], protocol="act")
    back = result_from_dict(r.to_dict())
    assert (back.metric, back.protocol, back.thresholds, back.class_names) == (
        "video", "act", (0.1, 0.2), ("Walk", "Jump"),
    )  # fmt: skip
    np.testing.assert_array_equal(back.ap, r.ap)
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"tiou": [0.1], "mAP": [0.5, 0.1], "AP": {}}))
    with pytest.raises(InputError, match=r'r.json: field "mAP" has 2 values for 1'):
        read_eval(p)
    p.write_text(json.dumps({"tiou": [0.1], "mAP": ["x"], "AP": {}}))
    with pytest.raises(InputError, match="must hold numbers"):
        read_eval(p)
    p.write_text("{")
    with pytest.raises(InputError, match="line 1: not valid JSON"):
        read_eval(p)
    with pytest.raises(InputError, match='missing field "tiou"'):
        result_from_dict({"mAP": []})
    with pytest.raises(AttnvizError, match="not found"):
        read_eval(tmp_path / "none.json")


def test_read_ground_truth_tells_layouts_apart(tmp_path):
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "Walk_test.txt").write_text("")
    (folder / "Jump_test.txt").write_text("vid_a 1.2 2.8\n")
    (folder / "Run_test.txt").write_text("")
    classes = tmp_path / "classes.txt"
    classes.write_text("1 Walk\n2 Jump\n3 Run\n")
    t = read_ground_truth(folder, classes=classes)
    assert isinstance(t, TemporalGroundTruth) and t.class_names == NAMES
    act = {"labels": list(NAMES), "gttubes": {"vid_a": {"1": [[[1, 0, 0, 40, 30]]]}},
           "nframes": {"vid_a": 20}, "test_videos": [["vid_a"]]}  # fmt: skip
    (tmp_path / "tubes.json").write_text(json.dumps(act))
    s = read_ground_truth(tmp_path / "tubes.json")
    assert isinstance(s, SpatialGroundTruth) and list(s.videos) == ["vid_a"]
    with pytest.raises(AttnvizError, match="not found"):
        read_ground_truth(tmp_path / "missing")


def _write_video(path, n: int = 20, size=(80, 60)) -> None:
    import cv2

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, size)
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), 10 * i, np.uint8))
    w.release()


def test_load_frames_reads_the_sampled_frames(tmp_path):
    video = tmp_path / "videos" / "vid_a.avi"
    video.parent.mkdir()
    _write_video(video)
    assert find_video("vid_a", tmp_path) == video
    assert find_video("vid_x", tmp_path) is None
    out = make_output("vid_a")
    got = load_frames(tmp_path, out, frame_numbers=[1, 19], max_height=30)
    assert sorted(got) == [1, 19]
    assert got[19].shape == (30, 40, 3)
    with pytest.raises(AttnvizError, match="no video file named 'vid_x'"):
        load_frames(tmp_path, make_output("vid_x"))
    assert abs(int(got[19].mean()) - 180) <= 4  # source frame 19 (0-based 18) is 10 * 18
    from attnviz.io.video import TruncatedVideoWarning

    with pytest.raises(AttnvizError, match=r"frames \[41\]"), pytest.warns(TruncatedVideoWarning):
        load_frames(video, out, frame_numbers=[41])


def test_write_figures_all_files_with_ground_truth(tmp_path):
    maps_dir = tmp_path / "maps"
    for o in _maps():
        save_attention(maps_dir / f"{o.video}.npz", o)
    assert [o.video for o in load_maps(maps_dir)] == ["vid_a", "vid_b"]
    ann = tmp_path / "ann"
    ann.mkdir()
    for name, text in (("Walk", ""), ("Jump", "vid_a 1.2 2.8\nvid_b 0 1\n"), ("Run", "")):
        (ann / f"{name}_test.txt").write_text(text)
    (tmp_path / "classes.txt").write_text("1 Walk\n2 Jump\n3 Run\n")
    videos = tmp_path / "videos"
    videos.mkdir()
    _write_video(videos / "vid_a.avi")
    out_dir = tmp_path / "figs"
    summary = write_figures(
        maps_dir, out_dir, gt=[ann], classes=tmp_path / "classes.txt", videos=videos,
        examples=["vid_a"], num=3, formats=("png",),
    )  # fmt: skip
    expected = {
        "fig4_vid_a.png", "fig5_vid_a.png", "fig6_vid_a.png", "pr_temporal.png",
        "map_temporal.png", "eval_temporal.json",
    }  # fmt: skip
    assert set(summary["files"]) == expected
    assert {p.name for p in out_dir.iterdir()} == expected
    assert (out_dir / "fig4_vid_a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = read_eval(out_dir / "eval_temporal.json")
    np.testing.assert_allclose(saved.mAP, 0.5)
    # a bad option leaves nothing behind, not even the folder it would have created
    bad = tmp_path / "bad"
    with pytest.raises(AttnvizError, match="^pr_threshold 0.9 is not one"):
        write_figures(maps_dir, bad, gt=[ann], classes=tmp_path / "classes.txt", examples=1,
                      pr_threshold=0.9, formats=("png",))  # fmt: skip
    assert not bad.exists()


def test_write_figures_pdf_without_video_or_gt(tmp_path):
    o = make_output("vid_a")
    save_attention(tmp_path / "maps.npz", o)
    summary = write_figures(tmp_path / "maps.npz", tmp_path / "out", num=2, formats=("pdf",))
    assert sorted(summary["files"]) == ["fig4_vid_a.pdf", "fig5_vid_a.pdf", "fig6_vid_a.pdf"]
    assert (tmp_path / "out" / "fig5_vid_a.pdf").read_bytes()[:5] == b"%PDF-"
    assert any("gray canvases" in n for n in summary["notes"])
    with pytest.raises(AttnvizError, match="^formats takes png, pdf or svg"):
        write_figures(tmp_path / "maps.npz", tmp_path / "x", formats=("jpg",))
    with pytest.raises(AttnvizError, match="^examples 'zz': no maps"):
        write_figures(tmp_path / "maps.npz", tmp_path / "x", examples=["zz"])


def test_write_report_tables_and_per_class_layouts(tmp_path):
    ours = make_result("temporal", (0.1, 0.2, 0.3, 0.4, 0.5), [0.7, 0.6, 0.5, 0.4, 0.3])
    base = make_result("temporal", (0.1, 0.2, 0.3, 0.4, 0.5), [0.2, 0.2, 0.1, 0.1, 0.0])
    frame = make_result("frame", (0.05, 0.1, 0.2, 0.3, 0.5), [0.6, 0.5, 0.4, 0.3, 0.1], "act")
    paths = {}
    for name, r in (("ours", ours), ("uniform", base), ("attn", frame)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(r.to_dict()))
    rep = write_report(paths, tmp_path / "rep", paper=True)
    t6 = rep["tables"]["table6"]
    assert list(t6.index) == ["REINFORCE (paper)", "UntrimmedNet (paper)", "Ours (paper)",
                              "ours", "uniform"]  # fmt: skip
    assert t6.loc["ours", "α = 0.3"] == pytest.approx(50.0)
    # every evaluated threshold is a column, the paper's first (issue 22: none dropped)
    assert list(rep["tables"]["table5_frame"].columns) == ["α = 0.05", "α = 0.1", "α = 0.2",
                                                           "α = 0.3", "α = 0.5"]  # fmt: skip
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    assert {"table6.md", "table6.tex", "table6.csv", "table5_frame.tex", "ours_temporal.txt",
            "attn_frame.md"} <= files  # fmt: skip
    md = (tmp_path / "rep" / "table6.md").read_text()
    assert "| ours | **70.0** |" in md  # tied with the paper's 70.0: both in bold
    assert "| Ours (paper) | **70.0** |" in md
    txt = (tmp_path / "rep" / "ours_temporal.txt").read_text()
    assert "Jump" in txt and "65.00" in txt  # per-class layout of attnviz.report
    with pytest.raises(AttnvizError, match="^evals names no evaluation file"):
        write_report([])


def test_write_report_one_method_in_several_tables(tmp_path):
    t = make_result("temporal", (0.1, 0.2, 0.3, 0.4, 0.5), [0.7, 0.6, 0.5, 0.4, 0.3])
    f = make_result("frame", (0.05, 0.1, 0.2, 0.3), [0.6, 0.5, 0.4, 0.3], "act")
    (tmp_path / "t.json").write_text(json.dumps(t.to_dict()))
    (tmp_path / "f.json").write_text(json.dumps(f.to_dict()))
    rep = write_report([("attention", tmp_path / "t.json"), ("attention", tmp_path / "f.json")])
    assert list(rep["tables"]["table6"].index) == ["attention"]
    assert list(rep["tables"]["table5_frame"].index) == ["attention"]
    assert rep["files"] == []
    with pytest.raises(AttnvizError, match="two temporal results named 't'"):
        write_report([tmp_path / "t.json", ("t", tmp_path / "t.json")])
