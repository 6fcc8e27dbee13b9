"""Mixed precision: bfloat16 autocast on CPU (about twice float32's speed on recent x86) and
CUDA."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from attnviz.errors import AttnvizError

__all__ = ["autocast"]


@contextlib.contextmanager
def autocast(device: str | torch.device = "cpu", precision: str = "fp32") -> Iterator[None]:
    """``with autocast("cpu", "bf16"): out = model(x)``; ``fp32`` does nothing."""
    if precision not in ("fp32", "bf16"):
        raise AttnvizError(f"precision must be fp32 or bf16, got {precision!r}")
    dev_type = torch.device(device).type
    if precision == "fp32":
        yield
        return
    with torch.autocast(device_type=dev_type, dtype=torch.bfloat16):
        yield
