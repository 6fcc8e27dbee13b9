"""``compare-explanations --model``: a video classifier's methods in the one table, next to the
paper model's attention, scored by the one scoring path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from attnviz.cli import main

CLASSES = ("Red", "Blue")  # the classes of conftest.write_dataset


class Tiny3D(nn.Module):
    """A 3D CNN small enough for the default test run: ``[B, 3, T, 112, 112]`` -> 2 logits
    (classes ``Red`` and ``Blue``), target layer ``body`` (``[B, 4, T/2, 14, 14]``)."""

    class_names = CLASSES

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv3d(3, 4, 3, stride=(2, 8, 8), padding=1), nn.ReLU())
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.body(x).mean(dim=(2, 3, 4)))


def tiny3d() -> nn.Module:
    torch.manual_seed(0)
    return Tiny3D()


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


FAST = ["--max-videos", 2, "--spatial-steps", 2, "--temporal-steps", 2, "--random-orders", 1,
        "--quiet"]  # fmt: skip


def test_video_model_methods_beside_the_attention(dataset, checkpoint, tmp_path, capsys):
    out_dir = tmp_path / "o"
    code, out, err = run(
        ["compare-explanations", "--data", dataset, "--checkpoint", checkpoint, "--out", out_dir,
         "--model", f"{__name__}:tiny3d", "--target-layer", "body",
         "--methods", "attention,gradcam,occlusion,ig", "--sanity-videos", 1, *FAST],
        capsys,
    )  # fmt: skip
    assert code in (0, None), err
    assert err == ""
    for row in ("attention", "gradcam", "occlusion", "ig", "random order",
                "random order (paper model)"):  # fmt: skip
        assert f"| {row} |" in out
    assert "top-1 accuracy" in out and "2 videos" in out
    assert (out_dir / "table.md").read_text().strip() == out.strip()
    summary = json.loads((out_dir / "summary.json").read_text())
    table = summary["table"]
    assert summary["info"]["checkpoint"].startswith(f"{__name__}:tiny3d (weights none)")
    for m in ("gradcam", "occlusion", "ig"):
        # the tiny model's own accuracy on 2 videos, the same for each of its methods
        assert table[m]["top1"] == table["gradcam"]["top1"] in (0.0, 0.5, 1.0)
        assert 0 <= table[m]["deletion_frames"] <= 1 and 0 <= table[m]["insertion_cells"] <= 1
        assert table[m]["rho_mask_all"] is not None or table[m]["rho_importance_all"] is not None
    # the two models' random orders are each model's own
    assert (
        table["random order"]["deletion_frames"]
        != table["random order (paper model)"]["deletion_frames"]
    )
    # every method is scored on the same sampled frames (the page's method switch needs it)
    assert (out_dir / "videos" / "vid0" / "index.html").is_file()
    import csv

    sanity = list(csv.DictReader((out_dir / "sanity.csv").open()))
    assert {r["stage"] for r in sanity if r["method"] == "gradcam"} == {"classifier", "all"}


def test_scores_are_the_scoring_paths(dataset, checkpoint, tmp_path):
    """The table's temporal mAP is what :func:`attnviz.pipeline.scoring.score_maps` gives on
    the saved maps (one scoring path)."""
    from attnviz.io.maps import load_attention
    from attnviz.pipeline.compare import PROTOCOLS, compare_explanations, load_compare_data
    from attnviz.pipeline.scoring import score_maps

    out_dir = tmp_path / "s"
    res = compare_explanations(
        dataset, out_dir, checkpoint=checkpoint, methods=["gradcam"], max_videos=2,
        spatial_steps=1, temporal_steps=1, random_orders=1, sanity_videos=0, quiet=True,
        html=False, save_maps=True, model=f"{__name__}:tiny3d", target_layer="body",
    )  # fmt: skip
    outs = [load_attention(p) for p in sorted((out_dir / "maps" / "gradcam").glob("*.npz"))]
    assert len(outs) == 2 and outs[0].mask.shape[0] == 16  # the model's clip length
    data = load_compare_data(dataset, max_videos=2)
    ref = score_maps(outs, data.temporal, None, PROTOCOLS)["temporal"]
    i = [round(t, 6) for t in ref.thresholds].index(0.3)
    present = np.asarray(ref.ap)[:, i][[n in {"Red", "Blue"} for n in ref.class_names]]
    assert res["table"]["gradcam"]["temporal_mAP@0.3"] == pytest.approx(present.mean())


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--methods", "attention,lime"], "unknown explanation method 'lime' for a video model"),
        (["--methods", "attention"], "give at least one of gradcam"),
        (["--baseline", "zero"], "blurred copies"),
        (["--precision", "fp16"], "precision must be fp32 or bf16"),
    ],
)
def test_bad_video_model_options(dataset, checkpoint, tmp_path, capsys, extra, message):
    out_dir = tmp_path / "bad"
    code, _, err = run(
        ["compare-explanations", "--data", dataset, "--checkpoint", checkpoint, "--out", out_dir,
         "--model", f"{__name__}:tiny3d", "--target-layer", "body", "--quiet", *extra],
        capsys,
    )  # fmt: skip
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not out_dir.exists()


def test_model_options_need_model(dataset, checkpoint, tmp_path, capsys):
    code, _, err = run(
        ["compare-explanations", "--data", dataset, "--checkpoint", checkpoint, "--out",
         tmp_path / "x", "--weights", "none", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code != 0 and "go with --model" in err


@pytest.mark.slow
def test_r3d_18_random_weights_get_the_data_classes(dataset, checkpoint, tmp_path, capsys):
    """``--weights none``: a random r3d_18 with the data's classes, compared end to end."""
    out_dir = tmp_path / "r3d"
    code, out, err = run(
        ["compare-explanations", "--data", dataset, "--checkpoint", checkpoint, "--out", out_dir,
         "--model", "r3d_18", "--weights", "none", "--methods", "attention,gradcam,gradcam++",
         "--sanity-videos", 1, *FAST],
        capsys,
    )  # fmt: skip
    assert code in (0, None), err
    assert "| gradcam |" in out and "| gradcam++ |" in out and "| attention |" in out
    table = json.loads((out_dir / "summary.json").read_text())["table"]
    assert table["gradcam"]["frame_mAP@0.3"] is not None  # scored against the data's classes
    assert "r3d_18 (weights none)" in out
