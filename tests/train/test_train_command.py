"""``attnviz train`` with a recipe (synthetic data, backbone fine-tuning, feature cache,
attention training, export) and ``attnviz eval-classify`` on the result, on a tiny model."""

from __future__ import annotations

import json

import pytest
import torch

from attnviz.cli import main
from attnviz.data.synthetic import SynthConfig, generate_dataset

TINY = SynthConfig(
    width=96,
    height=72,
    frames=(12, 16),
    actor_size=(16, 22),
    distractor_size=(12, 20),
    amplitude=(4.0, 8.0),
)
MODEL = {
    "backbone": "resnet18",
    "random_init": True,
    "init_seed": 0,
    "backbone_stage": 1,
    "input_size": 32,
    "frames": 4,
    "hidden_channels": 8,
    "kernel": 1,
    "spatial_widths": [8, 4],
    "energy_dim": 8,
    "dropout": 0.0,
}


def _run(args) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn")
    generate_dataset(root / "train", videos=12, seed=1, config=TINY, quiet=True)
    generate_dataset(root / "test", videos=8, seed=2, splits="test=1", config=TINY, quiet=True)
    return root


def _recipe(data, tmp_path, **extra):
    recipe = {
        "name": "tiny",
        "data": {
            "train": str(data / "train" / "train.csv"),
            "val": str(data / "train" / "val.csv"),
            "root": str(data / "train" / "videos"),
        },
        "backbone": {"epochs": 1, "batch_size": 4, "frames": 2},
        "features": {"cache": str(tmp_path / "cache")},
        "model": MODEL,
        "train": {"epochs": 1, "batch_size": 4, "lr": 1e-3},
        "out": str(tmp_path / "run"),
        "export": {"path": str(tmp_path / "model.pt"), "half": True},
    }
    recipe.update(extra)
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    return path


def test_recipe_trains_and_exports_a_model_that_explains_videos(data, tmp_path, capsys):
    from attnviz.models import load_checkpoint
    from attnviz.pipeline.explain import explain_video

    assert _run(["train", "--recipe", str(_recipe(data, tmp_path)), "--quiet"]) == 0
    run = tmp_path / "run"
    assert not list(run.glob("epoch_*.pt"))  # the command keeps last/best only by default
    for name in ("backbone.pt", "backbone_log.csv", "last.pt", "best.pt", "log.csv"):
        assert (run / name).is_file(), name
    caches = list((tmp_path / "cache").iterdir())
    assert len(caches) == 1 and (caches[0] / "manifest.json").is_file()  # per-backbone cache
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert payload["optimizer"] is None
    assert all(v.dtype != torch.float32 for v in payload["state_dict"].values())  # float16
    model, info = load_checkpoint(tmp_path / "model.pt")
    assert info["class_names"][0] == "RedCircleSwing" and model.backbone is not None
    assert info["extra"]["meta"]["frames"] == 4
    # the exported backbone is the fine-tuned one that made the cached features
    from attnviz.io.features import read_manifest, state_checksum

    man = read_manifest(caches[0])
    ft = torch.load(run / "backbone.pt", weights_only=True)
    assert state_checksum(ft) == man.checksum
    for k, v in ft.items():
        want = v.half().float() if v.is_floating_point() else v
        torch.testing.assert_close(model.backbone.state_dict()[k], want)
    video = next((data / "test" / "videos").glob("*.mp4"))
    out = explain_video(video, model=model, frames=4)
    assert out.mask.shape[0] == 4 and out.scores.shape == (8,)
    # eval-classify on the test set from the videos: Tables 2-4 layout
    capsys.readouterr()
    _run(
        [
            "eval-classify",
            "--checkpoint",
            str(tmp_path / "model.pt"),
            "--name",
            "Ours",
            "--data",
            str(data / "test" / "test.csv"),
            "--root",
            str(data / "test" / "videos"),
            "--quiet",
        ]
    )
    text = capsys.readouterr().out
    assert "Top-1 (%)" in text and "Top-5 (%)" in text and "Ours" in text and "8 videos" in text


def test_rerun_reuses_the_fine_tuned_backbone(data, tmp_path):
    recipe = _recipe(data, tmp_path)
    assert _run(["train", "--recipe", str(recipe), "--quiet"]) == 0
    stamp = (tmp_path / "run" / "backbone.pt").stat().st_mtime_ns
    _run(
        [
            "train",
            "--recipe",
            str(recipe),
            "--quiet",
            "--epochs",
            "2",
            "--save-every",
            "1",
            "--resume",
            str(tmp_path / "run" / "last.pt"),
        ]
    )
    assert (tmp_path / "run" / "backbone.pt").stat().st_mtime_ns == stamp
    assert (tmp_path / "run" / "epoch_002.pt").is_file()


def test_test_split_as_validation_is_refused(data, tmp_path, capsys):
    recipe = _recipe(data, tmp_path)
    code = _run(
        ["train", "--recipe", str(recipe), "--val", str(data / "test" / "test.csv"), "--quiet"]
    )
    assert code != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "test split" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_backbone_stamp_ignores_the_attention_model_only():
    """An ablation (another attention model or loss) reuses the fine-tuned backbone; a change
    to the backbone, its stage, input size or training list does not."""
    from attnviz.io.splits import VideoItem, VideoList
    from attnviz.pipeline.train import backbone_stamp, merge_recipe

    items = (VideoItem("v1", None, 0), VideoItem("v2", None, 1))
    videos = VideoList(items, ("a", "b"), source="train.csv")
    base = {"backbone": {"epochs": 1}, "model": dict(MODEL), "train": {"lambda_tv": 1e-5}}
    stamp = backbone_stamp(base, videos)
    for same in ({"model": {"spatial_attention": False}}, {"model": {"temporal_attention": False}},
                 {"model": {"hidden_channels": 4}}, {"train": {"lambda_tv": 0.0}}):  # fmt: skip
        assert backbone_stamp(merge_recipe(base, same), videos) == stamp, same
    for other in ({"model": {"backbone_stage": 2}}, {"model": {"input_size": 64}},
                  {"model": {"init_seed": 1}}, {"backbone": {"epochs": 2}}):  # fmt: skip
        assert backbone_stamp(merge_recipe(base, other), videos) != stamp, other
    fewer = VideoList(items[:1], ("a", "b"), source="train.csv")
    assert backbone_stamp(base, fewer) != stamp
