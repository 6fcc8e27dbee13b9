"""Small models for the model tests: the paper's structure with narrow widths (fast on CPU).

A module of its own (not conftest) so that test files import it by a name no other test folder
uses."""

from __future__ import annotations

import torch

from attnviz.models import build_recognizer

#: ResNet-18 cut after layer1: 64 feature channels; narrow attention and ConvLSTM.
TINY = {
    "backbone": "resnet18",
    "num_classes": 5,
    "features_only": True,
    "backbone_stage": 1,
    "hidden_channels": 8,
    "spatial_widths": (16, 8),
    "energy_dim": 8,
}


def tiny_recognizer(**overrides):
    """A features-only recognizer over 64-channel features, seeded."""
    torch.manual_seed(0)
    options = {**TINY, **overrides}
    return build_recognizer(options.pop("backbone"), options.pop("num_classes"), **options)


def tiny_features(b: int = 2, t: int = 6, size: int = 5, seed: int = 1) -> torch.Tensor:
    """Non-negative features like a ResNet's after ReLU: ``[b, t, 64, size, size]``."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, t, 64, size, size, generator=g) * 2.0
