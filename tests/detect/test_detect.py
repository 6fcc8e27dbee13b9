"""``attnviz detect`` on synthetic videos with the embedded default model: the evaluators score
its files exactly as ``benchmarks/synthetic_report.py`` scores the same videos; two torchrun
ranks, a killed-and-resumed run and one process write byte-identical files; bad input is
skipped, listed and exits non-zero."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from attnviz.cli import main

ROOT = Path(__file__).resolve().parents[2]
MERGED = ("frame_dets.csv", "tubes.json", "run.txt", "segments.csv")
N_VIDEOS = 3


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    from attnviz.data.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("synth") / "s"
    generate_dataset(root, videos=N_VIDEOS, seed=4141, splits="test=1", quiet=True)
    return root


@pytest.fixture(scope="module")
def reference(synth, tmp_path_factory) -> Path:
    """One single-process run (decode in the main process) every other run is compared to."""
    out = tmp_path_factory.mktemp("ref") / "d"
    with pytest.raises(SystemExit) as exc:
        main(["detect", "--data", str(synth), "--out", str(out), "--workers", "0", "--quiet"])
    assert exc.value.code == 0
    return out


def _same_files(a: Path, b: Path) -> None:
    for name in MERGED:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _report_module():
    spec = importlib.util.spec_from_file_location(
        "synthetic_report", ROOT / "benchmarks" / "synthetic_report.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_detect_then_evaluators_equal_the_synthetic_report(synth, reference, tmp_path, capsys):
    """Table 5 / 6 numbers from `detect` + `eval-ucf24` / `eval-thumos` are those of the
    synthetic report's own path (cached features, its _localize and _score)."""
    from attnviz.io.features import state_checksum
    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.io.splits import read_csv_list
    from attnviz.io.thumos import read_thumos_gt
    from attnviz.localize import LocalizeParams
    from attnviz.pipeline.explain import load_model
    from attnviz.pipeline.features import extract_features

    rep = _report_module()
    model, info = load_model(None)
    test = read_csv_list(synth / "test.csv", root=synth / "videos")
    cache = tmp_path / "cache" / state_checksum(model.backbone.state_dict())[:16]
    desc = {"backbone": "resnet18", "stage": 2, "input_size": model.input_size}
    extract_features(
        test, cache, trunk=model.backbone, desc=desc, frames=25, dtype="float32", quiet=True,
        rank=0, world_size=1,
    )  # fmt: skip
    outs, _ = rep._outputs(model, cache, test, None)
    segs, boxes, tubes = rep._localize(outs, LocalizeParams())
    tgt = read_thumos_gt(synth / "annotations", subset="test", classes=synth / "classes.txt")
    sgt = read_spatial_gt(synth / "gt_tubes.json")
    want = rep._score(tgt, sgt, segs, boxes, tubes)
    iou = ",".join(str(t) for t in rep.IOU)
    got = {}
    for metric, pred in (("frame", "frame_dets.csv"), ("video", "tubes.json")):
        _, out, _ = _eval(
            ["eval-ucf24", "--gt", synth / "gt_tubes.json", "--pred", reference / pred,
             "--metric", metric, "--iou", iou, "--format", "json", "--quiet"],
            capsys,
        )  # fmt: skip
        got[metric] = json.loads(out)["mAP"]
    _, out, _ = _eval(
        ["eval-thumos", "--gt", synth / "annotations", "--classes", synth / "classes.txt",
         "--pred", reference / "run.txt", "--tiou", ",".join(str(t) for t in rep.TIOU),
         "--format", "json", "--quiet"],
        capsys,
    )  # fmt: skip
    got["temporal"] = json.loads(out)["mAP"]
    for key in ("frame", "video", "temporal"):
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-12, err_msg=key)
    assert max(got["temporal"]) > 0 and max(got["frame"]) > 0  # a real signal, not all zeros
    summary = json.loads((reference / "summary.json").read_text())
    assert summary["counts"]["videos_done"] == N_VIDEOS and summary["failed"] == []
    assert summary["counts"]["frame_detections"] == len(boxes)
    assert summary["counts"]["segments"] == len(segs) and summary["counts"]["tubes"] == len(tubes)


def _eval(args, capsys):
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, None), err
    return 0, out, err


