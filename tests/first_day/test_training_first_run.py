"""Issue 22, point 8: the shipped tiny recipe trains in seconds, keeps last/best only by default
(``--save-every N`` for more), prints no PyTorch warning, prints the best epoch with --quiet,
refuses to train over an earlier run; a missing-weights error names the flags."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from attnviz.pipeline.train import _SECTIONS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # about 15 s of CPU (synthetic videos, feature cache, two trainings)
def test_tiny_recipe_runs_and_keeps_last_and_best(cli, tmp_path, monkeypatch):
    (tmp_path / "recipes").mkdir()
    shutil.copy(REPO / "recipes" / "tiny.json", tmp_path / "recipes")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the UserWarning of float() on a grad tensor, e.g.
        code, out, err = cli("train", "--recipe", "recipes/tiny.json")
    assert code == 0, err
    assert "Warning" not in err
    run = tmp_path / "runs" / "tiny" / "run"
    assert sorted(p.name for p in run.glob("*.pt")) == ["best.pt", "last.pt"]
    # a second plain run into the same folder is refused; --resume and --overwrite are not
    code, _, err = cli("train", "--recipe", "recipes/tiny.json", "--quiet")
    assert code == 2 and "--resume" in err and "--overwrite" in err
    code, out, err = cli("train", "--recipe", "recipes/tiny.json", "--quiet", "--overwrite",
                         "--save-every", "1", "--epochs", "1")  # fmt: skip
    assert code == 0, err
    assert "best epoch 1: " in err + out  # the result, even with --quiet
    assert sorted(p.name for p in run.glob("*.pt")) == ["best.pt", "epoch_001.pt", "last.pt"]


def test_recipe_keys_are_documented():
    readme = (REPO / "README.md").read_text()
    recipe = json.loads((REPO / "recipes" / "tiny.json").read_text())
    assert "recipes/tiny.json" in readme
    for key in _SECTIONS:
        assert f"`{key}`" in readme, key
    assert set(recipe) <= set(_SECTIONS)


def test_missing_imagenet_weights_names_the_flags(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))
    (tmp_path / "l.csv").write_text("video,label\nv.mp4,a\nw.mp4,b\n")
    for name in ("v.mp4", "w.mp4"):
        (tmp_path / name).write_bytes(b"")
    code, _, err = cli("train", "--data", tmp_path / "l.csv", "--root", tmp_path,
                       "--backbone", "resnet50", "--out", tmp_path / "run")  # fmt: skip
    assert code == 2 and "--random-init" in err and "--weights" in err
