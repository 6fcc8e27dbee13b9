"""Tiny models and feature datasets for the engine tests (seconds on one core)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from attnviz.models import build_recognizer

T, C, H = 5, 64, 4  # frames, channels of resnet18's layer1, feature grid


class RandomFeatures(Dataset):
    """``n`` videos of random features whose class is written into a corner of the grid during
    a few frames (learnable), returned as ``(x, label, index)``."""

    def __init__(self, n: int = 24, classes: int = 3, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, T, C, H, H, generator=g)
        self.y = torch.arange(n) % classes
        for i in range(n):
            self.x[i, 1:3, int(self.y[i]) * 8 : int(self.y[i]) * 8 + 8, 0, 0] += 3.0

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], int(self.y[i]), i


def tiny_model(classes: int = 3, seed: int = 0, **kw):
    torch.manual_seed(seed)
    return build_recognizer(
        "resnet18",
        classes,
        features_only=True,
        backbone_stage=1,
        hidden_channels=8,
        kernel=1,
        spatial_widths=(8, 4),
        energy_dim=8,
        dropout=0.2,
        **kw,
    )
