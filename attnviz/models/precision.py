"""Mixed precision: optional bfloat16 autocast on CPU and CUDA.

Whether bfloat16 is faster than float32 depends on the hardware. CPUs with native bfloat16
arithmetic (AVX512-BF16 or AMX) and recent GPUs run it faster. On a CPU without it (AVX2 only)
oneDNN emulates bfloat16 and it runs slower than float32: on a 2-core AMD EPYC (Zen 3) host the
ResNet-50 backbone took 3 to 4.6 times its float32 time per clip, and the spatial attention's
convolutions were ten times slower again without the channels-last layout the model uses by
default (``benchmarks/model_speed.py`` measures it; :func:`native_bf16` tells which case
applies). The model keeps its attention weights in float32 under autocast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from attnviz.errors import AttnvizError

__all__ = ["PRECISIONS", "autocast", "native_bf16"]

PRECISIONS = ("fp32", "bf16")


def _device_type(device: str | torch.device) -> str:
    try:
        return torch.device(device).type
    except (RuntimeError, TypeError) as exc:
        raise AttnvizError(f"unknown device {device!r} ({exc})") from None


def native_bf16(device: str | torch.device = "cpu") -> bool:
    """Whether ``device`` computes bfloat16 natively (CPU: AVX512-BF16 or AMX seen by oneDNN;
    CUDA: ``torch.cuda.is_bf16_supported()``)."""
    dev_type = _device_type(device)
    if dev_type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if dev_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return False


@contextlib.contextmanager
def autocast(device: str | torch.device = "cpu", precision: str = "fp32") -> Iterator[None]:
    """``with autocast("cpu", "bf16"): out = model(x)``; ``"fp32"`` changes nothing.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or a ``torch.device``.
        precision: ``"fp32"`` or ``"bf16"`` (bfloat16 autocast: convolutions and matrix
            products in bfloat16, reductions and the losses in float32).

    Raises:
        AttnvizError: an unknown precision or device, bf16 on a device without autocast
            support, or CUDA asked for where there is none.
    """
    if precision not in PRECISIONS:
        raise AttnvizError(f"precision must be fp32 or bf16, got {precision!r}")
    dev_type = _device_type(device)
    if precision == "fp32":
        yield
        return
    if dev_type == "cuda":
        if not torch.cuda.is_available():
            raise AttnvizError("bf16 autocast on cuda asked for, but CUDA is not available")
        if not torch.cuda.is_bf16_supported():
            raise AttnvizError("this CUDA device does not support bfloat16; use fp32")
    elif dev_type != "cpu":
        raise AttnvizError(f"bf16 autocast runs on cpu or cuda, not on {dev_type}")
    with torch.autocast(device_type=dev_type, dtype=torch.bfloat16):
        yield
