"""Frame feature extractor: a torchvision ResNet cut after its last convolutional block.

ImageNet weights are never downloaded: they come from a local file or from the torch hub cache
(``$TORCH_HOME/hub/checkpoints/<torchvision file name>``), where ``torchvision`` itself would
have stored them. When neither exists, :func:`build_backbone` raises an error that names the exact
path to put the file at.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torchvision
from torch import nn

from attnviz.errors import AttnvizError

__all__ = [
    "BACKBONES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "build_backbone",
    "imagenet_weights_path",
]

#: ImageNet normalisation (RGB, images scaled to [0, 1]) that every torchvision ResNet expects.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: name -> (constructor, weights enum, channels after layer1..layer4)
BACKBONES = {
    "resnet18": (torchvision.models.resnet18, "ResNet18_Weights", (64, 128, 256, 512)),
    "resnet34": (torchvision.models.resnet34, "ResNet34_Weights", (64, 128, 256, 512)),
    "resnet50": (torchvision.models.resnet50, "ResNet50_Weights", (256, 512, 1024, 2048)),
    "resnet101": (torchvision.models.resnet101, "ResNet101_Weights", (256, 512, 1024, 2048)),
    "resnet152": (torchvision.models.resnet152, "ResNet152_Weights", (256, 512, 1024, 2048)),
}


def _check_name(name: str) -> None:
    if name not in BACKBONES:
        raise AttnvizError(f"unknown backbone {name!r}: expected one of {', '.join(BACKBONES)}")


def imagenet_weights_path(name: str) -> Path:
    """Where torchvision's ImageNet weights of backbone ``name`` live in the torch hub cache
    (``torch.hub.get_dir()/checkpoints/<file name of IMAGENET1K_V1>``)."""
    _check_name(name)
    enum = getattr(torchvision.models, BACKBONES[name][1])
    url = enum.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _load_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file or a pickle that weights_only refuses
        raise AttnvizError(
            f"{path}: cannot read ImageNet weights ({exc.__class__.__name__}: {exc})"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise AttnvizError(f"{path}: not a ResNet state_dict (expected a mapping name -> tensor)")
    return state


def build_backbone(
    name: str,
    *,
    weights: str | os.PathLike[str] | None = "imagenet",
    random_init: bool = False,
    stage: int = 4,
) -> tuple[nn.Sequential, int]:
    """A ResNet trunk from the stem to ``layer{stage}`` (``stage=4``: the last conv block).

    Args:
        name: ``resnet18`` / ``resnet34`` / ``resnet50`` / ``resnet101`` / ``resnet152``.
        weights: ``"imagenet"`` (torch hub cache, see :func:`imagenet_weights_path`), a path to a
            torchvision state_dict file, or ``None`` together with ``random_init=True``.
        random_init: explicitly ask for random initialisation (no weights are read).
        stage: cut after ``layer1`` .. ``layer4``; ``4`` gives 2048x7x7 for ResNet-50 at 224x224.

    Returns:
        (trunk, channels): ``trunk(frames [N, 3, H, W]) -> [N, channels, H/s, W/s]`` with
        ``s = 32`` for ``stage=4``.
    """
    _check_name(name)
    if stage not in (1, 2, 3, 4):
        raise AttnvizError(f"backbone stage must be 1..4, got {stage}")
    ctor, _, channels = BACKBONES[name]
    net = ctor(weights=None)
    if not random_init:
        if weights is None:
            raise AttnvizError(
                "no backbone weights given: pass weights='imagenet' or a file, or random_init=True "
                "to train from scratch"
            )
        path = imagenet_weights_path(name) if str(weights) == "imagenet" else Path(weights)
        if not path.is_file():
            raise AttnvizError(
                f"ImageNet weights for {name} not found at {path}: put torchvision's "
                f"{path.name} there (or set TORCH_HOME), pass weights=<file>, or "
                "random_init=True"
            )
        state = _load_state(path)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, unexpected = net.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise AttnvizError(
                f"{path}: weights do not fit {name} (missing {missing[:3]}, unexpected "
                f"{unexpected[:3]})"
            )
    layers = [net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3]
    layers += [net.layer4]
    trunk = nn.Sequential(*layers[: 4 + stage])
    return trunk, channels[stage - 1]
