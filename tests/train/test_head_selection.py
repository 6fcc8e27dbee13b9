"""The recipe's ``select`` stage (several heads on one backbone, the one whose masks stand out on
every class kept) and its ``localize`` section (the threshold the model is built for)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from attnviz.errors import AttnvizError
from attnviz.pipeline.train import class_peak_score, load_recipe, recipe_configs, run_recipe

ROOT = Path(__file__).resolve().parents[2]


class _Masks(torch.nn.Module):
    """A stand-in model whose mask peak and temporal weights are set per video (by x[:, 0, 0])."""

    class_names = ("a", "b")

    def __init__(self, peaks: dict[int, list[float]], weights: list[float]) -> None:
        super().__init__()
        self.peaks, self.weights = peaks, weights

    def forward(self, x):
        b, t = x.shape[:2]
        mask = torch.zeros(b, t, 3, 3)
        for j in range(b):
            mask[j, :, 1, 1] = torch.tensor(self.peaks[int(x[j, 0, 0, 0, 0])])
        w = torch.tensor(self.weights).expand(b, t, t)
        return SimpleNamespace(mask=mask, temporal=w)


def test_class_peak_score_is_the_lowest_class_median_of_attended_peaks():
    # 4 frames; the temporal attention picks frames 1 and 2 (importance 0, 1, 1, 0 after
    # min-max): a video's value is the mean of its mask peaks on those frames
    peaks = {0: [0.0, 0.9, 0.7, 0.0], 1: [1.0, 0.6, 0.4, 1.0], 2: [0.0, 0.2, 0.2, 0.0]}
    weights = [0.1, 0.4, 0.4, 0.1]
    videos = [(0, 0), (0, 0), (1, 0), (2, 1)]  # (peak pattern, label)
    ds = [(torch.full((4, 1, 3, 3), float(p)), y, i) for i, (p, y) in enumerate(videos)]
    score, per_class = class_peak_score(_Masks(peaks, weights), ds, batch_size=3)
    assert per_class["a"] == pytest.approx(0.8)  # median of 0.8, 0.8, 0.5
    assert per_class["b"] == pytest.approx(0.2)
    assert score == pytest.approx(0.2)


def _tiny(tmp_path: Path, **sections) -> dict:
    recipe = load_recipe(ROOT / "recipes" / "tiny.json")
    recipe["synthetic"]["out"] = str(tmp_path / "synth")
    recipe["features"]["cache"] = str(tmp_path / "cache")
    recipe["out"] = str(tmp_path / "run")
    recipe["export"] = {"path": str(tmp_path / "model.pt"), "half": False}
    recipe.update(sections)
    return recipe


def test_select_trains_the_candidates_and_keeps_the_best_scored(tmp_path):
    from attnviz.models import load_checkpoint

    plain = run_recipe(_tiny(tmp_path / "plain"), quiet=True)
    shutil.copytree(tmp_path / "plain" / "synth", tmp_path / "sel" / "synth")
    summary = run_recipe(
        _tiny(tmp_path / "sel", select={"heads": 3}, localize={"threshold": 0.3}), quiet=True
    )
    run = tmp_path / "sel" / "run"
    report = json.loads((run / "select.json").read_text())
    scores = [c["score"] for c in report["candidates"]]
    assert [c["init_seed"] for c in report["candidates"]] == [0, 10, 20]
    assert [c["train_seed"] for c in report["candidates"]] == [0, 10, 20]
    assert report["chosen"] == int(np.argmax(scores)) == summary["select"]["chosen"]
    chosen = run / f"head{report['chosen']}"
    assert (run / "best.pt").read_bytes() == (chosen / "best.pt").read_bytes()
    # candidate 0 is the run without select, weight for weight
    a = load_checkpoint(tmp_path / "plain" / "run" / "best.pt")[0].state_dict()
    b = load_checkpoint(run / "head0" / "best.pt")[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # the candidates differ, and each score is what class_peak_score gives on the val split
    c = load_checkpoint(run / "head1" / "best.pt")[0].state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)
    # the exported model carries the threshold; the plain one the paper's
    model, info = load_checkpoint(summary["export"])
    assert model.localize_threshold == 0.3 and info["extra"]["meta"]["head"] == report["chosen"]
    assert load_checkpoint(plain["export"])[0].localize_threshold is None


@pytest.mark.parametrize(
    "sections,match",
    [
        ({"select": {"heads": 0}}, "select: heads"),
        ({"select": {"heads": 2, "by": "val_loss"}}, "select: by"),
        ({"select": {"head": 2}}, "recipe section select"),
        ({"localize": {"threshold": 1.5}}, "localize: threshold"),
        ({"localize": {"thresh": 0.3}}, "recipe section localize"),
    ],
)
def test_bad_select_and_localize_sections_fail_before_any_work(tmp_path, sections, match):
    recipe = _tiny(tmp_path, **sections)
    with pytest.raises(AttnvizError, match=match):
        recipe_configs(recipe)
    with pytest.raises(AttnvizError, match=match):
        run_recipe(recipe, quiet=True)
    assert not (tmp_path / "synth").exists()


def test_select_needs_a_validation_split(tmp_path):
    recipe = _tiny(tmp_path, select={"heads": 2})
    recipe["data"] = {"val": ""}  # no validation list
    with pytest.raises(AttnvizError, match="validation split"):
        run_recipe(recipe, quiet=True)
