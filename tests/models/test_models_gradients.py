"""Every parameter of the attention network receives a gradient (a published implementation of
this paper silently detached its attention from the gradient)."""

from __future__ import annotations

import torch
from models_helpers import tiny_features, tiny_recognizer

from attnviz.models import attention_loss, build_recognizer


def _check_all_nonzero(model, names):
    missing = []
    for name, p in model.named_parameters():
        if not name.startswith(names):
            continue
        if p.grad is None or float(p.grad.abs().max()) == 0.0:
            missing.append(name)
    assert not missing, f"no gradient for {missing}"


def test_every_attention_parameter_gets_a_gradient():
    model = tiny_recognizer().train()
    out = model(tiny_features(b=2, t=5))
    attention_loss(out, torch.tensor([0, 3])).total.backward()
    parts = ("spatial.", "energy.", "cell.", "init_h.", "init_c.", "classifier.")
    _check_all_nonzero(model, parts)
    count = sum(1 for n, _ in model.named_parameters() if n.startswith(parts))
    assert count == sum(1 for _ in model.parameters())  # no backbone here: that is all of them
    assert count >= 20


def test_regularisers_alone_reach_the_attention():
    """TV and contrast train the mask, the unimodal term the temporal energy."""
    model = tiny_recognizer().train()
    out = model(tiny_features(b=2, t=5))
    terms = attention_loss(out, torch.tensor([0, 3]))
    (terms.tv + terms.contrast).backward(retain_graph=True)
    _check_all_nonzero(model, ("spatial.",))
    model.zero_grad()
    unimodal = terms.unimodal
    assert float(unimodal.detach()) > 0.0  # random weights are not log-concave: the term is active
    unimodal.backward()
    _check_all_nonzero(model, ("energy.",))


def test_gradient_reaches_the_backbone_from_frames():
    torch.manual_seed(0)
    model = build_recognizer(
        "resnet18", 3, random_init=True, hidden_channels=8, spatial_widths=(16, 8), energy_dim=8
    ).train()
    out = model(torch.randn(2, 3, 3, 64, 64))
    attention_loss(out, torch.tensor([0, 2])).total.backward()
    _check_all_nonzero(model, ("backbone.0.", "backbone.7.", "spatial.", "energy.", "cell."))
