"""Fixtures of the model tests (helpers in models_helpers)."""

from __future__ import annotations

import pytest
from models_helpers import tiny_recognizer


@pytest.fixture
def tiny():
    return tiny_recognizer
