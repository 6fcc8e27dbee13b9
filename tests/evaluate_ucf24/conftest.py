"""Shared data for the UCF101-24 / JHMDB-21 evaluator tests.

The real ground truth is the one that ships in the package (``attnviz datasets``: ``ucf101-24``,
``jhmdb21``), so these tests run from a clone. The other layouts of the same annotations
(``finalAnnots.mat``, ``pyannot.json``, YOWO's zip) live only in ``shared/data`` beside the
repository; the few tests that compare against them skip without it. Each file is read once per
session.
"""

from __future__ import annotations

import pytest

from attnviz.types import SpatialGroundTruth


@pytest.fixture(scope="session")
def ucf_gt() -> SpatialGroundTruth:
    """UCF101-24 corrected annotations (``pyannot.pkl`` with ``testlist01.txt`` beside it)."""
    from attnviz.io.datasets import resolve_gt
    from attnviz.io.spatial_gt import read_spatial_gt

    return read_spatial_gt(resolve_gt("ucf101-24").path)


@pytest.fixture(scope="session")
def jhmdb_gt() -> SpatialGroundTruth:
    """JHMDB-21 split-1 test ground truth (ACT-like JSON)."""
    from attnviz.io.datasets import resolve_gt
    from attnviz.io.spatial_gt import read_spatial_gt

    return read_spatial_gt(resolve_gt("jhmdb21").path)
