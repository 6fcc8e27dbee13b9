"""Torch datasets over labelled videos (files or JPEG frame folders) and over cached features.

Both return ``(x, label, index)``: ``x`` is a clip ``float32 [T, 3, S, S]`` (ImageNet-normalised)
or features ``float32 [T, C, h, w]``; ``index`` is the item's position in the list (used to
gather predictions across processes).

Frame sampling: ``uniform`` takes the centre frame of each of T equal parts of the video (the
paper's n = 25, and what the explain commands and the feature cache use); ``random`` takes a
random frame inside each part (TSN-style augmentation for training on frames).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from attnviz.errors import AttnvizError
from attnviz.io.splits import VideoList

__all__ = ["FeatureDataset", "VideoClipDataset", "sample_indices"]


def sample_indices(
    num_frames: int, n: int, mode: str = "uniform", rng: np.random.Generator | None = None
) -> np.ndarray:
    """``n`` ascending 0-based frame indices over ``num_frames`` (see the module docstring)."""
    from attnviz.io.video import uniform_indices

    if mode == "uniform":
        return uniform_indices(num_frames, n)
    if mode != "random":
        raise AttnvizError(f"sampling must be uniform or random, got {mode!r}")
    if num_frames < 1 or n < 1:
        raise ValueError(f"need num_frames >= 1 and n >= 1, got {num_frames}, {n}")
    rng = rng or np.random.default_rng()
    lo = np.floor(np.arange(n) * num_frames / n)
    hi = np.maximum(np.floor((np.arange(n) + 1) * num_frames / n), lo + 1)
    idx = (lo + np.floor(rng.random(n) * (hi - lo))).astype(np.int64)
    return np.clip(idx, 0, num_frames - 1)


class VideoClipDataset(Dataset):
    """Clips of ``frames`` frames decoded from each video (or frame folder) of ``videos``.

    Args:
        videos: a :class:`~attnviz.io.splits.VideoList` whose items have paths.
        frames: T.
        input_size: frames resized to ``input_size x input_size``.
        sampling: ``uniform`` or ``random``.
        seed: base seed of the ``random`` sampling (item i of epoch e uses ``(seed, e, i)``).
        transform: instead of the paper model's preprocessing (``[T, 3, S, S]``), a callable
            ``frames [T, H, W, 3] uint8 -> Tensor`` (e.g. a video model's
            :class:`~attnviz.models.video_model.ClipTransform`, ``[3, T, S, S]``).
    """

    def __init__(
        self,
        videos: VideoList,
        *,
        frames: int = 25,
        input_size: int = 224,
        sampling: str = "uniform",
        seed: int = 0,
        transform=None,
    ) -> None:
        missing = [it.key for it in videos.items if it.path is None]
        if missing:
            raise AttnvizError(
                f"{videos.source}: no video folder given ({{root}}), e.g. for {missing[0]!r}",
                params=("root",),
            )
        self.videos = videos
        self.frames = int(frames)
        self.input_size = int(input_size)
        self.sampling = sampling
        self.seed = int(seed)
        self.transform = transform
        self.epoch = 0
        self._counts: dict[int, int] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, i: int):
        from attnviz.data.transforms import preprocess
        from attnviz.io.frames import probe_source, read_source_frames

        it = self.videos.items[i]
        if i not in self._counts:
            self._counts[i] = probe_source(it.path)[0]
        rng = np.random.default_rng([self.seed, self.epoch, i])
        idx = sample_indices(self._counts[i], self.frames, self.sampling, rng)
        rgb = read_source_frames(it.path, idx)
        if len(rgb) < self.frames:  # a truncated file: repeat the last decoded frame
            rgb = np.concatenate([rgb, np.repeat(rgb[-1:], self.frames - len(rgb), axis=0)])
        if self.transform is not None:
            return self.transform(rgb), it.label, i
        return preprocess(rgb, self.input_size), it.label, i


class FeatureDataset(Dataset):
    """Cached features of each video of ``videos`` (``attnviz extract-features``).

    Args:
        cache: the cache folder.
        videos: the labelled videos (their keys name the cache files).
        preload: read every file once into memory (as stored, float16 by default).
        check: verify on construction that every video has a complete file.
    """

    def __init__(
        self,
        cache: str | os.PathLike[str],
        videos: VideoList,
        *,
        preload: bool = False,
        check: bool = True,
    ) -> None:
        from attnviz.io.features import check_features, feature_path, read_manifest

        self.cache = cache
        self.videos = videos
        self.manifest = read_manifest(cache)
        self.paths = [feature_path(cache, it.key) for it in videos.items]
        if check:
            for it, p in zip(videos.items, self.paths, strict=True):
                why = check_features(p, self.manifest)
                if why is not None:
                    raise AttnvizError(
                        f"{p}: features of {it.key!r} unusable ({why}); run attnviz "
                        "extract-features on this list first"
                    )
        self._mem: list[np.ndarray] | None = None
        if preload:
            self._mem = [self._read(i) for i in range(len(self.paths))]

    def _read(self, i: int) -> np.ndarray:
        from attnviz.io.features import read_features

        return read_features(self.paths[i]).features

    def set_epoch(self, epoch: int) -> None:  # same interface as VideoClipDataset
        del epoch

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        arr = self._mem[i] if self._mem is not None else self._read(i)
        return torch.from_numpy(np.asarray(arr, dtype=np.float32)), self.videos.items[i].label, i

    def frame_indices(self, i: int) -> np.ndarray:
        """1-based source frames the features of item ``i`` come from."""
        from attnviz.io.features import read_features

        return read_features(self.paths[i]).frame_indices

    @property
    def feature_shape(self) -> Sequence[int]:
        return self.manifest.shape
