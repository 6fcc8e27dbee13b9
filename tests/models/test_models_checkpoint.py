"""Checkpoints: the configuration travels with the weights, loading is weights_only."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torchvision
from models_helpers import TINY, tiny_features, tiny_recognizer

from attnviz.errors import AttnvizError
from attnviz.models import load_checkpoint, save_checkpoint


def _trained_a_little(model):
    """One optimiser step so that weights, BN statistics and optimiser state are not initial."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    out = model(tiny_features(b=2, t=4))
    torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 1])).backward()
    opt.step()
    return opt


def test_round_trip_rebuilds_the_model_by_itself(tmp_path):
    model = tiny_recognizer(energy="scalar", class_names=list("abcde"), dropout=0.2)
    opt = _trained_a_little(model)
    path = save_checkpoint(tmp_path / "m.pt", model, optimizer=opt, epoch=3, extra={"acc": 0.5})
    assert path == tmp_path / "m.pt" and not [p for p in tmp_path.iterdir() if p != path]
    loaded, info = load_checkpoint(path)
    assert not loaded.training
    assert loaded.config == model.config
    assert info["config"]["energy"] == "scalar" and info["config"]["hidden_channels"] == 8
    assert info["class_names"] == tuple("abcde") == loaded.class_names
    assert info["epoch"] == 3 and info["extra"] == {"acc": 0.5}
    assert info["optimizer"]["state"]  # resumable
    for (k, a), (k2, b) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert k == k2 and torch.equal(a, b), k
    model.eval()
    x = tiny_features(b=2, t=5)
    with torch.no_grad():
        for a, b in zip(model(x), loaded(x), strict=True):
            assert torch.equal(a, b)
    opt2 = torch.optim.Adam(loaded.parameters(), lr=1e-2)
    opt2.load_state_dict(info["optimizer"])


def test_half_precision_storage(tmp_path):
    model = tiny_recognizer().eval()
    save_checkpoint(tmp_path / "h.pt", model, half=True)
    loaded, _ = load_checkpoint(tmp_path / "h.pt")
    w = loaded.cell.conv_h.weight
    assert w.dtype == torch.float32
    assert torch.allclose(w, model.cell.conv_h.weight, atol=1e-3)


def test_model_with_backbone_round_trip(tmp_path):
    from attnviz.models import build_recognizer

    torch.manual_seed(0)
    model = build_recognizer(
        "resnet18", 2, random_init=True, hidden_channels=8, spatial_widths=(16, 8), energy_dim=8
    ).eval()
    save_checkpoint(tmp_path / "b.pt", model)
    loaded, info = load_checkpoint(tmp_path / "b.pt")  # no ImageNet file needed to rebuild
    assert info["config"]["features_only"] is False and loaded.backbone is not None
    assert torch.equal(loaded.backbone[0].weight, model.backbone[0].weight)


class Marker:
    """Pickles into a call of os.mkdir: loading it with plain pickle would create a folder."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_crafted_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "attnviz-checkpoint", "config": Marker(str(marker))}, evil)
    with pytest.raises(AttnvizError, match=r"evil.pt: not a loadable attnviz checkpoint \(refused"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_checkpoint_of_another_model_is_refused(tmp_path):
    other = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), other)
    with pytest.raises(AttnvizError, match="resnet.pth: not an attnviz checkpoint"):
        load_checkpoint(other)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(AttnvizError, match="notes.pt: not a loadable attnviz checkpoint"):
        load_checkpoint(text)
    with pytest.raises(AttnvizError, match="missing.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_inconsistent_checkpoints_are_refused(tmp_path):
    model = tiny_recognizer()
    path = save_checkpoint(tmp_path / "m.pt", model)
    payload = torch.load(path, weights_only=True)
    payload["config"] = {**payload["config"], "hidden_channels": 16}  # weights are for 8
    torch.save(payload, tmp_path / "wrong.pt")
    with pytest.raises(AttnvizError, match="wrong.pt: checkpoint does not match its configuration"):
        load_checkpoint(tmp_path / "wrong.pt")
    payload["config"] = {**TINY, "backbone": "vgg"}
    torch.save(payload, tmp_path / "vgg.pt")
    with pytest.raises(AttnvizError, match="does not match its configuration.*unknown backbone"):
        load_checkpoint(tmp_path / "vgg.pt")
    del payload["state_dict"]
    torch.save(payload, tmp_path / "nostate.pt")
    with pytest.raises(AttnvizError, match="nostate.pt: checkpoint has no 'state_dict'"):
        load_checkpoint(tmp_path / "nostate.pt")
    payload["version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(AttnvizError, match="future.pt: checkpoint format version 99"):
        load_checkpoint(tmp_path / "future.pt")


def test_unstorable_extra_is_refused_before_writing(tmp_path):
    model = tiny_recognizer()
    with pytest.raises(AttnvizError, match=r"extra\['hist'\]: ndarray cannot be stored"):
        save_checkpoint(tmp_path / "x.pt", model, extra={"hist": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(AttnvizError, match="only save a model built by build_recognizer"):
        save_checkpoint(tmp_path / "y.pt", torch.nn.Linear(2, 2))
    assert list(tmp_path.iterdir()) == []
