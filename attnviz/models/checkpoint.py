"""Checkpoints that rebuild their model by themselves, read without unpickling code.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (``weights_only``
loadable): ``{"format": "attnviz-checkpoint", "version": 1, "config": {...}, "class_names":
[...], "state_dict": {...}, "epoch": int | None, "extra": {...}, "optimizer": state | None}``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from attnviz.errors import AttnvizError
from attnviz.io.atomic import atomic_path

__all__ = ["load_checkpoint", "save_checkpoint"]

_FORMAT = "attnviz-checkpoint"


def save_checkpoint(
    path: str | os.PathLike[str],
    model,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int | None = None,
    extra: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write ``model`` (a :class:`~attnviz.models.Recognizer`, or a DDP wrapper of one) with its
    configuration, atomically.

    Args:
        optimizer: its state is stored too (for resuming).
        epoch: stored as is.
        extra: JSON-like metadata (numbers, strings, lists, dicts).
        half: store floating-point weights as float16 (smaller shipped models); they are cast
            back to float32 on loading.
    """
    model = getattr(model, "module", model)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {
        "format": _FORMAT,
        "version": 1,
        "config": model.config,
        "class_names": list(model.class_names),
        "state_dict": state,
        "epoch": epoch,
        "extra": extra or {},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"):
    """Rebuild the model stored at ``path``.

    Loading uses ``torch.load(..., weights_only=True)``: a file that would need to unpickle
    arbitrary objects is refused with :class:`~attnviz.errors.AttnvizError`, and nothing in it
    runs.

    Returns:
        ``(model, info)``: the model in eval mode; ``info`` has ``config``, ``class_names``,
        ``epoch``, ``extra`` and ``optimizer`` (state dict or ``None``).
    """
    from attnviz.models.recognizer import build_recognizer

    p = Path(path)
    if not p.is_file():
        raise AttnvizError(f"{p}: checkpoint not found")
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise AttnvizError(
            f"{p}: not a loadable attnviz checkpoint (refused by weights_only loading: {first})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise AttnvizError(
            f"{p}: not an attnviz checkpoint (no 'format': '{_FORMAT}' entry; a checkpoint of "
            "another model?)"
        )
    config = dict(payload["config"])
    config.setdefault("class_names", payload.get("class_names"))
    try:
        model = build_recognizer(**config, weights=None, random_init=True)
        state = {
            k: v.float() if v.dtype == torch.float16 else v
            for k, v in payload["state_dict"].items()
        }
        model.load_state_dict(state)
    except (TypeError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise AttnvizError(f"{p}: checkpoint does not match its configuration ({first})") from None
    model.eval()
    info = {
        "config": config,
        "class_names": tuple(payload.get("class_names") or model.class_names),
        "epoch": payload.get("epoch"),
        "extra": payload.get("extra") or {},
        "optimizer": payload.get("optimizer"),
    }
    return model, info
