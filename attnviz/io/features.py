"""The feature cache: backbone features of each video stored once, read many times.

Layout of a cache folder::

    CACHE/manifest.json          what produced the features (backbone, stage, input size,
                                 frames per video, sampling, dtype, backbone checksum, shape)
    CACHE/backbone.pt            the backbone's state_dict (so that a model trained on the cache
                                 ships the very weights that made the features)
    CACHE/features/<key>.npz     one file per video: ``features [T, C, h, w]`` (float16 by
                                 default), ``frame_indices [T]`` (1-based source frames),
                                 ``num_frames``, ``fps``, ``frame_size`` (H, W)

Each video file is written to a temporary name and renamed when complete, so a crash never
leaves a half-written file under its final name; :func:`check_features` tells a complete file
from a damaged one (a rerun of the extraction skips the first and redoes the second).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attnviz.errors import AttnvizError, InputError
from attnviz.io.atomic import atomic_path, atomic_write_text

__all__ = [
    "FeatureManifest",
    "VideoFeatures",
    "check_features",
    "feature_path",
    "read_features",
    "read_manifest",
    "state_checksum",
    "write_features",
    "write_manifest",
]

_FORMAT = "attnviz-features"
_KEYS = ("features", "frame_indices", "num_frames", "fps", "frame_size")


@dataclass(frozen=True)
class FeatureManifest:
    """What a cache holds; two extractions may share a cache only if these agree.

    Attributes:
        backbone (str): e.g. ``resnet18``.
        stage (int): ResNet stage the trunk is cut after.
        input_size (int): frames resized to ``input_size x input_size``.
        frames (int): T, frames sampled per video.
        sampling (str): ``uniform`` (the centre frame of T equal parts of the video).
        dtype (str): ``float16`` or ``float32``.
        checksum (str): sha256 of the backbone's state_dict (:func:`state_checksum`).
        shape (tuple[int, int, int]): ``(C, h, w)`` of one frame's features.
    """

    backbone: str
    stage: int
    input_size: int
    frames: int
    sampling: str
    dtype: str
    checksum: str
    shape: tuple[int, int, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": 1,
            "backbone": self.backbone,
            "stage": self.stage,
            "input_size": self.input_size,
            "frames": self.frames,
            "sampling": self.sampling,
            "dtype": self.dtype,
            "checksum": self.checksum,
            "shape": list(self.shape),
        }


@dataclass(frozen=True)
class VideoFeatures:
    """One video's cached features.

    Attributes:
        features (ndarray[T, C, h, w]): float16 or float32.
        frame_indices (ndarray[T] int64): 1-based source frames the features come from.
        num_frames (int): frames that decoded in the video.
        fps (float): the video's frame rate.
        frame_size (tuple[int, int]): source ``(H, W)``.
    """

    features: np.ndarray
    frame_indices: np.ndarray
    num_frames: int
    fps: float
    frame_size: tuple[int, int]


def state_checksum(state: dict) -> str:
    """sha256 over the names, dtypes, shapes and bytes of a state_dict's tensors (sorted by
    name); equal for equal weights on any machine."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name]
        arr = t.detach().cpu().contiguous().numpy() if hasattr(t, "detach") else np.asarray(t)
        h.update(name.encode())
        h.update(str(arr.dtype).encode())
        h.update(str(tuple(arr.shape)).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def write_manifest(cache: str | os.PathLike[str], manifest: FeatureManifest) -> None:
    """Write ``manifest.json``, or check that the cache's existing one agrees.

    Raises:
        AttnvizError: the cache holds features of another backbone / configuration.
    """
    root = Path(cache)
    path = root / "manifest.json"
    if path.is_file():
        old = read_manifest(root)
        if old != manifest:
            diff = [
                k
                for k in (
                    "backbone",
                    "stage",
                    "input_size",
                    "frames",
                    "sampling",
                    "dtype",
                    "checksum",
                    "shape",
                )
                if getattr(old, k) != getattr(manifest, k)
            ]
            raise AttnvizError(
                f"{path}: the cache holds features made differently ({', '.join(diff)} differ); "
                "use another {out} folder",
                params=("out",),
            )
        return
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(manifest.to_dict(), indent=1) + "\n")


def read_manifest(cache: str | os.PathLike[str]) -> FeatureManifest:
    """Read ``CACHE/manifest.json``."""
    path = Path(cache) / "manifest.json"
    if not path.is_file():
        raise AttnvizError(f"{Path(cache)}: not a feature cache (no manifest.json)")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(d, dict) or d.get("format") != _FORMAT:
        raise InputError(f'{path}: not an attnviz feature manifest (no "format": "{_FORMAT}")')
    try:
        return FeatureManifest(
            backbone=str(d["backbone"]),
            stage=int(d["stage"]),
            input_size=int(d["input_size"]),
            frames=int(d["frames"]),
            sampling=str(d["sampling"]),
            dtype=str(d["dtype"]),
            checksum=str(d["checksum"]),
            shape=tuple(int(x) for x in d["shape"]),  # type: ignore[arg-type]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: missing or malformed field {exc}") from None


def feature_path(cache: str | os.PathLike[str], key: str) -> Path:
    """``CACHE/features/<key>.npz`` (``key`` may contain ``/``; ``..`` is refused)."""
    parts = Path(key).parts
    if not parts or ".." in parts or Path(key).is_absolute():
        raise AttnvizError(f"video key {key!r} cannot name a cache file")
    return Path(cache) / "features" / f"{key}.npz"


def write_features(path: str | os.PathLike[str], item: VideoFeatures) -> Path:
    """Write one video's features atomically (uncompressed ``.npz``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                features=np.ascontiguousarray(item.features),
                frame_indices=np.asarray(item.frame_indices, dtype=np.int64),
                num_frames=np.int64(item.num_frames),
                fps=np.float64(item.fps),
                frame_size=np.asarray(item.frame_size, dtype=np.int64),
            )
    return Path(path)


def read_features(path: str | os.PathLike[str]) -> VideoFeatures:
    """Read one video's features.

    Raises:
        AttnvizError: missing file; InputError: damaged or incomplete file.
    """
    p = Path(path)
    if not p.is_file():
        raise AttnvizError(f"{p}: cached features not found (run attnviz extract-features)")
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                raise InputError(f"{p}: damaged feature file (missing {', '.join(missing)})")
            feats = z["features"]
            idx = z["frame_indices"]
            n = int(z["num_frames"])
            fps = float(z["fps"])
            size = tuple(int(x) for x in z["frame_size"])
    except InputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise InputError(f"{p}: damaged feature file ({exc.__class__.__name__}: {exc})") from None
    return VideoFeatures(feats, idx, n, fps, (size[0], size[1]))


def check_features(path: str | os.PathLike[str], manifest: FeatureManifest) -> str | None:
    """``None`` if ``path`` is a complete feature file that fits ``manifest``, else the reason
    it is not (missing, unreadable, wrong shape or dtype, non-finite values)."""
    p = Path(path)
    if not p.is_file():
        return "missing"
    try:
        item = read_features(p)
    except AttnvizError as exc:
        return str(exc)
    want = (manifest.frames, *manifest.shape)
    if tuple(item.features.shape) != want:
        return f"shape {tuple(item.features.shape)}, expected {want}"
    if str(item.features.dtype) != manifest.dtype:
        return f"dtype {item.features.dtype}, expected {manifest.dtype}"
    if len(item.frame_indices) != manifest.frames:
        return f"{len(item.frame_indices)} frame indices, expected {manifest.frames}"
    if not np.isfinite(item.features).all():
        return "non-finite values"
    return None
