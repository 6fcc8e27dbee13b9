"""Checkpoints that rebuild their model by themselves, read without unpickling code.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (``weights_only``
loadable): ``{"format": "attnviz-checkpoint", "version": 1, "config": {...}, "class_names":
[...], "state_dict": {...}, "epoch": int | None, "extra": {...}, "optimizer": state | None}``.
``config`` holds the keyword arguments of :func:`~attnviz.models.build_recognizer`, so
:func:`load_checkpoint` needs nothing but the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from attnviz.errors import AttnvizError
from attnviz.io.atomic import atomic_path

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "load_checkpoint",
    "localize_threshold",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "attnviz-checkpoint"
CHECKPOINT_VERSION = 1


def _check_plain(value: Any, where: str) -> None:
    """Refuse values that ``torch.load(weights_only=True)`` could not read back."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise AttnvizError(f"{where}: key {k!r} is not a string or an integer")
            _check_plain(v, f"{where}[{k!r}]")
        return
    raise AttnvizError(
        f"{where}: {type(value).__name__} cannot be stored in a checkpoint (use numbers, "
        "strings, lists, dicts or tensors)"
    )


def save_checkpoint(
    path: str | os.PathLike[str],
    model,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int | None = None,
    extra: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write ``model`` (a :class:`~attnviz.models.Recognizer`, or a DDP / ``torch.compile``
    wrapper of one) with its configuration, atomically (a temporary file renamed into place).

    Args:
        path: the file to write (first, unlike ``torch.save``; a swapped pair raises a
            ``TypeError`` that says so, and nothing is written).
        model: the recognizer.
        optimizer: its state is stored too (for resuming).
        epoch: stored as is.
        extra: metadata of numbers, strings, lists, dicts and tensors.
        half: store floating-point weights as float16 (smaller shipped models); they are cast
            back to float32 on loading.

    Returns:
        ``Path(path)``.
    """
    if isinstance(path, torch.nn.Module) and isinstance(model, str | os.PathLike):
        raise TypeError(
            "save_checkpoint(path, model): the path comes first (torch.save takes the object "
            f"first); call save_checkpoint({str(model)!r}, model)"
        )
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"save_checkpoint: path must be a str or a Path, got {type(path).__name__}")
    model = getattr(model, "module", model)  # DistributedDataParallel
    model = getattr(model, "_orig_mod", model)  # torch.compile
    if not hasattr(model, "config") or not hasattr(model, "class_names"):
        raise AttnvizError(
            f"{path}: can only save a model built by build_recognizer (it carries its config), "
            f"got a {type(model).__name__}"
        )
    _check_plain(extra or {}, "extra")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": dict(model.config),
        "class_names": list(model.class_names),
        "state_dict": state,
        "epoch": epoch,
        "extra": extra or {},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def localize_threshold(extra: dict[str, Any], path: Any = "checkpoint") -> float | None:
    """The ``threshold`` of the ``localize`` entry a training recipe stores in its checkpoints
    (``extra["meta"]["localize"]``, or ``extra["localize"]``), or ``None``."""
    meta = extra.get("meta") if isinstance(extra.get("meta"), dict) else {}
    loc = extra.get("localize", meta.get("localize"))
    if loc is None:
        return None
    value = loc.get("threshold") if isinstance(loc, dict) else float("nan")
    if value is None:
        return None
    try:
        thr = float(value)
    except (TypeError, ValueError):
        thr = float("nan")
    if not 0.0 <= thr <= 1.0:
        raise AttnvizError(f"{path}: localize.threshold must be a number in [0, 1], got {loc!r}")
    return thr


def load_checkpoint(
    path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
) -> tuple[Any, dict[str, Any]]:
    """Rebuild the model stored at ``path`` (a file, or a run folder: its ``best.pt``).

    ``model, info = load_checkpoint("runs/x")``: ``model`` is the
    :class:`~attnviz.models.Recognizer` in eval mode; ``info`` is a dict with ``config`` (the
    keyword arguments of :func:`~attnviz.models.build_recognizer`), ``class_names`` (tuple),
    ``epoch`` (int or ``None``), ``extra`` (the metadata saved with it: for a training run
    ``train_config``, ``metrics``, ``best_epoch``, ``meta``) and ``optimizer`` (its state dict,
    or ``None``).

    Loading uses ``torch.load(..., weights_only=True)``: a file that would need to unpickle
    arbitrary objects is refused with :class:`~attnviz.errors.AttnvizError`, and nothing in it
    runs. So is a file of some other program (no attnviz ``format`` entry) and one whose weights
    do not fit its configuration.

    Args:
        map_location: device the model's weights end up on.

    Returns:
        ``(model, info)``: the model in eval mode; ``info`` has ``config``, ``class_names``,
        ``epoch``, ``extra`` and ``optimizer`` (state dict or ``None``).
    """
    from attnviz.io.paths import pick_file
    from attnviz.models.recognizer import build_recognizer

    p = pick_file(path, what="checkpoint", names=("best.pt", "last.pt"), patterns=("*.pt",))
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else exc.__class__.__name__
        raise AttnvizError(
            f"{p}: not a loadable attnviz checkpoint (refused by weights_only loading: {first})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise AttnvizError(
            f"{p}: not an attnviz checkpoint (no 'format': '{CHECKPOINT_FORMAT}' entry; a "
            "checkpoint of another model?)"
        )
    version = payload.get("version")
    if version != CHECKPOINT_VERSION:
        raise AttnvizError(
            f"{p}: checkpoint format version {version!r}, this attnviz reads version "
            f"{CHECKPOINT_VERSION}"
        )
    for key, kind in (("config", dict), ("state_dict", dict)):
        if not isinstance(payload.get(key), kind):
            raise AttnvizError(f"{p}: checkpoint has no {key!r} mapping")
    config = dict(payload["config"])
    config.setdefault("class_names", payload.get("class_names"))
    try:
        model = build_recognizer(**config, weights=None, random_init=True)
        state = {
            k: v.float() if v.dtype == torch.float16 else v
            for k, v in payload["state_dict"].items()
        }
        model.load_state_dict(state)
    except (TypeError, RuntimeError, KeyError, AttnvizError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise AttnvizError(f"{p}: checkpoint does not match its configuration ({first})") from None
    model = model.to(map_location).eval()
    model.localize_threshold = localize_threshold(payload.get("extra") or {}, p)
    info = {
        "config": config,
        "class_names": tuple(payload.get("class_names") or model.class_names),
        "epoch": payload.get("epoch"),
        "extra": payload.get("extra") or {},
        "optimizer": payload.get("optimizer"),
    }
    return model, info
