"""Render functions: images in, new images out; figure functions take an ax."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from attnviz.render import (  # noqa: E402
    GT_COLOR,
    PRED_COLOR,
    attention_strip,
    draw_boxes,
    heatmap,
    overlay_heatmap,
    plot_temporal_curve,
)


def test_heatmap_colours_and_blend():
    img = np.full((20, 30, 3), 100, dtype=np.uint8)
    mask = np.zeros((2, 3))
    mask[0, 0] = 1.0
    heat = heatmap(mask, (20, 30))
    assert heat.shape == (20, 30, 3) and heat.dtype == np.uint8
    assert tuple(heat[0, 0]) == (128, 0, 0)  # jet: 1 -> dark red
    assert tuple(heat[-1, -1]) == (0, 0, 128)  # jet: 0 -> dark blue
    assert np.array_equal(overlay_heatmap(img, mask, alpha=0.0), img)
    assert np.array_equal(overlay_heatmap(img, mask, alpha=1.0), heat)
    half = overlay_heatmap(img, mask, alpha=0.5)
    assert tuple(half[0, 0]) == (114, 50, 50)  # (100 + 128) / 2, (100 + 0) / 2
    assert np.array_equal(img, np.full((20, 30, 3), 100))  # input untouched
    rng = np.random.default_rng(0)  # every pixel as the float32 formula rounds it (halves up)
    noise = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    for a in (0.5, 0.3, 0.77):
        want = (1 - a) * noise.astype(np.float32) + a * heat.astype(np.float32)
        want = np.clip(want + 0.5, 0, 255).astype(np.uint8)
        assert np.array_equal(overlay_heatmap(noise, mask, alpha=a), want)
    assert not np.array_equal(heatmap(mask, (20, 30), "viridis"), heat)
    with pytest.raises(ValueError, match="colormap"):
        heatmap(mask, (4, 4), "rainbowish")
    with pytest.raises(ValueError, match="not batches"):
        overlay_heatmap(np.zeros((2, 20, 30, 3), np.uint8), mask)
    with pytest.raises(ValueError, match="uint8"):
        overlay_heatmap(img.astype(np.float32), mask)
    with pytest.raises(ValueError, match="alpha"):
        overlay_heatmap(img, mask, alpha=2)


def test_boxes_are_drawn_on_a_copy_with_the_paper_colours():
    img = np.zeros((40, 60, 3), dtype=np.uint8)
    out = draw_boxes(img, [[10, 5, 30, 25]], width=1)
    assert tuple(out[5, 10]) == PRED_COLOR and tuple(out[24, 29]) == PRED_COLOR
    assert tuple(out[15, 20]) == (0, 0, 0)  # inside untouched
    assert tuple(out[25, 30]) == (0, 0, 0)  # x2, y2 are edges: the last pixel is 29, 24
    gt = draw_boxes(img, np.array([[0, 0, 10, 10]]), color=GT_COLOR, labels=["walk"])
    assert tuple(gt[9, 0]) == GT_COLOR == (0, 0, 255)
    assert img.max() == 0
    assert np.array_equal(draw_boxes(img, np.zeros((0, 4))), img)
    with pytest.raises(ValueError, match="labels"):
        draw_boxes(img, [[0, 0, 5, 5]], labels=["a", "b"])


def test_strip_has_the_fig4_layout():
    frames = [np.full((30, 40, 3), v, dtype=np.uint8) for v in (10, 20, 30)]
    masks = np.zeros((3, 7, 7))
    strip = attention_strip(frames, masks, np.array([0.0, 0.5, 1.0]), height=24, gap=2)
    w = round(40 * 24 / 30)
    assert strip.shape == (3 * 24 + 2 * 2, 3 * w + 2 * 2, 3)
    assert strip[0, 0, 0] == 10 and strip[0, w + 2, 0] == 20  # frames on top
    bottom = strip[-1]
    assert (bottom[0, 0], bottom[w + 2, 0], bottom[2 * w + 4, 0]) == (0, 128, 255)  # gray levels
    with pytest.raises(ValueError):
        attention_strip(frames, masks[:2], np.ones(3))


def test_curve_takes_an_ax_and_returns_fig_and_ax():
    fig, ax = plt.subplots()
    got = plot_temporal_curve(
        ax,
        np.arange(5.0),
        np.array([0, 1, 0.2, 0.8, 0]),
        segments=[(0.5, 1.5)],
        gt_segments=[(3, 4)],
    )
    assert got == (fig, ax)
    assert len(ax.patches) == 2 and ax.get_xlabel() == "time (s)"
    assert ax.get_xlim() == (0.0, 4.0)
    plt.close(fig)
    fig, ax = plot_temporal_curve(None, np.arange(3.0), np.zeros(3), time_range=(0, 9))
    assert ax.get_xlim() == (0.0, 9.0)
    plt.close(fig)
    fig2, ax2 = plot_temporal_curve(None, np.arange(3.0), np.zeros(3))
    assert ax2.figure is fig2
    plt.close(fig2)
    with pytest.raises(ValueError):
        plot_temporal_curve(None, np.arange(3.0), np.zeros(4))