@pytest.mark.slow  # three fresh processes that import torch: about 20 s on 2 cores
def test_workers_and_torchrun_ranks_write_the_same_files(synth, reference, tmp_path):
    """Two decode workers in one process, and `torchrun --nproc_per_node 2` (gloo, CPU)."""
    one = tmp_path / "workers"
    subprocess.run(
        [sys.executable, "-m", "attnviz", "detect", "--data", synth, "--out", one,
         "--workers", "2", "--quiet"],
        check=True, env=_env(), timeout=600,
    )  # fmt: skip
    _same_files(one, reference)
    two = tmp_path / "ranks"
    subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "attnviz", "detect", "--data", synth, "--out", two, "--workers", "1", "--quiet"],
        check=True, env=_env(), timeout=600,
    )  # fmt: skip
    _same_files(two, reference)
    assert len(list((two / "parts").glob("[!.]*.json"))) == N_VIDEOS


def test_a_killed_run_resumes_to_the_same_files(synth, reference, tmp_path, capsys):
    out = tmp_path / "d"
    proc = subprocess.Popen(
        [sys.executable, "-m", "attnviz", "detect", "--data", synth, "--out", out,
         "--workers", "0", "--quiet"],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if list((out / "parts").glob("[!.]*.json")):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((out / "parts").glob("[!.]*.json")))
    assert 1 <= done < N_VIDEOS, f"killed after {done} videos"
    assert not (out / "frame_dets.csv").exists()
    code, _, _ = run(["detect", "--data", synth, "--out", out, "--workers", "0", "--quiet"], capsys)
    assert code == 0
    _same_files(out, reference)
    # a damaged part is detected and redone
    part = sorted((out / "parts").glob("[!.]*.json"))[0]
    part.write_text(part.read_text()[:20])
    with pytest.warns(UserWarning, match="synth4141_00000.json: unreadable; detecting again"):
        code, _, _ = run(["detect", "--data", synth, "--out", out, "--workers", "0"], capsys)
    assert code == 0
    _same_files(out, reference)


