"""The paper's attention components (Sec. 3.2-3.3): spatial importance mask (Table 1),
temporal attention energies (eq. 2), the ConvLSTM cell and its state initialisation (eq. 5)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from attnviz.errors import AttnvizError

__all__ = [
    "AdditiveEnergy",
    "ConvLSTMCell",
    "ScalarEnergy",
    "SpatialAttention",
    "StateInit",
]


class SpatialAttention(nn.Module):
    """Importance mask of Table 1: conv3x3 C->1024, BN, ReLU; conv3x3 1024->512, BN, ReLU;
    conv3x3 512->1, sigmoid (all stride 1, padding 1).

    ``forward(x [N, C, h, w]) -> mask [N, 1, h, w]`` in [0, 1]; eq. 1 is ``x * mask``. The widths
    (1024, 512) are the paper's; ``widths`` changes them for small models. ``kernels`` (paper:
    3, 3, 3; odd, "same" padding) sets each convolution's size: three 3x3 layers let the mask of
    a cell depend on features up to 3 cells away, which widens it around the actor by as much;
    1x1 layers make the mask a function of each cell's features alone. The two convolutions
    followed by batch normalisation have no bias of their own: batch normalisation subtracts
    the per-channel mean, so such a bias would cancel and never receive a gradient.
    """

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, int] = (1024, 512),
        kernels: tuple[int, int, int] = (3, 3, 3),
    ) -> None:
        super().__init__()
        w1, w2 = widths
        k1, k2, k3 = (int(k) for k in kernels)
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, w1, k1, 1, k1 // 2, bias=False),
            nn.BatchNorm2d(w1),
            nn.ReLU(inplace=True),
            nn.Conv2d(w1, w2, k2, 1, k2 // 2, bias=False),
            nn.BatchNorm2d(w2),
            nn.ReLU(inplace=True),
            nn.Conv2d(w2, 1, k3, 1, k3 // 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(x))


def _float32(x: torch.Tensor):
    """A context in which ``x``'s device computes in float32 even under autocast."""
    return torch.autocast(x.device.type, enabled=False)


class AdditiveEnergy(nn.Module):
    """Additive attention energy (Bahdanau et al., the paper's reference [1]):
    ``e_ti = v^T tanh(Phi_H(H_{t-1}) + Phi_X(X~_i))`` with vector-valued ``Phi``.

    ``Phi_X`` and ``Phi_H`` are linear maps of the globally average-pooled masked feature /
    hidden state to ``dim`` units (equivalently 1x1 convolutions followed by average pooling).
    ``Phi_X`` does not depend on t: :meth:`project_frames` computes it once per clip and
    :meth:`forward` reuses it at every step. Because ``tanh`` mixes the two terms before ``v``
    reduces them to a number, ``H_{t-1}`` changes the ranking of the frames and the weights
    ``w_ti`` depend on t (compare :class:`ScalarEnergy`). ``v`` has no bias: a constant added to
    every energy cancels in the softmax of eq. 3.

    Energies are computed in float32 also under autocast (they are tiny, and the attention
    weights are an output people read).
    """

    def __init__(self, feature_channels: int, hidden_channels: int, dim: int = 256) -> None:
        super().__init__()
        self.phi_x = nn.Linear(feature_channels, dim)
        self.phi_h = nn.Linear(hidden_channels, dim, bias=False)
        self.v = nn.Linear(dim, 1, bias=False)

    def project_frames(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, C, h, w]`` masked features -> ``Phi_X [B, T, dim]`` (float32)."""
        with _float32(x):
            return self.phi_x(x.float().mean(dim=(-2, -1)))

    def forward(self, phi_x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``phi_x [B, T, dim]``, ``h [B, hidden, h, w]`` -> energies ``e [B, T]`` at one step."""
        with _float32(h):
            ph = self.phi_h(h.float().mean(dim=(-2, -1)))  # [B, dim]
            return self.v(torch.tanh(phi_x + ph[:, None, :])).squeeze(-1)


