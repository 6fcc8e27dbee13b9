"""The paper's attention components (Sec. 3.2-3.3): spatial importance mask (Table 1),
temporal attention energies (eq. 2), the ConvLSTM cell and its state initialisation (eq. 5)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "AdditiveEnergy",
    "ConvLSTMCell",
    "ScalarEnergy",
    "SpatialAttention",
    "StateInit",
]


class SpatialAttention(nn.Module):
    """Importance mask of Table 1: conv3x3 C->1024, BN, ReLU; conv3x3 1024->512, BN, ReLU;
    conv3x3 512->1, sigmoid.

    ``forward(x [N, C, h, w]) -> mask [N, 1, h, w]`` in [0, 1]. The widths (1024, 512) are the
    paper's; ``widths`` changes them for small models.
    """

    def __init__(self, in_channels: int, widths: tuple[int, int] = (1024, 512)) -> None:
        super().__init__()
        w1, w2 = widths
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w1, 3, 1, 1, bias=False),
            nn.BatchNorm2d(w1),
            nn.ReLU(inplace=True),
            nn.Conv2d(w1, w2, 3, 1, 1, bias=False),
            nn.BatchNorm2d(w2),
            nn.ReLU(inplace=True),
            nn.Conv2d(w2, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(x))


class AdditiveEnergy(nn.Module):
    """Additive attention energy (Bahdanau et al., the paper's reference [1]):
    ``e_ti = v^T tanh(Phi_H(H_{t-1}) + Phi_X(X~_i))`` with vector-valued ``Phi``.

    ``Phi_X`` and ``Phi_H`` are linear maps of the globally average-pooled feature / hidden
    state to ``dim`` units. ``Phi_X`` does not depend on t: :meth:`project_frames` computes it
    once per clip and :meth:`forward` reuses it at every step.
    """

    def __init__(self, feature_channels: int, hidden_channels: int, dim: int = 256) -> None:
        super().__init__()
        self.phi_x = nn.Linear(feature_channels, dim)
        self.phi_h = nn.Linear(hidden_channels, dim, bias=False)
        self.v = nn.Linear(dim, 1, bias=False)

    def project_frames(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, C, h, w]`` masked features -> ``Phi_X [B, T, dim]``."""
        return self.phi_x(x.mean(dim=(-2, -1)))

    def forward(self, phi_x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``phi_x [B, T, dim]``, ``h [B, hidden, h, w]`` -> energies ``e [B, T]`` at one step."""
        ph = self.phi_h(h.mean(dim=(-2, -1)))  # [B, dim]
        return self.v(torch.tanh(phi_x + ph[:, None, :])).squeeze(-1)


class ScalarEnergy(nn.Module):
    """The literal reading of eq. 2: ``e_ti = Phi_H(H_{t-1}) + Phi_X(X~_i)`` with scalar outputs.

    This form degenerates: ``Phi_H(H_{t-1})`` is the same number for every frame ``i`` at step
    ``t``, and a constant added to every logit cancels in the softmax of eq. 3. The weights
    ``w_ti = softmax_i(Phi_X(X~_i))`` therefore never depend on ``t`` (every row of the
    ``[T, T]`` matrix is the same) and the hidden state has no influence on where the model
    looks. It is offered for ablations and comparison only; the default is
    :class:`AdditiveEnergy`.
    """

    def __init__(self, feature_channels: int, hidden_channels: int, dim: int = 256) -> None:
        super().__init__()
        del dim
        self.phi_x = nn.Linear(feature_channels, 1)
        self.phi_h = nn.Linear(hidden_channels, 1, bias=False)

    def project_frames(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, C, h, w]`` -> ``Phi_X [B, T, 1]``."""
        return self.phi_x(x.mean(dim=(-2, -1)))

    def forward(self, phi_x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``phi_x [B, T, 1]``, ``h [B, hidden, h, w]`` -> energies ``e [B, T]``."""
        return phi_x.squeeze(-1) + self.phi_h(h.mean(dim=(-2, -1)))


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell (Shi et al. 2015) with ``kernel x kernel`` gate convolutions.

    Gates ``[i, f, o, g] = W_x * Y + W_h * H + b``; ``C' = f C + i g``; ``H' = o tanh(C')``.
    ``W_x`` (``conv_x``, no bias) and the bias ``b`` are kept apart so that the input-to-gate
    convolution can be applied to every frame once and mixed by the attention weights
    (``W_x * Y_t = (1/n) sum_i w_ti (W_x * X~_i)``, linearity).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel: int = 3) -> None:
        super().__init__()
        pad = kernel // 2
        self.hidden_channels = hidden_channels
        self.conv_x = nn.Conv2d(in_channels, 4 * hidden_channels, kernel, 1, pad, bias=False)
        self.conv_h = nn.Conv2d(hidden_channels, 4 * hidden_channels, kernel, 1, pad, bias=False)
        self.bias = nn.Parameter(torch.zeros(4 * hidden_channels))

    def step(
        self, x_gates: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One update from precomputed input gates ``x_gates = W_x * Y`` ``[B, 4*hid, h, w]``."""
        gates = x_gates + self.conv_h(h) + self.bias[None, :, None, None]
        i, f, o, g = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def forward(
        self, y: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``y [B, C, h, w]`` input, ``(h, c)`` state -> new ``(h, c)``."""
        return self.step(self.conv_x(y), h, c)


class StateInit(nn.Module):
    """``g_c`` / ``g_h`` of eq. 5: two conv layers with batch normalisation on the mean masked
    feature ``(1/n) sum_i X~_i`` ``[B, C, h, w] -> [B, hidden, h, w]``."""

    def __init__(self, in_channels: int, hidden_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, hidden_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(hidden_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_channels, hidden_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(hidden_channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
