"""The levers the recipe experiments of issues 15 and 21 pull: each off by default (the paper's
model and the earlier recipes unchanged), each doing what it says when on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from attnviz.engine import BackboneConfig, TrainConfig, _MilHead, epoch_lr
from attnviz.errors import AttnvizError
from attnviz.models import build_recognizer, load_checkpoint, save_checkpoint
from attnviz.models.backbone import feature_grid_offset
from attnviz.models.losses import area_loss, attention_loss


def test_cosine_schedule_by_epoch_and_constant_by_default():
    c = TrainConfig(epochs=4, lr=1e-2, lr_schedule="cosine")
    assert [epoch_lr(c, e) for e in range(4)] == pytest.approx(
        [1e-2 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]
    )
    assert epoch_lr(TrainConfig(epochs=4, lr=1e-2), 3) == 1e-2
    with pytest.raises(AttnvizError, match="lr_schedule"):
        TrainConfig(lr_schedule="step")


def test_area_term_is_off_by_default_and_adds_its_weight_when_on():
    torch.manual_seed(0)

    class Out:
        logits = torch.randn(2, 3)
        mask = torch.rand(2, 4, 5, 5)
        temporal = torch.softmax(torch.randn(2, 4, 4), dim=-1)

    y = torch.tensor([0, 2])
    plain = attention_loss(Out, y)
    on = attention_loss(Out, y, lambda_area=1e-3)
    assert float(plain.area) == pytest.approx(float(Out.mask.sum(dim=(1, 2, 3)).mean()))
    assert float(area_loss(Out.mask)) == pytest.approx(float(plain.area))
    assert float(on.total - plain.total) == pytest.approx(1e-3 * float(plain.area), rel=1e-5)
    with pytest.raises(AttnvizError, match="lambda_area"):
        attention_loss(Out, y, lambda_area=-1.0)


@pytest.mark.parametrize("pool", ["max", "avg_max", "avg"])
def test_backbone_mil_pooling(pool):
    torch.manual_seed(0)
    trunk = torch.nn.Conv2d(3, 4, 3, padding=1)
    head = _MilHead(trunk, 4, 5, pool=pool)
    clips = torch.randn(2, 3, 3, 8, 8)  # [B, k, 3, S, S]
    got = head(clips)
    maps = head.cls(trunk(clips.flatten(0, 1))).unflatten(0, (2, 3))  # [B, k, K, h, w]
    want = {
        "max": maps.amax(dim=(1, 3, 4)),
        "avg_max": maps.mean(dim=(3, 4)).amax(dim=1),
        "avg": maps.mean(dim=(1, 3, 4)),
    }[pool]
    assert got.shape == (2, 5)
    assert torch.allclose(got, want)
    with pytest.raises(AttnvizError, match="pool"):
        BackboneConfig(pool="median")
    with pytest.raises(AttnvizError, match="input_size"):
        BackboneConfig(input_size=8)


def test_spatial_kernels_are_stored_and_rebuilt(tmp_path):
    m = build_recognizer(
        "resnet18",
        3,
        random_init=True,
        input_size=64,
        backbone_stage=2,
        hidden_channels=4,
        spatial_widths=(4, 4),
        spatial_kernels=(1, 1, 1),
    )
    convs = [c for c in m.spatial.body if isinstance(c, torch.nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(1, 1)] * 3
    assert m.config["spatial_kernels"] == [1, 1, 1]
    save_checkpoint(tmp_path / "m.pt", m)
    back, _ = load_checkpoint(tmp_path / "m.pt")
    assert [c.kernel_size for c in back.spatial.body if isinstance(c, torch.nn.Conv2d)] == [
        (1, 1)
    ] * 3
    # the paper's 3x3 convolutions leave the config as it was (older checkpoints stay valid)
    paper = build_recognizer("resnet18", 3, random_init=True, backbone_stage=2, hidden_channels=4)
    assert "spatial_kernels" not in paper.config
    assert (
        paper.grid_offset
        == (feature_grid_offset(2), feature_grid_offset(2))
        == (
            -0.4375,
            -0.4375,
        )
    )
    with pytest.raises(AttnvizError, match="spatial_kernels"):
        build_recognizer("resnet18", 3, random_init=True, spatial_kernels=(2, 1, 1))


def test_backbone_fine_tuning_starts_again_when_it_does_not_take_off(tmp_path, monkeypatch):
    """A run whose training top-1 stays below min_top1 is started again from new random
    weights and another clip order; one that takes off is kept."""
    import attnviz.engine as engine
    from attnviz.io.splits import VideoItem, VideoList
    from attnviz.pipeline import train as ptrain

    calls = []

    def fake_finetune(model, clips, out, conf, **kw):
        calls.append((conf.seed, model.backbone[0].weight.detach().clone()))
        (out / "backbone_log.csv").write_text(f"attempt {len(calls)}\n")
        return {"history": [{"top1": 0.3 if len(calls) == 1 else 0.9}]}

    monkeypatch.setattr(engine, "finetune_backbone", fake_finetune)
    recipe = {
        "backbone": {"epochs": 1, "seed": 5, "min_top1": 0.8, "retries": 2},
        "model": {"backbone": "resnet18", "random_init": True, "init_seed": 3,
                  "backbone_stage": 1, "input_size": 32},
        "out": str(tmp_path),
    }  # fmt: skip
    videos = VideoList((VideoItem("a", tmp_path / "a.mp4", 0),), ("c0", "c1"), source="x")
    model = ptrain._build_model(recipe["model"], videos.class_names)
    ptrain._finetune(recipe, model, videos, engine.DistInfo(), quiet=True)
    assert [c[0] for c in calls] == [5, 1005]
    assert not torch.equal(calls[0][1], calls[1][1])  # new random weights
    assert (tmp_path / "backbone_log_attempt1.csv").read_text() == "attempt 1\n"
    assert (tmp_path / "backbone_log.csv").read_text() == "attempt 2\n"
    assert (tmp_path / "backbone.pt").is_file()


def test_zero_init_residual_starts_every_block_as_the_identity():
    from attnviz.engine import zero_init_residual

    assert BackboneConfig().zero_init_residual is False
    m = build_recognizer("resnet18", 3, weights=None, random_init=True, backbone_stage=2)
    trunk = m.backbone.eval()  # conv1, bn1, relu, maxpool, layer1, layer2
    blocks = [b for layer in (trunk[4], trunk[5]) for b in layer]
    x = torch.randn(1, 64, 16, 16)
    assert not torch.allclose(blocks[1](x), torch.relu(x))
    assert zero_init_residual(trunk) == 4  # layer1 and layer2, two BasicBlocks each
    assert all(float(b.bn2.weight.abs().sum()) == 0 for b in blocks)
    assert torch.allclose(blocks[1](x), torch.relu(x))  # no downsample: the block is relu(x)


RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.parametrize("name", sorted(p.name for p in RECIPES.glob("*.json")))
def test_every_recipe_in_the_repository_is_valid(name):
    """Every file of ``recipes/`` reads and its train and backbone sections build their configs,
    as ``attnviz train`` checks them before any work."""
    from attnviz.pipeline.train import load_recipe, recipe_configs

    recipe = load_recipe(RECIPES / name)
    tconf, bconf = recipe_configs(recipe)
    assert isinstance(tconf, TrainConfig)
    assert (bconf is not None) == bool(recipe.get("backbone")), name
    assert recipe.get("out"), name


def test_a_misspelt_backbone_key_fails_before_any_work(tmp_path):
    from attnviz.pipeline.train import run_recipe

    recipe = {
        "synthetic": {"out": str(tmp_path / "synth"), "videos": 4, "seed": 1},
        "backbone": {"epoch": 2},
        "out": str(tmp_path / "run"),
    }
    with pytest.raises(AttnvizError, match="recipe section backbone"):
        run_recipe(recipe, quiet=True)
    assert not (tmp_path / "synth").exists()
