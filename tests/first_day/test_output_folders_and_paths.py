"""Issue 22, points 2 and 10: one rule for output folders (never mix two runs' outputs), and
one rule for a folder given where a file is expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attnviz.errors import AttnvizError
from attnviz.io.maps import save_attention
from attnviz.types import AttentionOutput

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _maps(path, video="a"):
    out = AttentionOutput(
        frame_indices=np.array([1, 11, 21, 31]),
        timestamps=np.array([0.0, 1.0, 2.0, 3.0]),
        frame_size=(90, 90),
        mask=np.full((4, 3, 3), 0.9, dtype=np.float32),
        temporal=np.full((4, 4), 0.25, dtype=np.float32),
        frame_importance=np.array([0.1, 0.8, 0.9, 0.1], dtype=np.float32),
        scores=np.array([0.9, 0.1], dtype=np.float32),
        class_names=("x", "y"),
        video=video,
        fps=10.0,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    save_attention(path, out)
    return path


def test_a_folder_holding_another_runs_outputs_is_refused(cli, tmp_path):  # point 2
    a, b = _maps(tmp_path / "a" / "m.npz", "a"), _maps(tmp_path / "b" / "m.npz", "b")
    out = tmp_path / "out"
    assert cli("localize", "--maps", a, "--out", out, "--quiet")[0] == 0
    assert cli("localize", "--maps", a, "--out", out, "--quiet")[0] == 0  # a rerun: fine
    before = (out / "run.txt").read_text()
    code, _, err = cli("localize", "--maps", b, "--out", out, "--quiet")
    assert code == 2 and "attnviz localize" in err and "--overwrite" in err
    assert (out / "run.txt").read_text() == before  # untouched
    code, _, err = cli("localize", "--maps", b, "--out", out, "--quiet", "--overwrite")
    assert code == 0, err
    assert (out / "run.txt").read_text().startswith("b ")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    code, _, err = cli("localize", "--maps", b, "--out", tmp_path / "mine", "--quiet")
    assert code == 2 and "did not write" in err


def test_another_command_on_the_same_folder_is_refused(cli, tmp_path):  # point 2
    a = _maps(tmp_path / "a" / "m.npz", "a")
    out = tmp_path / "out"
    assert cli("localize", "--maps", a, "--out", out, "--quiet")[0] == 0
    code, _, err = cli("figures", "--maps", a, "--out", out, "--quiet", "--format", "png",
                       "--examples", "0")  # fmt: skip
    assert code == 2 and "holds the outputs of `attnviz localize`" in err


def test_a_folder_stands_for_its_one_obvious_file(cli, tmp_path):  # point 10
    from attnviz.io.maps import load_attention

    m = _maps(tmp_path / "run" / "maps.npz")
    assert load_attention(tmp_path / "run").video == "a"
    assert cli("localize", "--maps", tmp_path / "run", "--out", tmp_path / "o", "--quiet")[0] == 0
    (tmp_path / "two").mkdir()
    for n in ("p.npz", "q.npz"):
        (tmp_path / "two" / n).write_bytes(m.read_bytes())
    with pytest.raises(
        AttnvizError, match=r"is a folder without one obvious maps file.*2 candidates"
    ):
        load_attention(tmp_path / "two")
    with pytest.raises(AttnvizError, match="not found"):
        load_attention(tmp_path / "nothing")


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data (real annotations)")
def test_checkpoint_gt_and_list_folders(tmp_path):  # point 10
    import shutil

    import torch

    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.io.splits import read_video_list
    from attnviz.models import build_recognizer, load_checkpoint, save_checkpoint

    torch.manual_seed(0)
    model = build_recognizer("resnet18", 2, random_init=True, input_size=32, backbone_stage=1,
                             hidden_channels=4, spatial_widths=(4, 2), energy_dim=4)  # fmt: skip
    save_checkpoint(tmp_path / "runs" / "x" / "best.pt", model, epoch=1)
    save_checkpoint(tmp_path / "runs" / "x" / "last.pt", model, epoch=3)
    _, info = load_checkpoint(tmp_path / "runs" / "x")
    assert info["epoch"] == 1  # best.pt, not last.pt
    gt_dir = tmp_path / "ucf101_24"
    gt_dir.mkdir()
    shutil.copy(SHARED / "ucf101_24" / "pyannot.pkl", gt_dir)
    assert len(read_spatial_gt(gt_dir).videos) > 0
    (tmp_path / "syn").mkdir()
    (tmp_path / "syn" / "test.csv").write_text("video,label\nv1,a\n")
    (tmp_path / "syn" / "v1.mp4").write_bytes(b"")
    vl = read_video_list(tmp_path / "syn", subset="test", root=tmp_path / "syn")
    assert len(vl) == 1
