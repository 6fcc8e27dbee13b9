"""Rank correlation for the model-randomisation check, and the metrics' import rule."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

from attnviz.metrics import rank_correlation, topk_overlap


def test_rank_correlation_known_values():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert rank_correlation(a, a * 10 + 3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    # hand example: ranks (1,2,3) vs (1,3,2): rho = 1 - 6*2/(3*8) = 0.5
    assert rank_correlation(np.array([1.0, 2, 3]), np.array([10.0, 30, 20])) == pytest.approx(0.5)
    assert np.isnan(rank_correlation(np.ones(5), np.arange(5.0)))


def test_rank_correlation_with_ties_matches_scipy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=50).astype(float)
    y = x + rng.integers(0, 3, size=50)
    assert rank_correlation(x, y) == pytest.approx(spearmanr(x, y).statistic)


def test_topk_overlap():
    a = np.arange(10.0)
    assert topk_overlap(a, a, 0.3) == 1.0
    assert topk_overlap(a, -a, 0.3) == 0.0
    with pytest.raises(ValueError):
        topk_overlap(a, a, 0.0)


def test_metrics_import_neither_torch_nor_plotting():
    code = (
        "import sys, attnviz.metrics;"
        "bad = [m for m in ('torch', 'cv2', 'matplotlib') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"attnviz.metrics imported {out.stdout.strip()}"
