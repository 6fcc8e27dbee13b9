"""Eq. 6-10 with hand-computed values."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from models_helpers import tiny_features, tiny_recognizer

from attnviz.errors import AttnvizError
from attnviz.models import ModelOutput, attention_loss, contrast_loss, tv_loss, unimodal_loss


def test_tv_of_a_2x2_mask():
    # |M[1,0]-M[0,0]| + |M[1,1]-M[0,1]| + |M[0,1]-M[0,0]| + |M[1,1]-M[1,0]|
    assert float(tv_loss(torch.tensor([[[[0.0, 1.0], [1.0, 1.0]]]]))) == pytest.approx(2.0)
    m = torch.tensor([[[[0.2, 0.5], [0.9, 0.4]]]])
    # vertical 0.7 + 0.1, horizontal 0.3 + 0.5
    assert float(tv_loss(m)) == pytest.approx(1.6)
    assert float(tv_loss(torch.full((1, 1, 2, 2), 0.3))) == 0.0


def test_tv_sums_frames_and_averages_clips():
    a = torch.tensor([[0.0, 1.0], [1.0, 1.0]])  # TV 2
    b = torch.tensor([[0.2, 0.5], [0.9, 0.4]])  # TV 1.6
    clip1 = torch.stack([a, b])  # sum over frames: 3.6
    clip2 = torch.stack([b, b])  # 3.2
    assert float(tv_loss(torch.stack([clip1, clip2]))) == pytest.approx(3.4)


def test_contrast_value_and_gradient():
    m = torch.tensor([[[[0.2, 0.8], [0.6, 0.4]]]], requires_grad=True)
    # B = [[0, 1], [1, 0]]: -1/2 (0.8 + 0.6) + 1/2 (0.2 + 0.4)
    loss = contrast_loss(m)
    assert float(loss.detach()) == pytest.approx(-0.4)
    loss.backward()
    # the binarised mask carries no gradient: d/dM = -1/2 where M > 0.5, +1/2 elsewhere
    assert torch.allclose(m.grad, torch.tensor([[[[0.5, -0.5], [-0.5, 0.5]]]]))
    # exactly 0.5 counts as background (B = 1{M > 0.5})
    assert float(contrast_loss(torch.full((1, 1, 1, 1), 0.5))) == pytest.approx(0.25)


def _log_concave_rows():
    n = 9
    i = torch.arange(n, dtype=torch.float64)
    rows = [
        torch.full((n,), 1.0 / n),  # uniform
        torch.softmax(-0.3 * (i - 3.5) ** 2, 0),  # discretised Gaussian
        torch.softmax(-0.7 * i, 0),  # geometric: a_i^2 = a_{i-1} a_{i+1} exactly
        torch.tensor([math.comb(n - 1, k) for k in range(n)], dtype=torch.float64) / 2 ** (n - 1),
        torch.tensor([0.0, 0.0, 0.1, 0.3, 0.4, 0.2, 0.0, 0.0, 0.0], dtype=torch.float64),
    ]
    g = torch.Generator().manual_seed(0)
    for _ in range(20):  # exp of a random concave sequence: decreasing increments
        inc = torch.sort(torch.randn(n - 1, generator=g, dtype=torch.float64), descending=True)
        rows.append(
            torch.softmax(torch.cat([torch.zeros(1, dtype=torch.float64), inc.values.cumsum(0)]), 0)
        )
    return torch.stack(rows)


def test_unimodal_term_is_zero_for_log_concave_sequences():
    rows = _log_concave_rows()
    # they are log-concave indeed (up to rounding) ...
    assert bool((rows[:, 1:-1] ** 2 >= rows[:, :-2] * rows[:, 2:] - 1e-15).all())
    # ... and the penalty vanishes, each row alone and all rows as the steps of one clip
    for r in rows:
        assert float(unimodal_loss(r[None, None])) == pytest.approx(0.0, abs=1e-15)
    assert float(unimodal_loss(rows[None])) == pytest.approx(0.0, abs=1e-14)


def test_unimodal_term_is_positive_for_bimodal_sequences():
    assert float(unimodal_loss(torch.tensor([[[0.4, 0.1, 0.4]]]))) == pytest.approx(0.15)
    # i=2: 0.3*0.2 - 0.1^2 = 0.05; i=3: 0.1*0.4 - 0.2^2 = 0 -> 0.05
    assert float(unimodal_loss(torch.tensor([[[0.3, 0.1, 0.2, 0.4]]]))) == pytest.approx(0.05)
    two_peaks = torch.tensor([0.3, 0.05, 0.05, 0.3, 0.3])
    assert float(unimodal_loss(two_peaks[None, None])) > 0.0
    # sum over the steps t, mean over the clips
    w = torch.tensor([[[0.4, 0.1, 0.4], [0.3, 0.4, 0.3]], [[0.2, 0.6, 0.2], [0.2, 0.6, 0.2]]])
    assert float(unimodal_loss(w)) == pytest.approx(0.15 / 2)
    assert float(unimodal_loss(torch.tensor([[[0.5, 0.5]]]))) == 0.0  # n < 3: nothing to check


def _output(logits, mask, temporal):
    return ModelOutput(torch.tensor(logits), torch.tensor(mask), torch.tensor(temporal))


def test_total_is_eq_6_with_the_paper_weights():
    sig = inspect.signature(attention_loss).parameters
    assert (sig["lambda_tv"].default, sig["lambda_contrast"].default) == (1e-5, 1e-4)
    assert sig["lambda_unimodal"].default == 1.0
    out = _output(
        [[0.0, 0.0]],  # CE = ln 2
        [[[[0.2, 0.8], [0.6, 0.4]]]],  # TV 0.4 + 0.4 + 0.6 + 0.2 = 1.6; contrast -0.4
        [[[0.4, 0.1, 0.4], [0.2, 0.6, 0.2], [1 / 3, 1 / 3, 1 / 3]]],  # unimodal 0.15
    )
    terms = attention_loss(out, torch.tensor([0]))
    assert float(terms.ce) == pytest.approx(math.log(2))
    assert float(terms.tv) == pytest.approx(1.6)
    assert float(terms.contrast) == pytest.approx(-0.4)
    assert float(terms.unimodal) == pytest.approx(0.15)
    want = math.log(2) + 1e-5 * 1.6 + 1e-4 * -0.4 + 0.15
    assert float(terms.total) == pytest.approx(want)
    custom = attention_loss(
        out, torch.tensor([0]), lambda_tv=1.0, lambda_contrast=2.0, lambda_unimodal=0.5
    )
    assert float(custom.total) == pytest.approx(math.log(2) + 1.6 - 0.8 + 0.075)


def test_ablation_weights_zero_leave_cross_entropy():
    out = _output([[2.0, 0.0, -1.0]], [[[[0.2, 0.8], [0.6, 0.4]]]], [[[0.4, 0.1, 0.4]] * 3])
    terms = attention_loss(
        out, torch.tensor([2]), lambda_tv=0, lambda_contrast=0, lambda_unimodal=0
    )
    assert float(terms.total) == pytest.approx(float(terms.ce))
    assert float(terms.ce) == pytest.approx(3.0 + math.log(1 + math.exp(-2) + math.exp(-3)))
    assert float(terms.unimodal) > 0  # still reported for logging


def test_loss_on_a_model_output_and_bad_input():
    model = tiny_recognizer().train()
    out = model(tiny_features(b=2, t=4))
    terms = attention_loss(out, torch.tensor([1, 3]))
    assert all(t.ndim == 0 and t.dtype == torch.float32 for t in terms)
    assert torch.isfinite(terms.total)
    with pytest.raises(AttnvizError, match="batch sizes differ"):
        attention_loss(out, torch.tensor([1, 3, 0]))
    with pytest.raises(AttnvizError, match="lambda_tv must be >= 0"):
        attention_loss(out, torch.tensor([1, 3]), lambda_tv=-1.0)
