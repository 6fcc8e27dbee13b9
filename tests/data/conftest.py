"""A tiny synthetic dataset shared by the data tests (written once per session)."""

from __future__ import annotations

import pytest

from attnviz.data.synthetic import SynthConfig, generate_dataset

TINY = SynthConfig(width=96, height=72, frames=(16, 24), actor_size=(16, 22),
                   distractor_size=(12, 20), amplitude=(4.0, 8.0))  # fmt: skip


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    summary = generate_dataset(out, videos=10, seed=5, splits="train=0.6,val=0.4", config=TINY,
                               quiet=True)  # fmt: skip
    return out, summary
