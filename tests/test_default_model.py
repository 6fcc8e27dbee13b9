"""The README's first command: the embedded default model explains the shipped demo clip."""

from __future__ import annotations

import csv
from pathlib import Path

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
