"""Frame feature extractor: a torchvision ResNet cut after its last convolutional block.

``weights="imagenet"`` is never downloaded: it comes from a local file or from the torch hub cache
(``$TORCH_HOME/hub/checkpoints/<torchvision file name>``), where ``torchvision`` itself would
have stored them. When neither exists, :func:`build_backbone` raises an error that names the exact
path to put the file at. A torchvision weights name (``weights="IMAGENET1K_V2"``) behaves as
torchvision's: read from the cache, else downloaded into it with a progress bar where there is a
network. Random initialisation happens only when asked for (``random_init=True``).
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
    "feature_channels",
    "feature_grid_offset",
    "imagenet_weights_candidates",
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


def _check_stage(stage: int) -> None:
    if stage not in (1, 2, 3, 4):
        raise AttnvizError(f"backbone stage must be 1..4, got {stage}")


def feature_channels(name: str, stage: int = 4) -> int:
    """Channels C of backbone ``name`` cut after ``layer{stage}`` (2048 for ResNet-50, stage 4)."""
    _check_name(name)
    _check_stage(stage)
    return BACKBONES[name][2][stage - 1]


def feature_grid_offset(stage: int = 4) -> float:
    """Where a torchvision ResNet cut after ``layer{stage}`` centres its feature cells, in cells,
    relative to the bilinear convention (cell ``i`` on input pixel ``(i + 0.5) * S - 0.5`` for
    stride ``S = 2 ** (stage + 1)``).

    The stem (7x7 stride 2, padding 3; 3x3 max-pool stride 2, padding 1) and every stride-2
    3x3 convolution with padding 1 (or 1x1 without) keep output ``j`` centred on input
    ``2 j``, so cell ``i`` is centred on input pixel ``S * i``: ``0.5 / S - 0.5`` cells
    (-0.4375 after ``layer2``, -0.484375 after ``layer4``). The masks' boxes are placed with it
    (:attr:`attnviz.types.AttentionOutput.grid_offset`); without it every box lies
    ``S / 2 - 0.5`` input pixels right of and below where the network looked.
    """
    _check_stage(stage)
    stride = 2 ** (int(stage) + 1)
    return 0.5 / stride - 0.5


def imagenet_weights_candidates(name: str) -> list[Path]:
    """Every file of torchvision's ImageNet weights for ``name`` in the torch hub cache
    (``torch.hub.get_dir()/checkpoints/``), ``IMAGENET1K_V1`` first, then ``V2`` where
    torchvision has one. The cache directory follows ``$TORCH_HOME`` at call time."""
    _check_name(name)
    enum = getattr(torchvision.models, BACKBONES[name][1])
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    return [folder / os.path.basename(w.url) for w in enum]


def imagenet_weights_path(name: str) -> Path:
    """Where the ImageNet weights of backbone ``name`` are read from: the first existing file of
    :func:`imagenet_weights_candidates`, else the ``IMAGENET1K_V1`` file name (the place to put
    it)."""
    candidates = imagenet_weights_candidates(name)
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0]


def _load_state(
    path: Path, what: str = "ImageNet weights", expected: str = "a ResNet state_dict"
) -> dict[str, torch.Tensor]:
    """The tensors of a weights file (``torch.load(..., weights_only=True)``; a ``state_dict``
    or ``model`` entry is unwrapped and DDP's ``module.`` prefix dropped)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file or a pickle that weights_only refuses
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise AttnvizError(
            f"{path}: cannot read {what} ({exc.__class__.__name__}: {first})"
        ) from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise AttnvizError(f"{path}: not {expected} (expected a mapping name -> tensor)")
    return {k.removeprefix("module."): v for k, v in state.items()}


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
        weights: ``"imagenet"`` (torchvision's file in the torch hub cache, see
            :func:`imagenet_weights_candidates`), a torchvision weights name (``DEFAULT``,
            ``IMAGENET1K_V1``, ``IMAGENET1K_V2``: as ``torchvision.models.resnet50(weights=...)``
            does, read from the torch hub cache or downloaded into it where there is a network;
            without either, an error naming the file and the folder), a path to a torchvision
            ResNet state_dict file,
            or ``None`` together with ``random_init=True``. Read with ``weights_only=True``; the
            classifier (``fc.*``) entries are ignored.
        random_init: explicitly ask for random initialisation (no file is read). Giving a weights
            file as well is an error.
        stage: cut after ``layer1`` .. ``layer4``; ``4`` gives 2048x7x7 for ResNet-50 at 224x224.

    Returns:
        (trunk, channels): ``trunk(frames [N, 3, H, W]) -> [N, channels, ceil(H/s), ceil(W/s)]``
        with ``s = 32`` for ``stage=4`` (``s = 4 * 2**(stage-1)``).

    Raises:
        AttnvizError: unknown name or stage, weights missing (the message names the path where
            the file is expected), unreadable, or not fitting the architecture.
    """
    _check_name(name)
    _check_stage(stage)
    ctor, _, channels = BACKBONES[name]
    if random_init:
        if weights is not None and str(weights) != "imagenet":
            raise AttnvizError(
                f"backbone {name}: random_init=True and weights={str(weights)!r} contradict each "
                "other; pass one of them"
            )
    elif weights is None:
        raise AttnvizError(
            "no backbone weights given: use ImageNet weights or a weights file ({weights} "
            "imagenet|FILE), or train from scratch ({random_init})",
            params=("weights", "random_init"),
        )
    net = ctor(weights=None)
    enum_names = {"DEFAULT", *(e.name for e in getattr(torchvision.models, BACKBONES[name][1]))}
    if not random_init and str(weights) in enum_names:  # torchvision's API: cache or download
        from attnviz.models.video_model import resolve_video_weights

        state, entry = resolve_video_weights(name, str(weights))
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, unexpected = net.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise AttnvizError(
                f"{name} {entry.name}: weights do not fit (missing {missing[:3]}, unexpected "
                f"{unexpected[:3]})"
            )
    elif not random_init:
        if str(weights) == "imagenet":
            path = imagenet_weights_path(name)
            if not path.is_file():
                names = " or ".join(p.name for p in imagenet_weights_candidates(name))
                raise AttnvizError(
                    f"ImageNet weights for {name} not found: put torchvision's {names} into "
                    f"{path.parent} (the torch hub cache; set TORCH_HOME to use another one), "
                    "give a weights file ({weights} FILE), or train from scratch ({random_init})",
                    params=("weights", "random_init"),
                )
        else:
            path = Path(weights).expanduser()
            if not path.is_file():
                raise AttnvizError(f"{path}: backbone weights file not found")
        state = _load_state(path)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        try:
            missing, unexpected = net.load_state_dict(state, strict=False)
        except RuntimeError as exc:  # a shape mismatch
            first = str(exc).strip().splitlines()
            detail = first[1].strip() if len(first) > 1 else first[0]
            raise AttnvizError(f"{path}: weights do not fit {name} ({detail})") from None
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
