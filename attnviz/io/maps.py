"""``AttentionOutput`` <-> ``.npz`` (``maps.npz``), so that any model's maps can be localized,
evaluated and rendered by attnviz."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from attnviz.errors import InputError
from attnviz.io.atomic import atomic_path
from attnviz.types import AttentionOutput

__all__ = ["load_attention", "save_attention"]

_ARRAYS = ("frame_indices", "timestamps", "mask", "temporal", "frame_importance", "scores")


def save_attention(path: str | os.PathLike[str], out: AttentionOutput) -> Path:
    """Write ``out`` as a compressed ``.npz`` (arrays + a JSON ``meta`` entry), atomically."""
    meta = {
        "format": "attnviz-attention",
        "version": 1,
        "frame_size": [int(x) for x in out.frame_size],
        "class_names": [str(c) for c in out.class_names],
        "video": str(out.video),
        "fps": float(out.fps),
        "grid_offset": [float(v) for v in out.grid_offset],
    }
    if out.threshold is not None:
        meta["threshold"] = float(out.threshold)
    arrays = {k: np.asarray(getattr(out, k)) for k in _ARRAYS}
    if out.window_starts is not None:
        arrays["window_starts"] = np.asarray(out.window_starts)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, meta=np.asarray(json.dumps(meta)), **arrays)
    return Path(path)


def load_attention(path: str | os.PathLike[str]) -> AttentionOutput:
    """Read a ``maps.npz`` written by :func:`save_attention` (or by another model following the
    same layout: arrays ``frame_indices [T]`` (1-based, non-decreasing), ``timestamps [T]``
    (seconds), ``mask [T, h, w]``, ``temporal`` (``[T, T]``, or ``[W, n, n]`` with
    ``window_starts [W]``), ``frame_importance [T]``, ``scores [K]`` and a JSON string ``meta``
    with ``frame_size`` ``[H, W]`` and ``class_names``; optional ``video``, ``fps`` and
    ``grid_offset`` ``[dy, dx]``, default ``[0, 0]``, and ``threshold``, the model's own
    binarisation threshold: see :class:`~attnviz.types.AttentionOutput`).
    No pickles are loaded.

    Raises:
        AttnvizError: the file is missing; InputError: it is not such a file (the message
        names the file and the field).
    """
    from attnviz.io.paths import pick_file

    p = pick_file(path, what="maps file", names=("maps.npz",), patterns=("*.npz",))
    try:
        z = np.load(p, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise InputError(f"{p}: a single array, not an attnviz maps .npz")
        with z:
            missing = [k for k in (*_ARRAYS, "meta") if k not in z.files]
            if missing:
                raise InputError(f"{p}: missing arrays {missing} (not an attnviz maps file?)")
            data = {k: z[k] for k in z.files}
    except InputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: not a readable .npz ({first})") from None
    try:
        meta = json.loads(str(data["meta"]))
        size = tuple(int(x) for x in meta["frame_size"])
        names = tuple(str(x) for x in meta["class_names"])
        video = str(meta.get("video", ""))
        fps = float(meta.get("fps", 0.0))
        offset = tuple(float(v) for v in meta.get("grid_offset", (0.0, 0.0)))
        thr = meta.get("threshold")
        thr = None if thr is None else float(thr)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError):
        raise InputError(
            f'{p}: field "meta" must be JSON with frame_size [H, W] and class_names'
        ) from None
    if len(size) != 2 or min(size) < 1:
        raise InputError(f'{p}: field "frame_size" must be two positive sizes, got {size}')
    for k in _ARRAYS:
        if data[k].dtype.kind not in "biuf":
            raise InputError(f'{p}: field "{k}" must be numeric, got {data[k].dtype}')
        if not np.isfinite(data[k]).all():
            raise InputError(f'{p}: field "{k}" holds NaN or infinite values')
    frames = data["frame_indices"]
    if frames.ndim != 1 or (frames < 1).any() or (np.diff(frames) < 0).any():
        raise InputError(f'{p}: field "frame_indices" must be 1-based, non-decreasing, [T]')
    starts = data.get("window_starts")
    if starts is not None:
        if starts.dtype.kind not in "iu" or starts.ndim != 1:
            raise InputError(f'{p}: field "window_starts" must be integers [W]')
        starts = starts.astype(np.int64)
    try:
        return AttentionOutput(
            frame_indices=frames.astype(np.int64),
            timestamps=data["timestamps"].astype(np.float64),
            frame_size=(size[0], size[1]),
            mask=data["mask"].astype(np.float32),
            temporal=data["temporal"].astype(np.float32),
            frame_importance=data["frame_importance"].astype(np.float32),
            scores=data["scores"].astype(np.float32),
            class_names=names,
            video=video,
            fps=fps,
            window_starts=starts,
            grid_offset=offset,
            threshold=thr,
        )
    except ValueError as exc:
        raise InputError(f"{p}: inconsistent arrays ({exc})") from None
