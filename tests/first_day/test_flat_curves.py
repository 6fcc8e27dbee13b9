"""Issue 22, point 3: a flat importance curve (uniform attention) is not stretched into peaks:
one segment over the clip, and the pictures say it is flat and show the raw scale."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

from attnviz.localize import LocalizeParams, segments_from_importance
from attnviz.localize.temporal import describe_importance


def _vtest_like(n=25, seed=0):
    """vtest.avi's curve: importance between 0.03985 and 0.04016 (a 0.8 % ripple)."""
    rng = np.random.default_rng(seed)
    imp = 0.03985 + 0.00031 * rng.random(n)
    imp[[0, 1]] = 0.03985, 0.04016
    return imp, np.arange(n) * 0.4


def test_flat_curve_is_one_segment_not_dozens():
    imp, ts = _vtest_like()
    segs = segments_from_importance(imp, ts, LocalizeParams(), duration=10.0)
    assert [(s, e) for s, e, *_ in segs] == [(0.0, 9.8)]  # the whole clip
    # the rule can be switched off: 0 stretches any ripple as before
    many = segments_from_importance(imp, ts, LocalizeParams(flat_range=0.0))
    assert len(many) > 3


def test_curves_that_vary_are_untouched():
    imp = np.array([0.02, 0.03, 0.06, 0.07, 0.03, 0.02])
    ts = np.arange(6.0)
    assert segments_from_importance(imp, ts, LocalizeParams()) == segments_from_importance(
        imp, ts, LocalizeParams(flat_range=0.0)
    )


def test_figures_show_the_raw_scale_and_say_flat():
    import matplotlib.pyplot as plt

    from attnviz.render.figures import plot_temporal_attention
    from attnviz.types import AttentionOutput

    imp, ts = _vtest_like(8)
    out = AttentionOutput(
        frame_indices=np.arange(1, 9), timestamps=ts, frame_size=(48, 64),
        mask=np.zeros((8, 3, 3), np.float32), temporal=np.full((8, 8), 1 / 8, np.float32),
        frame_importance=imp.astype(np.float32), scores=np.array([1.0], np.float32),
        class_names=("a",), video="vtest", fps=25.0,
    )  # fmt: skip
    fig, (top, curve) = plot_temporal_attention(out, num=4)
    texts = [t.get_text() for t in curve.texts]
    assert any("flat" in t and "raw 0.03985" in t for t in texts)
    assert all(lbl.get_text().endswith("w = 1.00") for lbl in top.get_xticklabels())
    plt.close(fig)
    assert "raw" in describe_importance([0.01, 0.2]) and "flat" not in describe_importance(
        [0.01, 0.2]
    )


def test_strip_writes_the_raw_scale_on_the_temporal_row():
    from attnviz.render.overlay import attention_strip

    imp, _ = _vtest_like(4)
    frames = [np.full((48, 64, 3), 90, np.uint8)] * 4
    masks = np.zeros((4, 3, 3), np.float32)
    plain = attention_strip(frames, masks, imp, height=48)
    shown = attention_strip(frames, masks, imp, height=48, values=True)
    bottom = slice(2 * (48 + 2), None)
    assert (shown[bottom] != plain[bottom]).any()  # the raw values are written on it
    assert (shown[bottom][..., 0] > shown[bottom][..., 2] + 100).any()  # the red "flat" mark
