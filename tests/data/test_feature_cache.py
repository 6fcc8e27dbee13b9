"""The feature cache: atomic files, checks that tell complete from damaged, resumable and
sharded extraction, the datasets over it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from attnviz.cli import app
from attnviz.errors import AttnvizError
from attnviz.io.features import (
    FeatureManifest,
    VideoFeatures,
    check_features,
    feature_path,
    read_features,
    read_manifest,
    write_features,
    write_manifest,
)
from attnviz.io.splits import read_csv_list

MAN = FeatureManifest("resnet18", 1, 32, 4, "uniform", "float16", "abc", (64, 8, 8))


def _item(t=4, dtype=np.float16):
    f = np.random.default_rng(0).random((t, 64, 8, 8)).astype(dtype)
    return VideoFeatures(f, np.arange(1, t + 1), 20, 25.0, (72, 96))


def test_roundtrip_and_checks(tmp_path):
    p = feature_path(tmp_path, "Class/v_a")
    assert p == tmp_path / "features" / "Class" / "v_a.npz"
    write_features(p, _item())
    got = read_features(p)
    assert got.features.dtype == np.float16 and got.features.shape == (4, 64, 8, 8)
    assert got.num_frames == 20 and got.frame_size == (72, 96)
    assert check_features(p, MAN) is None
    assert check_features(tmp_path / "nope.npz", MAN) == "missing"
    assert "shape" in check_features(p, FeatureManifest(**{**MAN.__dict__, "frames": 5}))
    assert "dtype" in check_features(p, FeatureManifest(**{**MAN.__dict__, "dtype": "float32"}))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])  # a crash mid-write without the atomic rename
    assert "damaged" in check_features(p, MAN)
    bad = _item()
    bad.features[0, 0, 0, 0] = np.nan
    write_features(p, bad)
    assert check_features(p, MAN) == "non-finite values"
    with pytest.raises(AttnvizError, match="cannot name"):
        feature_path(tmp_path, "../x")


def test_manifest_must_agree(tmp_path):
    write_manifest(tmp_path, MAN)
    write_manifest(tmp_path, MAN)  # same: fine
    assert read_manifest(tmp_path) == MAN
    with pytest.raises(AttnvizError, match="checksum"):
        write_manifest(tmp_path, FeatureManifest(**{**MAN.__dict__, "checksum": "other"}))
    with pytest.raises(AttnvizError, match="not a feature cache"):
        read_manifest(tmp_path / "none")


def _extract(out, videos, **kw):
    from attnviz.pipeline.features import extract_features

    return extract_features(
        videos,
        out,
        frames=4,
        quiet=True,
        backbone="resnet18",
        random_init=True,
        seed=1,
        stage=1,
        input_size=32,
        **kw,
    )


def test_extraction_resumes_checks_and_shards(tiny_synth, tmp_path):
    from attnviz.data.datasets import FeatureDataset

    root, _ = tiny_synth
    videos = read_csv_list(root / "train.csv", root=root / "videos")
    cache = tmp_path / "cache"
    # two ranks of a torchrun job: disjoint shards that together cover the list
    a = _extract(cache, videos, rank=0, world_size=2)
    b = _extract(cache, videos, rank=1, world_size=2)
    assert a["done"] + b["done"] == len(videos) == 6 and a["total"] == 3
    man = read_manifest(cache)
    assert man.shape == (64, 8, 8) and man.frames == 4 and man.dtype == "float16"
    again = _extract(cache, videos, rank=0, world_size=1)
    assert again == {"done": 0, "skipped": 6, "redone": 0, "total": 6}
    victim = feature_path(cache, videos.keys[2])
    victim.write_bytes(victim.read_bytes()[:100])
    fixed = _extract(cache, videos, rank=0, world_size=1)
    assert fixed["redone"] == 1 and fixed["done"] == 1
    assert not list(cache.glob("**/.*tmp*"))
    ds = FeatureDataset(cache, videos, preload=True)
    x, y, i = ds[2]
    assert x.dtype == torch.float32 and tuple(x.shape) == (4, 64, 8, 8)
    assert y == videos.labels[2] and i == 2
    meta = json.loads((root / "synth.json").read_text())
    n = next(it["num_frames"] for it in meta["items"] if it["video"] == videos.keys[2])
    np.testing.assert_array_equal(ds.frame_indices(2), np.floor((np.arange(4) + 0.5) * n / 4) + 1)
    # features equal the backbone run on the frames directly
    from attnviz.data.datasets import VideoClipDataset
    from attnviz.models import build_backbone
    from attnviz.pipeline.features import load_cache_backbone

    trunk, _ = build_backbone("resnet18", weights=None, random_init=True, stage=1)
    trunk.load_state_dict(load_cache_backbone(cache))
    clip, _, _ = VideoClipDataset(videos, frames=4, input_size=32)[2]
    with torch.no_grad():
        direct = trunk.eval()(clip)
    torch.testing.assert_close(x, direct, atol=2e-2, rtol=1e-2)  # float16 storage
    # another backbone cannot write into this cache
    from attnviz.pipeline.features import extract_features

    with pytest.raises(AttnvizError, match="differ"):
        extract_features(
            videos,
            cache,
            frames=4,
            quiet=True,
            backbone="resnet18",
            random_init=True,
            seed=2,
            stage=1,
            input_size=32,
        )


def test_feature_dataset_refuses_incomplete_cache(tiny_synth, tmp_path):
    from attnviz.data.datasets import FeatureDataset

    root, _ = tiny_synth
    videos = read_csv_list(root / "val.csv", root=root / "videos")
    _extract(tmp_path, videos.subset_of([0, 1]))
    with pytest.raises(AttnvizError, match="extract-features"):
        FeatureDataset(tmp_path, videos)


def test_extract_cli(tiny_synth, tmp_path):
    root, _ = tiny_synth
    args = [
        "extract-features",
        "--data",
        str(root / "val.csv"),
        "--root",
        str(root / "videos"),
        "--out",
        str(tmp_path),
        "--backbone",
        "resnet18",
        "--random-init",
        "--stage",
        "1",
        "--input-size",
        "32",
        "--frames",
        "3",
        "--dtype",
        "float32",
        "--quiet",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert read_manifest(tmp_path).dtype == "float32"
    assert len(list((tmp_path / "features").glob("*.npz"))) == 4
