"""The attention network against the paper: Table 1, eq. 1-5, the additive energy, the batched
input-gate convolution, ModelOutput and the Table 2 ablation switches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from models_helpers import tiny_features, tiny_recognizer
from torch import nn

from attnviz.errors import AttnvizError
from attnviz.models import ModelOutput, build_recognizer
from attnviz.models.attention import SpatialAttention


def test_spatial_attention_is_table_1():
    layers = list(SpatialAttention(2048).body)
    kinds = [type(m) for m in layers]
    assert kinds == [
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.ReLU,
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.ReLU,
        nn.Conv2d,
    ]
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(2048, 1024), (1024, 512), (512, 1)]
    for c in convs:
        assert (c.kernel_size, c.stride, c.padding) == ((3, 3), (1, 1), (1, 1))
    assert layers[1].num_features == 1024 and layers[4].num_features == 512
    # the last conv then a sigmoid: the mask lies in [0, 1]
    att = SpatialAttention(64, (16, 8)).eval()
    with torch.no_grad():
        att.body[-1].bias.fill_(30.0)  # saturates the sigmoid: values at the ends of [0, 1]
        hi = att(torch.rand(3, 64, 4, 4))
        att.body[-1].bias.fill_(-30.0)
        lo = att(torch.rand(3, 64, 4, 4))
    assert hi.shape == (3, 1, 4, 4) and float(hi.min()) > 0.999 and float(lo.max()) < 1e-3
    assert float(lo.min()) >= 0.0 and float(hi.max()) <= 1.0


def test_paper_configuration_output_shapes():
    torch.manual_seed(0)
    # the paper's widths on ResNet-18 features (512 channels; ResNet-50's 2048 cost only time)
    model = build_recognizer("resnet18", 51, features_only=True).eval()
    assert isinstance(model.spatial, SpatialAttention)
    assert [m.out_channels for m in model.spatial.body if isinstance(m, nn.Conv2d)] == [
        1024,
        512,
        1,
    ]
    assert model.cell.hidden_channels == 512 and model.cell.kernel == 3
    assert model.cell.conv_x.in_channels == 512 and model.cell.conv_h.out_channels == 4 * 512
    with torch.no_grad():
        out = model(torch.rand(2, 4, 512, 2, 2))
    assert isinstance(out, ModelOutput)
    assert out.logits.shape == (2, 51)
    assert out.mask.shape == (2, 4, 2, 2)
    assert out.temporal.shape == (2, 4, 4)
    assert torch.allclose(out.temporal.sum(-1), torch.ones(2, 4), atol=1e-6)


def _reference_forward(model, x):
    """Eq. 1-5 written out step by step with the model's own parameters (the straightforward
    form, no batching, every formula spelled out)."""
    b, n, c, hh, ww = x.shape
    hid = model.hidden_channels
    cell = model.cell
    logits, masks, temporal = [], [], []
    for k in range(b):
        masked, mk = [], []
        for i in range(n):
            m = model.spatial(x[k, i][None])  # Table 1
            mk.append(m[0, 0])
            masked.append(x[k, i][None] * m)  # eq. 1
        mean = torch.cat(masked).mean(0, keepdim=True)
        h, cc = model.init_h(mean), model.init_c(mean)  # eq. 5
        hs, ws = [], []
        for _t in range(n):
            e = []
            for i in range(n):  # eq. 2, additive form
                px = model.energy.phi_x(masked[i].mean(dim=(-2, -1)))
                ph = model.energy.phi_h(h.mean(dim=(-2, -1)))
                e.append(model.energy.v(torch.tanh(px + ph))[0, 0])
            w = torch.softmax(torch.stack(e), 0)  # eq. 3
            ws.append(w)
            y = sum(w[i] * masked[i] for i in range(n)) / n  # eq. 4
            gates = (
                F.conv2d(y, cell.conv_x.weight, padding=1)
                + F.conv2d(h, cell.conv_h.weight, padding=1)
                + cell.bias.view(1, -1, 1, 1)
            )
            gi, gf, go, gg = (
                gates[:, :hid],
                gates[:, hid : 2 * hid],
                gates[:, 2 * hid : 3 * hid],
                gates[:, 3 * hid :],
            )
            cc = torch.sigmoid(gf) * cc + torch.sigmoid(gi) * torch.tanh(gg)
            h = torch.sigmoid(go) * torch.tanh(cc)
            hs.append(h)
        h_bar = torch.stack(hs).mean(0)  # (1/n) sum_t H_t
        logits.append(model.classifier(h_bar.mean(dim=(-2, -1)))[0])
        masks.append(torch.stack(mk))
        temporal.append(torch.stack(ws))
    return torch.stack(logits), torch.stack(masks), torch.stack(temporal)


@pytest.mark.parametrize("fast", [True, False])
def test_forward_follows_eq_1_to_5(fast):
    model = tiny_recognizer(fast=fast).eval()
    with torch.no_grad():
        model.energy.phi_h.weight.mul_(20.0)  # make H_{t-1} matter visibly
        x = tiny_features(b=2, t=5, size=4)
        out = model(x)
        ref = _reference_forward(model, x)
    for got, want in zip(out, ref, strict=True):
        assert got.shape == want.shape
        assert torch.allclose(got, want, atol=1e-5), float((got - want).abs().max())


def test_batched_input_gates_equal_the_per_step_form():
    model = tiny_recognizer().eval()
    x = tiny_features(b=3, t=7, size=5)
    with torch.no_grad():
        model.fast = True
        built = model(x)
        model.fast = False
        step = model(x)
    for a, b in zip(built, step, strict=True):
        assert torch.allclose(a, b, atol=1e-5, rtol=0), float((a - b).abs().max())
    # the same in training mode (batch statistics) with gradients
    model.train()
    torch.manual_seed(5)
    model.fast = True
    g1 = model(x).logits
    torch.manual_seed(5)
    model.fast = False
    g2 = model(x).logits
    assert torch.allclose(g1, g2, atol=1e-5)


def test_additive_energy_weights_vary_with_t_and_rows_sum_to_one():
    model = tiny_recognizer().eval()
    with torch.no_grad():
        model.energy.phi_h.weight.mul_(20.0)
        out = model(tiny_features(b=2, t=8))
    w = out.temporal
    assert torch.allclose(w.sum(-1), torch.ones(2, 8), atol=1e-6)
    assert float(w.min()) >= 0.0
    spread = (w - w[:, :1, :]).abs().amax(dim=(1, 2))  # how far step t's row is from step 1's
    assert float(spread.min()) > 5e-4  # the scalar form stays within 1e-6 (next test)


def test_scalar_energy_weights_do_not_vary_with_t():
    model = tiny_recognizer(energy="scalar").eval()
    with torch.no_grad():
        model.energy.phi_h.weight.mul_(20.0)  # as strong as in the additive test: still no effect
        x = tiny_features(b=2, t=8)
        out = model(x)
        masked = x * out.mask[:, :, None]
        expected = torch.softmax(model.energy.phi_x(masked.mean(dim=(-2, -1))).squeeze(-1), dim=1)
    w = out.temporal
    assert torch.allclose(w, w[:, :1, :].expand_as(w), atol=1e-6)
    assert torch.allclose(w[:, 0], expected, atol=1e-6)  # w_ti = softmax_i(Phi_X(X~_i))
    assert float((w[:, 0] - 1 / 8).abs().max()) > 1e-3  # not uniform: it is the frames that vary
    doc = type(model.energy).__doc__
    assert "cancels in the softmax" in doc and "never depend on ``t``" in doc


def test_no_spatial_attention_means_a_mask_of_ones():
    model = tiny_recognizer(spatial_attention=False).eval()
    assert model.spatial is None
    assert not any(isinstance(m, SpatialAttention) for m in model.modules())
    with torch.no_grad():
        out = model(tiny_features(b=2, t=4))
    assert out.mask.shape == (2, 4, 5, 5) and torch.equal(out.mask, torch.ones_like(out.mask))


def test_no_temporal_attention_means_uniform_weights():
    model = tiny_recognizer(temporal_attention=False).eval()
    assert model.energy is None
    with torch.no_grad():
        out = model(tiny_features(b=2, t=4))
    assert torch.equal(out.temporal, torch.full((2, 4, 4), 0.25))


def test_one_frame_clip():
    model = tiny_recognizer().eval()
    with torch.no_grad():
        out = model(tiny_features(b=1, t=1))
    assert out.temporal.shape == (1, 1, 1) and float(out.temporal) == pytest.approx(1.0)


def test_channels_last_does_not_change_the_numbers():
    a = tiny_recognizer(channels_last=True).eval()
    b = tiny_recognizer(channels_last=False).eval()
    b.load_state_dict(a.state_dict())
    x = tiny_features()
    with torch.no_grad():
        for p, q in zip(a(x), b(x), strict=True):
            assert torch.allclose(p, q, atol=1e-5)


def test_bad_options_are_refused():
    with pytest.raises(AttnvizError, match="energy must be"):
        tiny_recognizer(energy="dot")
    with pytest.raises(AttnvizError, match="num_classes"):
        build_recognizer("resnet18", 0, features_only=True)
    with pytest.raises(AttnvizError, match="kernel"):
        tiny_recognizer(kernel=2)
    with pytest.raises(AttnvizError, match="class names"):
        tiny_recognizer(class_names=["a", "b"])


def test_phi_x_and_input_gates_are_computed_once_per_clip():
    model = tiny_recognizer().eval()
    calls = {"phi_x": 0, "phi_h": 0, "conv_x": 0}

    def counter(name):
        def hook(*_):
            calls[name] += 1

        return hook

    model.energy.phi_x.register_forward_hook(counter("phi_x"))
    model.energy.phi_h.register_forward_hook(counter("phi_h"))
    model.cell.conv_x.register_forward_hook(counter("conv_x"))
    with torch.no_grad():
        model(tiny_features(b=2, t=6))
    assert calls == {"phi_x": 1, "phi_h": 6, "conv_x": 1}  # one batch for all frames
    model.fast = False
    calls.update(phi_x=0, phi_h=0, conv_x=0)
    with torch.no_grad():
        model(tiny_features(b=2, t=6))
    assert calls == {"phi_x": 1, "phi_h": 6, "conv_x": 6}  # the per-step form
