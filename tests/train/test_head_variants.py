"""The head variants the synthetic default model uses (max pooling of H_bar, eq. 4 without
the 1/n, forget-gate bias): defaults unchanged, stored in the configuration, and the fast and
straightforward forms agree."""

from __future__ import annotations

import pytest
import torch

from attnviz.errors import AttnvizError
from attnviz.models import build_recognizer, load_checkpoint, save_checkpoint


def _model(**kw):
    torch.manual_seed(0)
    return build_recognizer(
        "resnet18",
        4,
        features_only=True,
        backbone_stage=1,
        hidden_channels=6,
        kernel=1,
        spatial_widths=(6, 3),
        energy_dim=5,
        dropout=0.0,
        **kw,
    ).eval()


def test_defaults_leave_the_config_as_before():
    cfg = _model().config
    assert "pool" not in cfg and "scale_by_n" not in cfg and "forget_bias" not in cfg


@pytest.mark.parametrize(
    "kw",
    [
        {"pool": "max"},
        {"scale_by_n": False},
        {"forget_bias": 1.0},
        {"pool": "max", "scale_by_n": False, "forget_bias": 1.0},
    ],
)
def test_fast_and_stepwise_forms_agree_and_config_round_trips(kw, tmp_path):
    m = _model(**kw)
    x = torch.rand(2, 5, 64, 4, 4)
    with torch.no_grad():
        a = m(x)
        m.fast = False
        b = m(x)
    torch.testing.assert_close(a.logits, b.logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(a.temporal, b.temporal, rtol=1e-4, atol=1e-6)
    save_checkpoint(tmp_path / "m.pt", m)
    loaded, info = load_checkpoint(tmp_path / "m.pt")
    for k, v in kw.items():
        assert info["config"][k] == v
    loaded.fast = True
    with torch.no_grad():
        torch.testing.assert_close(loaded(x).logits, a.logits)


def test_variants_change_what_they_say():
    x = torch.rand(2, 5, 64, 4, 4)
    base = _model()
    assert torch.equal(_model(forget_bias=1.0).cell.bias[6:12], base.cell.bias[6:12] + 1)
    with torch.no_grad():
        assert not torch.allclose(_model(scale_by_n=False)(x).logits, base(x).logits)
    with pytest.raises(AttnvizError, match="pool"):
        _model(pool="median")


def test_max_pooling_feeds_the_grid_maximum_to_the_classifier():
    m = _model(pool="max")
    x = torch.rand(1, 5, 64, 4, 4)
    seen = []
    m.dropout.register_forward_hook(lambda mod, inp, out: seen.append(inp[0]))
    with torch.no_grad():
        out = m(x)
        m.pool = "avg"  # same weights, same H_bar: only the pooling differs
        m(x)
        torch.testing.assert_close(out.logits, m.classifier(seen[0]))
    assert seen[0].shape == (1, 6)
    assert (seen[0] >= seen[1]).all() and not torch.equal(seen[0], seen[1])  # max >= mean
