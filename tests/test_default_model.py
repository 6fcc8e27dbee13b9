"""The README's first command: the embedded default model explains the shipped demo clip."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from attnviz.cli import main

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "attnviz" / "resources" / "default_model.pt"
DEMO = ROOT / "assets" / "demo.mp4"


def test_default_model_loads_with_its_class_names():
    from attnviz.models import load_checkpoint

    model, info = load_checkpoint(MODEL)
    assert len(info["class_names"]) == 8
    assert model.backbone is not None  # explains raw videos, not only cached features


def test_spatial_map_on_the_demo_uses_the_default_model(tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["spatial-map", "--video", str(DEMO), "--out", str(out), "--quiet"])
    assert exc.value.code in (0, None)
    for name in ("overlay.mp4", "strip.png", "boxes.csv", "tubes.json", "maps.npz"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    printed = capsys.readouterr().out
    assert "top-5" in printed
    with open(out / "boxes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(float(r["x2"]) > float(r["x1"]) for r in rows)


def _check_finds_the_demo_action(tmp_path, checkpoint_args=()):
    """The model's boxes on the demo clip fall on the actor, in the action's frames: the ground
    truth is regenerated from the demo's seed (video 0 of
    ``attnviz synth --videos 4 --seed 424242 --splits test=1``)."""
    import json

    from attnviz.data.synthetic import generate_dataset
    from attnviz.ops.boxes import box_iou

    generate_dataset(tmp_path / "synth", videos=4, seed=424242, splits="test=1", quiet=True)
    gt = json.loads((tmp_path / "synth" / "gt_tubes.json").read_text())
    key = "synth424242_00000"
    ((label_index, (tube,)),) = gt["gttubes"][key].items()
    label = gt["labels"][int(label_index)]
    gt_box = {int(r[0]): r[1:] for r in tube}
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        main(["spatial-map", "--video", str(DEMO), "--out", str(out), "--quiet", *checkpoint_args])
    with open(out / "boxes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 4 and {r["class"] for r in rows} == {label}
    assert all(int(r["frame"]) in gt_box for r in rows)  # only while the action lasts
    pred = [[float(r[k]) for k in ("x1", "y1", "x2", "y2")] for r in rows]
    ious = [
        float(box_iou(np.array([p]), np.array([gt_box[int(r["frame"])]]))[0, 0])
        for p, r in zip(pred, rows, strict=True)
    ]
    assert min(ious) > 0.2 and sum(ious) / len(ious) > 0.3, ious


def test_default_model_finds_the_demo_action(tmp_path):
    _check_finds_the_demo_action(tmp_path)


@pytest.mark.slow
def test_the_recipe_rebuilds_a_model_that_finds_the_demo_action(tmp_path):
    """``attnviz train --recipe recipes/default_model.json`` end to end (about 15 minutes on 2
    cores), into a temporary folder: the rebuilt model validates like the shipped one and finds
    the demo action. On the machine that built the shipped model the weights were identical; on
    other CPUs floating-point kernels may differ, so the behaviour is what is checked."""
    import torch

    from attnviz.pipeline.train import load_recipe, run_recipe

    recipe = load_recipe(ROOT / "recipes" / "default_model.json")
    recipe["synthetic"]["out"] = str(tmp_path / "synth")
    recipe["features"]["cache"] = str(tmp_path / "cache")
    recipe["out"] = str(tmp_path / "run")
    recipe["export"]["path"] = str(tmp_path / "model.pt")
    summary = run_recipe(recipe, quiet=True)
    assert summary["export"] == str(tmp_path / "model.pt")
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert payload["extra"]["metrics"]["val_top1"] >= 0.9
    assert (tmp_path / "model.pt").stat().st_size < 4_000_000  # a few MB, float16
    _check_finds_the_demo_action(tmp_path / "demo", ("--checkpoint", str(tmp_path / "model.pt")))
