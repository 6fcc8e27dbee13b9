"""``attnviz extract-features``: run a backbone over a list of videos once and cache the
last-conv features of T uniformly sampled frames per video (see :mod:`attnviz.io.features`).

Resumable: each video is written to a temporary file and renamed when complete; a rerun checks
every existing file (readable, right shape and dtype, finite) and skips it, and redoes the rest.
Under ``torchrun`` each rank takes every ``WORLD_SIZE``-th video (no process group is needed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from attnviz.errors import AttnvizError, ParameterError
from attnviz.io.splits import VideoList

__all__ = ["backbone_from_spec", "extract_features", "load_cache_backbone"]


def backbone_from_spec(
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    backbone: str = "resnet50",
    weights: str | os.PathLike[str] | None = "imagenet",
    random_init: bool = False,
    seed: int = 0,
    stage: int = 4,
    input_size: int = 224,
) -> tuple[Any, dict[str, Any]]:
    """The frozen trunk to extract with and its description.

    From a model checkpoint (its backbone, stage and input size), or built from ``backbone``
    with ``weights`` (``imagenet``, a file) or ``random_init`` (seeded by ``seed``).

    Returns:
        ``(trunk, {"backbone", "stage", "input_size"})``; the trunk is in eval mode.
    """
    import torch

    if checkpoint is not None:
        from attnviz.models import load_checkpoint

        model, info = load_checkpoint(checkpoint)
        if model.backbone is None:
            raise AttnvizError(f"{checkpoint}: this model has no backbone to extract with")
        cfg = info["config"]
        desc = {
            "backbone": cfg["backbone"],
            "stage": int(cfg.get("backbone_stage", 4)),
            "input_size": int(cfg.get("input_size", 224)),
        }
        return model.backbone.eval(), desc
    from attnviz.models import build_backbone

    if random_init:
        torch.manual_seed(seed)
    trunk, _ = build_backbone(
        backbone, weights=None if random_init else weights, random_init=random_init, stage=stage
    )
    return trunk.eval(), {"backbone": backbone, "stage": stage, "input_size": input_size}


def load_cache_backbone(cache: str | os.PathLike[str]) -> dict:
    """The state_dict of the trunk that made the cache's features (``CACHE/backbone.pt``)."""
    import torch

    from attnviz.io.features import read_manifest, state_checksum

    manifest = read_manifest(cache)
    path = Path(cache) / "backbone.pt"
    if not path.is_file():
        raise AttnvizError(f"{path}: the cache's backbone weights are missing")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise AttnvizError(
            f"{path}: unreadable backbone weights ({exc.__class__.__name__})"
        ) from None
    if state_checksum(state) != manifest.checksum:
        raise AttnvizError(f"{path}: backbone weights do not match the cache's manifest checksum")
    return state


def _rank_world() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world < 1 or not 0 <= rank < world:
        raise AttnvizError(f"bad torchrun environment: RANK={rank}, WORLD_SIZE={world}")
    return rank, world


