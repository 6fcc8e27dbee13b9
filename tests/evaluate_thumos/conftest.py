"""Fixtures of the THUMOS14 evaluator tests: the real annotations, skipped when ``shared/`` is
not beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from thumos_helpers import DATA


@pytest.fixture(scope="session")
def th14() -> Path:
    """The folder of the real THUMOS14 annotations."""
    if not (DATA / "annotations_test").is_dir():
        pytest.skip("shared/data/thumos14 is not beside the repository")
    return DATA
