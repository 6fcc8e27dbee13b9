"""Issue 22, point 5: ``eval-thumos --videos`` samples as ``temporal-map`` does (same defaults,
said in the help), and keeps the run file it made with ``--out``."""

from __future__ import annotations

import inspect
import shutil

from attnviz.pipeline.explain import detect_segments_in_videos, temporal_run_file


def test_same_sampling_defaults_as_temporal_map(cli):
    for fn in (detect_segments_in_videos, temporal_run_file):
        params = inspect.signature(fn).parameters
        assert params["frames"].default == 25 and params["fps"].default is None
    code, out, _ = cli("eval-thumos", "--help")
    assert "as temporal-map" in " ".join(out.split())


def test_run_file_from_videos_equals_temporal_map_and_is_kept(cli, demo, tmp_path):
    video = demo("vids/clip.mp4")
    code, _, err = cli("temporal-map", "--video", video, "--out", tmp_path / "t", "--frames", 5,
                       "--quiet")  # fmt: skip
    assert code == 0, err
    run = (tmp_path / "t" / "run.txt").read_text()
    cls, name = run.split()[3], (tmp_path / "t" / "segments.csv").read_text().split(",")[-2]
    (tmp_path / "classes.txt").write_text(f"{cls} {name}\n")
    gt = tmp_path / "gt.json"
    gt.write_text('{"database": {"clip": {"subset": "test", "annotations": '
                  f'[{{"segment": [0.0, 1.0], "label": "{name}"}}]}}}}}}')  # fmt: skip
    shutil.rmtree(tmp_path / "t")
    report = tmp_path / "report.txt"
    code, _, err = cli("eval-thumos", "--gt", gt, "--classes", tmp_path / "classes.txt",
                       "--videos", video.parent, "--frames", 5, "--out", report,
                       "--quiet")  # fmt: skip
    assert code == 0, err
    assert report.is_file()
    assert (tmp_path / "report.txt.run.txt").read_text() == run
