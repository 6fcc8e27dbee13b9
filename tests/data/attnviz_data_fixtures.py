"""The tiny synthetic configuration the data tests share."""

from __future__ import annotations

from attnviz.data.synthetic import SynthConfig

TINY = SynthConfig(
    width=96,
    height=72,
    frames=(16, 24),
    actor_size=(16, 22),
    distractor_size=(12, 20),
    amplitude=(4.0, 8.0),
)
