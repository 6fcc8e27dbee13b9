"""A tiny synthetic dataset shared by the data tests (written once per session)."""

from __future__ import annotations

import pytest
from attnviz_data_fixtures import TINY

from attnviz.data.synthetic import generate_dataset


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    summary = generate_dataset(
        out, videos=10, seed=5, splits="train=0.6,val=0.4", config=TINY, quiet=True
    )
    return out, summary
