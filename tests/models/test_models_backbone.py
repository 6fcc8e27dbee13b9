"""Backbone: torchvision ResNets cut after the last conv block, weights from a local file or the
torch hub cache (never downloaded), random init only when asked, cached features accepted."""

from __future__ import annotations

import pytest
import torch
import torchvision
from models_helpers import tiny_recognizer

from attnviz.errors import AttnvizError
from attnviz.models import build_backbone, build_recognizer, imagenet_weights_path

EXPECTED = {
    "resnet18": 512,
    "resnet34": 512,
    "resnet50": 2048,
    "resnet101": 2048,
    "resnet152": 2048,
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_resnet_ends_at_its_last_conv_block(name):
    torch.manual_seed(0)
    trunk, channels = build_backbone(name, weights=None, random_init=True)
    assert channels == EXPECTED[name]
    # the trunk stops at layer4: no pooling, no classifier
    assert not any(isinstance(m, (torch.nn.Linear, torch.nn.AdaptiveAvgPool2d)) for m in trunk)
    side = 32 if name == "resnet152" else 64  # stride 32: 1x1 and 2x2 maps
    with torch.no_grad():
        out = trunk.eval()(torch.randn(1, 3, side, side))
    assert out.shape == (1, channels, side // 32, side // 32)


def test_resnet50_at_224_gives_2048x7x7():
    torch.manual_seed(0)
    trunk, channels = build_backbone("resnet50", weights=None, random_init=True)
    with torch.no_grad():
        out = trunk.eval()(torch.randn(1, 3, 224, 224))
    assert (channels, *out.shape[1:]) == (2048, 2048, 7, 7)


def test_earlier_stage_cut():
    trunk, channels = build_backbone("resnet18", weights=None, random_init=True, stage=2)
    with torch.no_grad():
        out = trunk.eval()(torch.randn(1, 3, 64, 64))
    assert channels == 128 and out.shape == (1, 128, 8, 8)


def _reference_resnet18():
    torch.manual_seed(123)
    return torchvision.models.resnet18(weights=None)


def test_imagenet_weights_come_from_the_torch_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ref = _reference_resnet18()
    path = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert imagenet_weights_path("resnet18") == path
    path.parent.mkdir(parents=True)
    torch.save(ref.state_dict(), path)  # fc.* included, as in torchvision's file
    trunk, _ = build_backbone("resnet18")  # weights="imagenet" is the default
    got = trunk.state_dict()
    assert torch.equal(got["0.weight"], ref.conv1.weight)
    assert torch.equal(got["7.1.bn2.running_var"], ref.layer4[1].bn2.running_var)
    x = torch.randn(1, 3, 64, 64)
    ref_trunk = torch.nn.Sequential(*list(ref.children())[:-2]).eval()
    with torch.no_grad():
        assert torch.allclose(trunk.eval()(x), ref_trunk(x), atol=1e-6)


def test_resnet50_v2_file_in_the_cache_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    v1 = imagenet_weights_path("resnet50")
    v2 = tmp_path / "hub" / "checkpoints" / "resnet50-11ad3fa6.pth"
    assert v1.name == "resnet50-0676ba61.pth" and not v1.exists()
    v2.parent.mkdir(parents=True)
    v2.touch()
    assert imagenet_weights_path("resnet50") == v2


def test_weights_from_a_local_file(tmp_path):
    ref = _reference_resnet18()
    path = tmp_path / "my_resnet18.pth"
    torch.save({"state_dict": ref.state_dict()}, path)  # wrapped state dicts are accepted
    model = build_recognizer(
        "resnet18", 3, weights=path, hidden_channels=8, spatial_widths=(16, 8), energy_dim=8
    )
    assert torch.equal(model.backbone[0].weight, ref.conv1.weight)


def test_missing_weights_error_names_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(AttnvizError) as err:
        build_recognizer("resnet18", 3)
    msg = str(err.value)
    assert "resnet18-f37072fd.pth" in msg
    assert str(tmp_path / "hub" / "checkpoints") in msg
    assert "TORCH_HOME" in msg and "(random_init)" in msg  # the library names the parameter
    from attnviz.cli._app import flag

    assert "(--random-init)" in err.value.render(flag)  # the command line, the flag
    with pytest.raises(AttnvizError, match="no_such.pth: backbone weights file not found"):
        build_backbone("resnet18", weights=tmp_path / "no_such.pth")


def test_random_init_only_when_asked():
    with pytest.raises(AttnvizError, match=r"\(random_init\)"):
        build_backbone("resnet18", weights=None)
    with pytest.raises(AttnvizError, match="contradict"):
        build_backbone("resnet18", weights="some_file.pth", random_init=True)
    trunk, _ = build_backbone("resnet18", weights=None, random_init=True)
    assert isinstance(trunk, torch.nn.Sequential)


class Payload:
    """Any object that is not a tensor: weights_only loading refuses to rebuild it."""


def test_unreadable_or_unfitting_weights_are_refused(tmp_path):
    bad = tmp_path / "pickled.pth"
    torch.save({"conv1.weight": Payload()}, bad)
    with pytest.raises(AttnvizError, match="pickled.pth: cannot read ImageNet weights"):
        build_backbone("resnet18", weights=bad)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a torch file")
    with pytest.raises(AttnvizError, match="garbage.pth: cannot read"):
        build_backbone("resnet18", weights=garbage)
    other = tmp_path / "r18.pth"
    torch.save(_reference_resnet18().state_dict(), other)
    with pytest.raises(AttnvizError, match="r18.pth: weights do not fit resnet34"):
        build_backbone("resnet34", weights=other)
    wrong = _reference_resnet18().state_dict()
    wrong["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    torch.save(wrong, tmp_path / "shape.pth")
    with pytest.raises(AttnvizError, match=r"shape.pth: weights do not fit resnet18 \(.*layer1"):
        build_backbone("resnet18", weights=tmp_path / "shape.pth")
    not_a_state = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], not_a_state)
    with pytest.raises(AttnvizError, match="not a ResNet state_dict"):
        build_backbone("resnet18", weights=not_a_state)


def test_unknown_backbone_or_stage():
    with pytest.raises(AttnvizError, match="unknown backbone 'vgg16'"):
        build_recognizer("vgg16", 3, random_init=True)
    with pytest.raises(AttnvizError, match="stage must be 1..4"):
        build_recognizer("resnet18", 3, features_only=True, backbone_stage=0)


def test_frames_and_cached_features_give_the_same_output():
    torch.manual_seed(0)
    model = build_recognizer(
        "resnet18", 4, random_init=True, hidden_channels=8, spatial_widths=(16, 8), energy_dim=8
    ).eval()
    frames = torch.randn(1, 3, 3, 64, 64)
    with torch.no_grad():
        from_frames = model(frames)
        feats = model.extract_features(frames[0])[None]
        from_feats = model(feats)
    assert feats.shape == (1, 3, 512, 2, 2)
    assert from_frames.mask.shape == (1, 3, 2, 2)
    for a, b in zip(from_frames, from_feats, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_features_only_model_takes_features_and_refuses_frames():
    model = tiny_recognizer().eval()
    with torch.no_grad():
        out = model(torch.rand(2, 4, 64, 3, 3))
        half = model(torch.rand(2, 4, 64, 3, 3).half())  # e.g. a float16 feature cache
    assert out.logits.shape == (2, 5) and half.logits.dtype == torch.float32
    with pytest.raises(AttnvizError, match="no backbone"):
        model(torch.rand(1, 2, 3, 32, 32))
    with pytest.raises(AttnvizError, match=r"features must be \[B, T, 64, h, w\]"):
        model(torch.rand(1, 2, 32, 3, 3))
    with pytest.raises(AttnvizError, match="input must be"):
        model(torch.rand(2, 64, 3, 3))
