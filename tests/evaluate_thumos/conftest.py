"""Fixtures of the THUMOS14 evaluator tests: the real annotations, as a clone has them (the
ground truth that ships in the package, and the few other files kept in ``data/``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from thumos_helpers import real_thumos14


@pytest.fixture(scope="session")
def th14(tmp_path_factory) -> Path:
    """A folder laid out as ``shared/data/thumos14``: ``annotations_test/``, ``annotations_val/``,
    ``Class Index_Detection.txt``, ``thumos14_test_groundtruth.csv``, ``thumos_gt.json``."""
    return real_thumos14(tmp_path_factory.mktemp("thumos14"))
