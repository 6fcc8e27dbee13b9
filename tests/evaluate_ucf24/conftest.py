"""Shared data for the UCF101-24 / JHMDB-21 evaluator tests.

The real ground truth lives in ``shared/data`` beside the repository (CI clones it there); the
tests that need it skip cleanly without it. Each real file is read once per session.
"""

from __future__ import annotations

import pytest
from ucf24_helpers import JHMDB, UCF, need

from attnviz.types import SpatialGroundTruth


@pytest.fixture(scope="session")
def ucf_gt() -> SpatialGroundTruth:
    """UCF101-24 corrected annotations (pyannot.pkl, testlist01.txt beside it)."""
    from attnviz.io.spatial_gt import read_spatial_gt

    return read_spatial_gt(need(UCF / "pyannot.pkl"))


@pytest.fixture(scope="session")
def jhmdb_gt() -> SpatialGroundTruth:
    """JHMDB-21 split-1 test ground truth (ACT-like JSON)."""
    from attnviz.io.spatial_gt import read_spatial_gt

    return read_spatial_gt(need(JHMDB / "jhmdb21_test_gt.json"))