def test_a_rerun_with_other_settings_is_refused(synth, reference, tmp_path, capsys):
    out = tmp_path / "d"
    shutil.copytree(reference, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = run(
        ["detect", "--data", synth, "--out", out, "--threshold", "0.4", "--quiet"], capsys
    )
    assert code == 2
    # the reference ran without --threshold: its settings hold the default model's own
    from attnviz.pipeline.explain import load_model

    own = load_model(None)[0].localize_threshold
    assert own is not None
    assert err.count("\n") == 1
    assert f"other settings (settings.params.threshold: {own} there, 0.4 now)" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_missing_and_corrupt_videos(synth, reference, tmp_path, capsys):
    import cv2

    from attnviz.io.video import iter_frames

    data = tmp_path / "s"
    shutil.copytree(synth, data)
    videos = sorted((data / "videos").iterdir())
    videos[0].unlink()  # missing
    broken = videos[1].with_suffix(".avi")  # truncated MJPG AVI: what decodes is used
    frames = [f[..., ::-1] for _, f in iter_frames(videos[1])]
    writer = cv2.VideoWriter(str(broken), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (160, 120))
    for f in frames:
        writer.write(np.ascontiguousarray(f))
    writer.release()
    videos[1].unlink()
    blob = broken.read_bytes()
    broken.write_bytes(blob[: int(len(blob) * 0.6)])
    out = tmp_path / "d"
    code, _, err = run(["detect", "--data", data, "--out", out, "--workers", "1"], capsys)
    assert code == 1
    assert f"{videos[0].stem}: not found; no detections" in err
    assert "1 of 3 videos have no detections" in err.splitlines()[-1]
    assert "warning:" in err and broken.name in err and "decoding stopped" in err
    rows = (out / "frame_dets.csv").read_text().splitlines()[1:]
    segs = (out / "segments.csv").read_text().splitlines()[1:]
    assert videos[0].stem not in {r.split(",")[0] for r in rows + segs}
    assert videos[1].stem in {r.split(",")[0] for r in segs}  # the truncated one is used
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["videos_done"] == 2
    assert summary["failed"] == [[videos[0].stem, "not found"]]
    code, _, err = run(
        ["detect", "--data", data, "--out", out, "--skip-missing", "--quiet"], capsys
    )
    assert code == 0 and err == ""
    ref = [r for r in (reference / "frame_dets.csv").read_text().splitlines()[1:]]
    assert [r for r in rows if r.startswith(videos[2].stem)] == [
        r for r in ref if r.startswith(videos[2].stem)
    ]


def test_ground_truth_that_does_not_match_the_list(synth, tmp_path, capsys):
    data = tmp_path / "s"
    shutil.copytree(synth, data, ignore=shutil.ignore_patterns("videos"))
    (data / "videos").mkdir()
    with open(data / "test.csv", "a") as f:
        f.write("not_a_video,RedCircleSwing\n")
    code, _, err = run(["detect", "--data", data, "--out", tmp_path / "d"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "gt_tubes.json: does not match the video list: 'not_a_video'" in err
    assert not (tmp_path / "d").exists()


@pytest.mark.slow  # two more detect runs (every class; windows): about 15 s on 2 idle cores
def test_frame_folders_and_fps_windows(synth, tmp_path, capsys):
    """UCF101-24 layout (ground truth + rgb-images/<video>/%05d.jpg) and a THUMOS14 folder of
    videos with its annotation folder, sampled at a fixed rate in windows."""
    import cv2

    from attnviz.io.video import iter_frames

    key = sorted(p.stem for p in (synth / "videos").iterdir())[0]
    folder = tmp_path / "ucf" / "rgb-images" / key
    folder.mkdir(parents=True)
    for i, f in iter_frames(synth / "videos" / f"{key}.mp4"):
        cv2.imwrite(str(folder / f"{i + 1:05d}.jpg"), f[..., ::-1])
    out = tmp_path / "u"
    code, _, err = run(
        ["detect", "--data", tmp_path / "ucf", "--gt", synth / "gt_tubes.json", "--out", out,
         "--skip-missing", "--classes", "all", "--save-maps", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"]["layout"] == "ucf24" and summary["counts"]["videos_done"] == 1
    segs = (out / "segments.csv").read_text().splitlines()[1:]
    assert len({s.split(",")[3] for s in segs}) > 1  # every class, not only the top one
    assert (out / "maps" / f"{key}.npz").is_file()
    out = tmp_path / "t"
    code, _, err = run(
        ["detect", "--data", synth / "videos", "--gt", synth / "annotations", "--out", out,
         "--fps", "10", "--window", "8", "--stride", "4", "--workers", "1", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    run_lines = (out / "run.txt").read_text().splitlines()
    assert {ln.split()[0] for ln in run_lines} <= {p.stem for p in (synth / "videos").iterdir()}
    assert json.loads((out / "summary.json").read_text())["counts"]["videos_done"] == N_VIDEOS


def test_detect_writes_the_dataset_page_and_a_page_per_video(synth, reference, tmp_path, capsys):
    """index.html lists every video with its top class and links to videos/<key>/index.html,
    which exists with its playable copy; --no-html writes neither."""
    import re

    from attnviz.io.splits import read_csv_list

    index = (reference / "index.html").read_text()
    keys = [v.key for v in read_csv_list(synth / "test.csv", root=synth / "videos").items]
    assert len(keys) == N_VIDEOS
    for key in keys:
        assert key in index
        page = reference / "videos" / key / "index.html"
        assert page.is_file() and key in page.read_text()
    links = re.findall(r"videos/[^\"']+/index\.html", index)
    assert links and all((reference / link).is_file() for link in links)
    out = tmp_path / "nohtml"
    code, _, err = run(
        ["detect", "--data", synth, "--out", out, "--workers", "0", "--quiet", "--no-html"], capsys
    )
    assert code == 0, err
    assert not (out / "index.html").exists() and not (out / "videos").exists()
    _same_files(reference, out)


def tiny_video_classifier():
    """A 5-class 3D CNN (``--model test_detect:tiny_video_classifier``)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv3d(3, 4, 3, stride=(2, 4, 4), padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1),
        nn.Flatten(), nn.Linear(4, 5),
    )  # fmt: skip


def test_detect_with_another_video_classifier(synth, tmp_path, capsys):
    """``--model package.module:factory`` (any video classifier, Grad-CAM): the same merged
    files, boxes on the model's own classes; a rerun with another method is refused."""
    out = tmp_path / "m"
    args = ["detect", "--data", synth / "test.csv", "--root", synth / "videos", "--out", out,
            "--model", f"{__name__}:tiny_video_classifier", "--target-layer", "1",
            "--weights", "none", "--frames", "16", "--quiet", "--no-html"]  # fmt: skip
    code, _, err = run(args, capsys)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["videos_done"] == N_VIDEOS
    assert summary["class_names"] == ["0", "1", "2", "3", "4"]
    assert summary["model_sha256"].startswith(f"{__name__}:tiny_video_classifier:gradcam:")
    rows = (out / "frame_dets.csv").read_text().splitlines()
    assert rows[0] == "video,frame,class,score,x1,y1,x2,y2" and len(rows) > 1
    code, _, err = run([*args[:-2], "--method", "gradcam++", "--quiet", "--no-html"], capsys)
    assert code != 0 and "other settings" in err