class ScalarEnergy(nn.Module):
    """The literal reading of eq. 2: ``e_ti = Phi_H(H_{t-1}) + Phi_X(X~_i)`` with scalar outputs.

    This form degenerates: ``Phi_H(H_{t-1})`` is the same number for every frame ``i`` at step
    ``t``, and a constant added to every logit cancels in the softmax of eq. 3. The weights
    ``w_ti = softmax_i(Phi_X(X~_i))`` therefore never depend on ``t`` (every row of the
    ``[T, T]`` matrix is the same), the hidden state has no influence on where the model
    looks, and ``Phi_H`` never receives a gradient. It is offered for ablations and comparison
    only; the default is :class:`AdditiveEnergy`.
    """

    def __init__(self, feature_channels: int, hidden_channels: int, dim: int = 256) -> None:
        super().__init__()
        del dim
        self.phi_x = nn.Linear(feature_channels, 1)
        self.phi_h = nn.Linear(hidden_channels, 1, bias=False)

    def project_frames(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, T, C, h, w]`` -> ``Phi_X [B, T, 1]`` (float32)."""
        with _float32(x):
            return self.phi_x(x.float().mean(dim=(-2, -1)))

    def forward(self, phi_x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``phi_x [B, T, 1]``, ``h [B, hidden, h, w]`` -> energies ``e [B, T]``."""
        with _float32(h):
            return phi_x.squeeze(-1) + self.phi_h(h.float().mean(dim=(-2, -1)))


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell (Shi et al. 2015, without peepholes) with ``kernel x kernel``
    gate convolutions.

    Gates ``[i, f, o, g] = W_x * Y + W_h * H + b``; ``C' = f C + i g``; ``H' = o tanh(C')``
    (``i, f, o`` through a sigmoid, ``g`` through tanh). ``W_x`` (``conv_x``, no bias) and the
    bias ``b`` are kept apart so that the input-to-gate convolution, which is linear, can be
    applied to every frame once and mixed by the attention weights
    (``W_x * Y_t = (1/n) sum_i w_ti (W_x * X~_i)``).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel: int = 3) -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise AttnvizError(f"ConvLSTM kernel must be odd and positive, got {kernel}")
        pad = kernel // 2
        self.hidden_channels = hidden_channels
        self.kernel = kernel
        self.conv_x = nn.Conv2d(in_channels, 4 * hidden_channels, kernel, 1, pad, bias=False)
        self.conv_h = nn.Conv2d(hidden_channels, 4 * hidden_channels, kernel, 1, pad, bias=False)
        self.bias = nn.Parameter(torch.zeros(4 * hidden_channels))

    def hidden_weight_matrix(self) -> torch.Tensor:
        """``W_h`` as a ``[4*hidden, hidden*k*k]`` matrix for :meth:`hidden_gates` (reshape
        once per clip, not once per step)."""
        return self.conv_h.weight.reshape(self.conv_h.out_channels, -1).contiguous()

    def hidden_gates(self, h: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """``W_h * H`` ``[B, 4*hidden, h, w]``: a convolution, or with ``weight`` (from
        :meth:`hidden_weight_matrix`) the same convolution as im2col and one matrix product,
        which is faster on CPUs for the small maps (7x7) of a single clip."""
        if weight is None:
            return self.conv_h(h)
        b, _, hh, ww = h.shape
        cols = F.unfold(h, self.kernel, padding=self.kernel // 2)  # [B, hidden*k*k, h*w]
        return (weight @ cols).reshape(b, -1, hh, ww)

    def step(
        self,
        x_gates: torch.Tensor,
        h: torch.Tensor,
        c: torch.Tensor,
        *,
        hidden_weight: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One update from precomputed input gates ``x_gates = W_x * Y`` ``[B, 4*hid, h, w]``."""
        gates = x_gates + self.hidden_gates(h, hidden_weight) + self.bias[None, :, None, None]
        i, f, o, g = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def forward(
        self, y: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The straightforward form: ``y [B, C, h, w]`` input, ``(h, c)`` state -> new
        ``(h, c)``."""
        return self.step(self.conv_x(y), h, c)


class StateInit(nn.Module):
    """``g_c`` / ``g_h`` of eq. 5: two conv layers (3x3) with batch normalisation on the mean
    masked feature ``(1/n) sum_i X~_i``: ``[B, C, h, w] -> [B, hidden, h, w]``."""

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
