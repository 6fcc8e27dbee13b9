"""The training engine: checkpoints with their configuration each epoch, CSV log of every loss
term and accuracy, exact resume, and the validation split that is never the test split."""

from __future__ import annotations

import csv

import pytest
import torch
from attnviz_train_fixtures import RandomFeatures, tiny_model

from attnviz.engine import TrainConfig, check_validation_split, fit
from attnviz.errors import AttnvizError
from attnviz.models import load_checkpoint

CFG = TrainConfig(epochs=2, batch_size=4, lr=3e-3, seed=3)


def _states_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


def test_fit_writes_checkpoints_and_log(tmp_path):
    model = tiny_model()
    summary = fit(
        model,
        RandomFeatures(),
        RandomFeatures(12, seed=1),
        tmp_path,
        CFG,
        quiet=True,
        meta={"data": "random"},
    )
    for name in ("epoch_001.pt", "epoch_002.pt", "last.pt", "best.pt", "log.csv"):
        assert (tmp_path / name).is_file(), name
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    for split in ("train", "val"):
        for term in ("loss", "ce", "tv", "contrast", "unimodal", "top1"):
            assert f"{split}_{term}" in rows[0], f"{split}_{term}"
    # top-5 is only defined with 5 classes or more: 3 classes give top-3
    assert "val_top3" in rows[0] and "val_top5" not in rows[0]
    loaded, info = load_checkpoint(tmp_path / "epoch_002.pt")
    assert info["epoch"] == 1 and info["config"]["hidden_channels"] == 8
    assert info["extra"]["train_config"]["lr"] == 3e-3
    assert info["extra"]["meta"] == {"data": "random"}
    assert info["optimizer"] is not None
    assert _states_equal(loaded, model)
    assert summary["best_epoch"] in (1, 2)
    # the loss is logged as the weighted sum of its terms (eq. 6)
    r = {k: float(v) for k, v in rows[0].items()}
    total = r["val_ce"] + 1e-5 * r["val_tv"] + 1e-4 * r["val_contrast"] + r["val_unimodal"]
    assert r["val_loss"] == pytest.approx(total, rel=1e-5)


def test_training_learns_the_planted_signal(tmp_path):
    model = tiny_model()
    fit(
        model,
        RandomFeatures(48),
        None,
        tmp_path,
        TrainConfig(epochs=8, batch_size=8, lr=1e-2, seed=0),
        quiet=True,
    )
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert float(rows[-1]["train_ce"]) < float(rows[0]["train_ce"])
    assert float(rows[-1]["train_top1"]) > 0.6


def test_resume_continues_exactly(tmp_path):
    straight = tiny_model()
    fit(straight, RandomFeatures(), None, tmp_path / "a", CFG, quiet=True)
    first = tiny_model()
    fit(
        first,
        RandomFeatures(),
        None,
        tmp_path / "b",
        TrainConfig(**{**CFG.__dict__, "epochs": 1}),
        quiet=True,
    )
    resumed = tiny_model(seed=99)  # other initial weights: all must come from the checkpoint
    summary = fit(
        resumed,
        RandomFeatures(),
        None,
        tmp_path / "b",
        CFG,
        quiet=True,
        resume=tmp_path / "b" / "epoch_001.pt",
    )
    assert _states_equal(straight, resumed)
    rows = list(csv.DictReader(open(tmp_path / "b" / "log.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and len(summary["history"]) == 2
    with pytest.raises(AttnvizError, match="different model"):
        fit(
            tiny_model(classes=4),
            RandomFeatures(classes=4),
            None,
            tmp_path / "c",
            CFG,
            quiet=True,
            resume=tmp_path / "b" / "epoch_001.pt",
        )


def test_frozen_backbone_keeps_its_weights(tmp_path):
    from attnviz.models import build_recognizer

    torch.manual_seed(0)
    model = build_recognizer(
        "resnet18",
        3,
        weights=None,
        random_init=True,
        backbone_stage=1,
        hidden_channels=8,
        kernel=1,
        spatial_widths=(8, 4),
        energy_dim=8,
    )
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    fit(
        model,
        RandomFeatures(8),
        None,
        tmp_path,
        TrainConfig(epochs=1, batch_size=4, freeze_backbone=True),
        quiet=True,
    )
    after = model.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics included


def test_validation_split_is_never_the_test_split():
    check_validation_split(["a", "b"], ["c"], test_keys=["d"], val_source="val.csv")
    for source in ("testlist01.txt", "brush_hair_test_split1.txt", "data/test.csv"):
        with pytest.raises(AttnvizError, match="test split"):
            check_validation_split(["a"], ["c"], val_source=source)
    with pytest.raises(AttnvizError, match="test split"):
        check_validation_split(["a"], ["c"], val_subset="test")
    with pytest.raises(AttnvizError, match="share 1 videos"):
        check_validation_split(["a"], ["c", "d"], test_keys=["d"], val_source="val.csv")
    with pytest.raises(AttnvizError, match="training and validation"):
        check_validation_split(["a", "c"], ["c"], val_source="val.csv")


def test_config_is_checked():
    with pytest.raises(AttnvizError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(AttnvizError, match="precision"):
        TrainConfig(precision="fp16")
    assert (TrainConfig().lr, TrainConfig().weight_decay) == (1e-4, 1e-4)  # the paper's Adam
