"""Issue 22, points 1, 4, 11, 13: run files read back whatever the video name, the shipped
model says what it knows, flags that cannot go together are refused, and stderr holds no
progress debris."""

from __future__ import annotations

import numpy as np

from attnviz.io.thumos import read_detections, write_run_file
from attnviz.types import TemporalDetections


def test_run_file_with_spaces_in_the_name_reads_back(tmp_path):  # point 1
    dets = TemporalDetections.from_arrays(
        ["tree clip (1)", "50%done"], [0.15000000000000002, 3.6000179999999995],
        [0.3, 3.9666865], [0, 1], [0.349, 0.5],
    )  # fmt: skip
    write_run_file(tmp_path / "run.txt", dets, [7, 9])
    text = (tmp_path / "run.txt").read_text()
    assert text.splitlines()[0] == "tree%20clip%20(1) 0.15 0.3 7 0.349"
    assert "3.600018 3.966686" in text  # times to the microsecond
    back = read_detections(tmp_path / "run.txt", class_ids=[7, 9], class_names=["A", "B"])
    assert back.video.tolist() == ["tree clip (1)", "50%done"]
    np.testing.assert_allclose(back.start, [0.15, 3.600018])


def test_temporal_map_on_a_spaced_name_then_eval_reads_it(cli, demo, tmp_path):  # point 1
    video = demo("my videos/tree clip (1).mp4")
    code, _, err = cli("temporal-map", "--video", video, "--out", tmp_path / "o", "--frames", 5,
                       "--quiet")  # fmt: skip
    assert code == 0, err
    line = (tmp_path / "o" / "run.txt").read_text().splitlines()[0]
    assert line.split()[0] == "tree%20clip%20(1)" and len(line.split()) == 5
    cls = line.split()[3]
    name = (tmp_path / "o" / "segments.csv").read_text().splitlines()[1].split(",")[-2]
    (tmp_path / "classes.txt").write_text(f"{cls} {name}\n")
    gt = tmp_path / "gt.json"
    gt.write_text(
        '{"database": {"tree clip (1)": {"subset": "test", "annotations": '
        f'[{{"segment": [0.0, 1.0], "label": "{name}"}}]}}}}}}'
    )
    code, out, err = cli("eval-thumos", "--gt", gt, "--pred", tmp_path / "o" / "run.txt",
                         "--classes", tmp_path / "classes.txt", "--quiet")  # fmt: skip
    assert code == 0, err
    assert "mAP" in out


def test_default_model_says_what_it_knows(cli, demo, tmp_path):  # point 4
    code, _, err = cli("spatial-map", "--video", demo(), "--out", tmp_path / "o", "--frames", 3)
    assert code == 0, err
    assert "synthetic" in err and "--checkpoint" in err
    code, _, err = cli("spatial-map", "--video", demo(), "--out", tmp_path / "q", "--frames", 3,
                       "--quiet")  # fmt: skip
    assert code == 0 and err == ""


def test_input_flag_and_fps_with_frames(cli, demo, tmp_path):  # point 11
    code, _, err = cli("temporal-map", "--input", demo(), "--out", tmp_path / "o", "--frames", 3,
                       "--quiet")  # fmt: skip
    assert code == 0, err  # --input is --video
    code, _, err = cli("temporal-map", "--video", demo(), "--out", tmp_path / "p", "--fps", 5,
                       "--frames", 10)  # fmt: skip
    assert code == 2 and "--fps" in err and "--frames" in err
    assert not (tmp_path / "p").exists()


def test_no_progress_debris_on_stderr(cli, demo, tmp_path):  # point 13
    code, _, err = cli("temporal-map", "--video", demo(), "--out", tmp_path / "o", "--frames", 3)
    assert code == 0, err
    assert "frame/s" not in err and "decoding" not in err


def test_ctrl_c_prints_interrupted_and_exits_130(cli, demo, tmp_path, monkeypatch):  # point 13
    from attnviz.pipeline import explain

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(explain, "temporal_map", interrupted)
    code, _, err = cli("temporal-map", "--video", demo(), "--out", tmp_path / "o", "--quiet")
    assert code == 130 and err.strip().splitlines()[-1] == "error: interrupted"