def extract_features(
    videos: VideoList,
    cache: str | os.PathLike[str],
    *,
    trunk=None,
    desc: dict[str, Any] | None = None,
    frames: int = 25,
    dtype: str = "float16",
    batch: int = 64,
    device: str = "cpu",
    quiet: bool = False,
    rank: int | None = None,
    world_size: int | None = None,
    **backbone_spec: Any,
) -> dict[str, int]:
    """Cache the features of every video of ``videos`` (this rank's shard of them).

    Args:
        videos: labelled videos with paths (:mod:`attnviz.io.splits`).
        cache: the cache folder (created; an existing one must have the same manifest).
        trunk, desc: the backbone and its description; built by :func:`backbone_from_spec`
            from ``backbone_spec`` when not given.
        frames: T frames per video, sampled uniformly.
        dtype: ``float16`` (default) or ``float32``.
        batch: frames per backbone forward.
        rank, world_size: shard (default: ``RANK`` / ``WORLD_SIZE`` of the environment).

    Returns:
        ``{"done": n written, "skipped": n complete already, "redone": n damaged and rewritten,
        "total": n in this shard}``.
    """
    import torch
    from tqdm.auto import tqdm

    from attnviz.io.features import check_features, feature_path

    if dtype not in ("float16", "float32"):
        raise ParameterError("dtype", f"must be float16 or float32, got {dtype!r}")
    if frames < 1:
        raise ParameterError("frames", f"must be >= 1, got {frames}")
    missing = [it.key for it in videos.items if it.path is None]
    if missing:
        raise AttnvizError(
            f"{videos.source}: no video folder given ({{root}}), e.g. {missing[0]!r}",
            params=("root",),
        )
    if trunk is None:
        trunk, desc = backbone_from_spec(**backbone_spec)
    assert desc is not None
    if rank is None or world_size is None:
        rank, world_size = _rank_world()
    dev = torch.device(device)
    trunk = trunk.to(dev).eval()
    manifest, state = _manifest(trunk, desc, frames, dtype, dev)
    root = Path(cache)
    _open_cache(root, manifest, state, rank)
    shard = videos.items[rank::world_size]
    counts = {"done": 0, "skipped": 0, "redone": 0, "total": len(shard)}
    bar = tqdm(
        shard,
        desc=f"features{f' [rank {rank}]' if world_size > 1 else ''}",
        unit="video",
        disable=quiet,
        position=rank if world_size > 1 else None,
    )
    for it in bar:
        path = feature_path(root, it.key)
        why = check_features(path, manifest)
        if why is None:
            counts["skipped"] += 1
            continue
        if why != "missing":
            counts["redone"] += 1
            if not quiet:
                tqdm.write(f"warning: {path}: {why}; extracting again")
        _extract_one(it.path, path, trunk, manifest, batch, dev)
        counts["done"] += 1
    bar.close()
    return counts


def _manifest(trunk, desc: dict[str, Any], frames: int, dtype: str, dev):
    """``(manifest, state)``: what the cache holds (the output shape from one probe forward)
    and the backbone's weights on the CPU."""
    import torch

    from attnviz.io.features import FeatureManifest, state_checksum

    state = {k: v.detach().cpu() for k, v in trunk.state_dict().items()}
    size = int(desc["input_size"])
    with torch.inference_mode():
        probe_out = trunk(torch.zeros(1, 3, size, size, device=dev))
    manifest = FeatureManifest(
        backbone=str(desc["backbone"]),
        stage=int(desc["stage"]),
        input_size=size,
        frames=int(frames),
        sampling="uniform",
        dtype=dtype,
        checksum=state_checksum(state),
        shape=tuple(int(s) for s in probe_out.shape[1:]),  # type: ignore[arg-type]
    )
    return manifest, state


def _open_cache(root: Path, manifest, state, rank: int) -> None:
    """Rank 0 writes the manifest (or checks it agrees with the one there) and the backbone's
    weights; other ranks wait for the manifest, then check it agrees."""
    import torch

    from attnviz.io.features import write_manifest

    if rank == 0:
        write_manifest(root, manifest)
        bb = root / "backbone.pt"
        if not bb.is_file():
            from attnviz.io.atomic import atomic_path

            with atomic_path(bb) as tmp:
                torch.save(state, tmp)
        return
    import time

    for _ in range(600):
        if (root / "manifest.json").is_file():
            break
        time.sleep(0.1)
    write_manifest(root, manifest)


def _extract_one(source, path: Path, trunk, manifest, batch: int, dev) -> None:
    """The features of ``manifest.frames`` uniformly sampled frames of ``source`` (a video file
    or a frame folder), written to ``path``."""
    import torch

    from attnviz.data.transforms import preprocess
    from attnviz.io.features import VideoFeatures, write_features
    from attnviz.io.frames import probe_source, read_source_frames
    from attnviz.io.video import uniform_indices

    frames = manifest.frames
    n, fps, frame_size = probe_source(source)
    idx = uniform_indices(n, frames)
    rgb = read_source_frames(source, idx)
    if len(rgb) < frames:  # a file that decodes fewer frames than it counted
        rgb = np.concatenate([rgb, np.repeat(rgb[-1:], frames - len(rgb), axis=0)])
    x = preprocess(rgb, manifest.input_size)
    outs = []
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            outs.append(trunk(x[i : i + batch].to(dev)).float().cpu().numpy())
    np_dtype = np.float16 if manifest.dtype == "float16" else np.float32
    feats = np.concatenate(outs).astype(np_dtype)
    write_features(
        path, VideoFeatures(feats, idx.astype(np.int64) + 1, int(n), float(fps), frame_size)
    )
