"""Fixtures of the figure and table tests (helpers in figures_helpers)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figures_helpers import make_frames, make_output  # noqa: E402

from attnviz.types import AttentionOutput  # noqa: E402


@pytest.fixture
def out() -> AttentionOutput:
    return make_output()


@pytest.fixture
def frames(out) -> list[np.ndarray]:
    return make_frames(out)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
