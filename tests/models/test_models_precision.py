"""Optional bfloat16 autocast on CPU (and CUDA where present)."""

from __future__ import annotations

import pytest
import torch
from models_helpers import tiny_features, tiny_recognizer

from attnviz.errors import AttnvizError
from attnviz.models import attention_loss, autocast, native_bf16


def test_fp32_changes_nothing():
    with autocast("cpu", "fp32"):
        assert not torch.is_autocast_enabled("cpu")


def _check_bf16(device: str) -> None:
    model = tiny_recognizer().to(device).eval()
    x = tiny_features(b=2, t=6).to(device)
    with torch.no_grad():
        ref = model(x)
        with autocast(device, "bf16"):
            assert torch.is_autocast_enabled(torch.device(device).type)
            out = model(x)
    assert out.logits.dtype == torch.bfloat16 and out.mask.dtype == torch.bfloat16
    # attention weights stay float32: rows sum to 1 to float32 rounding
    assert out.temporal.dtype == torch.float32
    assert torch.allclose(out.temporal.sum(-1), torch.ones(2, 6, device=device), atol=1e-6)
    assert torch.allclose(out.logits.float(), ref.logits, atol=5e-2)
    assert torch.allclose(out.mask.float(), ref.mask, atol=2e-2)
    assert torch.allclose(out.temporal, ref.temporal, atol=1e-3)
    # training step under autocast: float32 losses, gradients in the float32 parameters
    model.train()
    with autocast(device, "bf16"):
        terms = attention_loss(model(x), torch.tensor([0, 1], device=device))
    assert all(t.dtype == torch.float32 for t in terms)
    terms.total.backward()
    assert model.cell.conv_h.weight.grad.dtype == torch.float32
    assert float(model.cell.conv_h.weight.grad.abs().max()) > 0


def test_bf16_autocast_on_cpu():
    _check_bf16("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_bf16_autocast_on_cuda():
    if not torch.cuda.is_bf16_supported():
        with pytest.raises(AttnvizError, match="does not support bfloat16"):
            with autocast("cuda", "bf16"):
                pass
        return
    _check_bf16("cuda")


def test_bad_precision_or_device():
    with pytest.raises(AttnvizError, match="precision must be fp32 or bf16"):
        with autocast("cpu", "fp16"):
            pass
    with pytest.raises(AttnvizError, match="unknown device"):
        with autocast("gpu0", "bf16"):
            pass
    if not torch.cuda.is_available():
        with pytest.raises(AttnvizError, match="CUDA is not available"):
            with autocast("cuda", "bf16"):
                pass
    assert isinstance(native_bf16("cpu"), bool)
