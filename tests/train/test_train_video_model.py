"""``attnviz train`` with a ``video_model`` recipe: torchvision's r3d_18 from random init on
synthetic videos, its weights then explained with ``--model r3d_18 --weights FILE``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import torch

from attnviz.cli import main
from attnviz.data.synthetic import DEFAULT_CLASSES

REPO = Path(__file__).resolve().parents[2]
TINY_SYNTH = {"width": 64, "height": 64, "frames": [10, 12], "actor_size": [16, 22],
              "distractor_size": [12, 20], "amplitude": [4.0, 8.0]}  # fmt: skip


def _run(args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_video_model_recipe_trains_r3d_18_and_its_file_explains(tmp_path, capsys):
    from attnviz.models.video_model import load_video_model, read_video_weights

    recipe = {
        "name": "r3d18-tiny",
        "synthetic": {
            "out": str(tmp_path / "synth"),
            "videos": 4,
            "seed": 1,
            "splits": "train=0.5,val=0.5",
            "config": TINY_SYNTH,
        },  # fmt: skip
        "video_model": {"arch": "r3d_18", "frames": 4, "init_seed": 0},
        "train": {"epochs": 1, "batch_size": 2, "lr": 1e-3, "max_steps": 1},
        "out": str(tmp_path / "run"),
        "export": {"path": str(tmp_path / "r3d.pth")},
    }
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    assert _run(["train", "--recipe", path, "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "best epoch 1" in err and "exported" in err
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert len(rows) == 1 and {"train_loss", "val_top1", "seconds", "cpu_seconds"} <= set(rows[0])
    state, names = read_video_weights(tmp_path / "r3d.pth")
    classes = tuple(c.name for c in DEFAULT_CLASSES)
    assert state["fc.weight"].shape == (len(classes), 512)
    vm = load_video_model("r3d_18", weights=tmp_path / "r3d.pth", clip_len=4)
    assert vm.class_names == classes == names
    assert vm.weights == str(tmp_path / "r3d.pth")
    trained = torch.load(tmp_path / "run" / "best.pth", weights_only=True)["state_dict"]
    assert all(torch.equal(v, vm.module.state_dict()[k]) for k, v in trained.items())
    # a rerun into the same folder is refused, as for the paper model's runs
    assert _run(["train", "--recipe", path, "--quiet"]) != 0
    assert "--overwrite" in capsys.readouterr().err


def test_video_model_recipe_errors(tmp_path, capsys):
    base = {"data": {"train": str(tmp_path / "none.csv")}, "out": str(tmp_path / "o")}
    for section, message in (
        ({"arch": "resnet50"}, "arch must be one of r3d_18"),
        ({"arch": "r3d_18", "size": 64}, 'unknown key "size"'),
    ):
        (tmp_path / "none.csv").write_text("video,label\nv0,A\n")
        (tmp_path / "v0.avi").write_bytes(b"")
        path = tmp_path / "r.json"
        path.write_text(
            json.dumps(
                {**base, "video_model": section, "data": {**base["data"], "root": str(tmp_path)}}
            )
        )
        assert _run(["train", "--recipe", path, "--quiet", "--overwrite"]) != 0
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_shipped_recipe_is_valid():
    from attnviz.pipeline.train import load_recipe

    recipe = load_recipe(REPO / "recipes" / "r3d18_synth.json")
    assert recipe["video_model"]["arch"] == "r3d_18" and recipe["video_model"]["frames"] == 16
    assert 160 <= recipe["synthetic"]["videos"] <= 240
