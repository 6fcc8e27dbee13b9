"""The commands through attnviz's entry point: outputs, top-5 on stdout, --quiet, and one
``error:`` line with a non-zero exit (and nothing written) for every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from attnviz.cli import main
from attnviz.io.maps import save_attention
from attnviz.pipeline import explain as E
from attnviz.types import AttentionOutput


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_spatial_map_prints_top5_and_quiet_is_silent(checkpoint, make_video, tmp_path, capsys):
    video = make_video(n=15)
    code, out, err = run(
        ["spatial-map", "--video", video, "--checkpoint", checkpoint, "--out", tmp_path / "o",
         "--frames", 5, "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "top-5 classes:" and len(lines) == 4  # three classes
    assert {ln.split()[1] for ln in lines[1:]} == {"walk", "run", "jump"}
    assert (tmp_path / "o" / "overlay.mp4").is_file() and (tmp_path / "o" / "strip.png").is_file()
    code, out, err = run(
        ["spatial-map", "--video", video, "--checkpoint", checkpoint, "--out", tmp_path / "p",
         "--fps", 5, "--window", 4, "--stride", 2, "--threshold", 0.3, "--alpha", 0.7],
        capsys,
    )  # fmt: skip
    assert code == 0 and f"wrote {tmp_path / 'p'}" in err
    assert (tmp_path / "p" / "boxes.csv").is_file()
    assert (tmp_path / "o" / "index.html").is_file() and (tmp_path / "p" / "video.webm").is_file()


def test_temporal_map_and_localize_commands(checkpoint, make_video, tmp_path, capsys):
    video = make_video(n=40)
    code, _, _ = run(
        ["temporal-map", "--video", video, "--checkpoint", checkpoint, "--out", tmp_path / "t",
         "--fps", 10, "--window", 8, "--stride", 4, "--quiet", "--no-html"],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert (tmp_path / "t" / "temporal.png").is_file() and (tmp_path / "t" / "run.txt").is_file()
    assert not (tmp_path / "t" / "index.html").exists()
    assert not (tmp_path / "t" / "video.webm").exists()
    code, out, _ = run(
        ["localize", "--maps", tmp_path / "t" / "maps.npz", "--out", tmp_path / "l",
         "--mask-norm", "frame", "--largest-component", "--importance", "max", "--class", 2,
         "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0 and out.startswith("top-5 classes:")
    rows = (tmp_path / "l" / "boxes.csv").read_text().splitlines()
    assert len(rows) > 1 and all(r.split(",")[2] == "jump" for r in rows[1:])


def test_localize_takes_maps_from_another_model(tmp_path, capsys):
    mask = np.zeros((4, 3, 3), dtype=np.float32)
    mask[1:3, 1, 1] = 0.9  # frames 2 and 3 look at the centre
    imp = np.array([0.1, 0.8, 0.9, 0.1], dtype=np.float32)
    out = AttentionOutput(
        frame_indices=np.array([1, 11, 21, 31]),
        timestamps=np.array([0.0, 1.0, 2.0, 3.0]),
        frame_size=(90, 90),
        mask=mask,
        temporal=np.full((4, 4), 0.25, dtype=np.float32),
        frame_importance=imp,
        scores=np.array([0.9, 0.1], dtype=np.float32),
        class_names=("a", "b"),
        video="theirs",
        fps=10.0,
    )
    save_attention(tmp_path / "m.npz", out)
    code, _, _ = run(["localize", "--maps", tmp_path / "m.npz", "--out", tmp_path / "o"], capsys)
    assert code == 0
    boxes = (tmp_path / "o" / "boxes.csv").read_text().splitlines()[1:]
    # the sampled frames 11 and 21 and, interpolated, every frame between them
    assert [b.split(",")[:3] for b in boxes] == [["theirs", str(f), "a"] for f in range(11, 22)]
    code, _, _ = run(
        ["localize", "--maps", tmp_path / "m.npz", "--out", tmp_path / "p", "--frame-boxes",
         "sampled"],
        capsys,
    )  # fmt: skip
    assert code == 0
    boxes = (tmp_path / "p" / "boxes.csv").read_text().splitlines()[1:]
    assert [b.split(",")[:3] for b in boxes] == [["theirs", "11", "a"], ["theirs", "21", "a"]]
    segs = (tmp_path / "o" / "segments.csv").read_text().splitlines()[1:]
    assert [s.split(",")[:4] for s in segs] == [["theirs", "0.5", "2.5", "a"]]
    assert (tmp_path / "o" / "run.txt").read_text().split()[:4] == ["theirs", "0.5", "2.5", "1"]


def _foreign_checkpoint(path):
    torch.save({"conv.weight": torch.zeros(2, 2)}, path)
    return path


@pytest.mark.parametrize(
    "case",
    ["missing", "not_video", "empty", "no_default_model", "foreign_checkpoint",
     "unwritable_out", "bad_precision", "bad_fps", "bad_stride", "bad_device", "bad_maps"],
)  # fmt: skip
def test_bad_input_gives_one_error_line_and_no_output(
    case, checkpoint, make_video, tmp_path, capsys, monkeypatch
):
    video = make_video(n=6)
    out = tmp_path / "out"
    args = ["spatial-map", "--video", video, "--checkpoint", checkpoint, "--out", out, "--quiet"]
    expect = ""
    if case == "missing":
        args[2], expect = tmp_path / "nope.mp4", "nope.mp4: video not found"
    elif case == "not_video":
        (tmp_path / "t.mp4").write_text("hello")
        args[2], expect = tmp_path / "t.mp4", "not a video"
    elif case == "empty":
        (tmp_path / "e.avi").write_bytes(b"")
        args[2], expect = tmp_path / "e.avi", "empty file"
    elif case == "no_default_model":
        monkeypatch.setattr(E, "DEFAULT_MODEL", "resources/no_such_model.pt")
        args = args[:3] + args[5:]
        expect = "no default model is shipped"
    elif case == "foreign_checkpoint":
        args[4], expect = _foreign_checkpoint(tmp_path / "r.pt"), "not an attnviz checkpoint"
    elif case == "unwritable_out":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "sub"
        args[6], expect = out, "cannot create the output folder"
    elif case == "bad_precision":
        args += ["--precision", "fp8"]
        expect = "precision must be fp32 or bf16"
    elif case == "bad_fps":
        args += ["--fps", "-2"]
        expect = "--fps must be positive"
    elif case == "bad_stride":
        args += ["--fps", "5", "--window", "4", "--stride", "9"]
        expect = "stride"
    elif case == "bad_device":
        args += ["--device", "tpu"]
        expect = "--device must be cpu or cuda"
    elif case == "bad_maps":
        (tmp_path / "m.npz").write_text("nope")
        args = ["localize", "--maps", tmp_path / "m.npz", "--out", out]
        expect = "not a readable .npz"
    code, stdout, err = run(args, capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], err
    assert stdout == ""
    assert not out.exists()


def test_cuda_request_without_cuda_fails_clearly(checkpoint, make_video, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = run(
        ["temporal-map", "--video", make_video(n=4), "--checkpoint", checkpoint,
         "--out", tmp_path / "o", "--device", "cuda"],
        capsys,
    )  # fmt: skip
    assert (
        code != 0 and err.strip() == "error: --device cuda: CUDA is not available on this machine"
    )


def test_truncated_video_warns_on_one_line(checkpoint, make_video, tmp_path, capsys):
    video = make_video(n=30, fourcc="MJPG", name="cut.avi")
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    code, out, err = run(
        ["spatial-map", "--video", video, "--checkpoint", checkpoint, "--out", tmp_path / "o",
         "--frames", 4],
        capsys,
    )  # fmt: skip
    assert code == 0 and out.startswith("top-5")
    warns = [ln for ln in err.splitlines() if "warning:" in ln]
    assert len(warns) == 1 and "cut.avi: decoding stopped after frame" in warns[0]
    code, _, err = run(
        ["spatial-map", "--video", video, "--checkpoint", checkpoint, "--out", tmp_path / "q",
         "--frames", 4, "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0 and err == ""


def test_eval_thumos_on_videos_keeps_no_run_file(tmp_path, capsys, monkeypatch):
    """``eval-thumos --videos`` scores the default model's segments and removes the run file it
    wrote for the evaluator."""
    import tempfile

    from attnviz.data.synthetic import SynthConfig, generate_dataset

    tiny = SynthConfig(width=96, height=72, frames=(20, 24), actor_size=(16, 22),
                       distractor_size=(12, 20), amplitude=(4.0, 8.0))  # fmt: skip
    data = tmp_path / "syn"
    generate_dataset(data, videos=2, seed=5, splits="test=1", config=tiny, quiet=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code, out, err = run(
        ["eval-thumos", "--gt", data / "annotations", "--classes", data / "classes.txt",
         "--videos", data / "videos", "--format", "json", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code in (0, None), err
    result = json.loads(out)
    assert 0.0 <= result["mAP"][0] <= 1.0
    assert list(scratch.iterdir()) == []
