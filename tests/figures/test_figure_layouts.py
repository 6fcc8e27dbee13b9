"""The figure functions of attnviz.render.figures on hand-made records: what each draws."""

from __future__ import annotations

import numpy as np
import pytest
from figures_helpers import H, T, W, make_output, make_result
from matplotlib.patches import Polygon, Rectangle

from attnviz.render.figures import (
    PRCurve,
    paper_style,
    plot_localization,
    plot_map_vs_threshold,
    plot_pr_curves,
    plot_spatiotemporal,
    plot_temporal_attention,
    select_box_frames,
    select_frames,
)


def _ticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


def test_select_frames_spreads_evenly_and_keeps_ends(out):
    assert select_frames(out, 4).tolist() == [0, 3, 6, 9]
    assert select_frames(out, None).tolist() == list(range(T))
    assert select_frames(out, 50).tolist() == list(range(T))
    with pytest.raises(ValueError, match="num must be"):
        select_frames(out, 0)


def test_fig4_rows_colours_and_colorbars(out, frames):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    got_fig, got_ax = plot_spatiotemporal(out, frames, ax=ax, num=5, height=40)
    assert got_fig is fig and got_ax is ax
    img = ax.get_images()[0].get_array()
    tile_w = round(W * 40 / H)  # 53
    assert img.shape == (3 * 40 + 2 * 2, 5 * tile_w + 4 * 2, 3)
    sel = select_frames(out, 5)  # [0, 2, 4, 7, 9]
    # top row: the frames themselves (solid grey levels 20 * (t + 1))
    for col, t in enumerate(sel):
        x = col * (tile_w + 2) + tile_w // 2
        assert tuple(img[20, x]) == (20 * (t + 1),) * 3
    # middle row: red where the mask is 1 (top-left), blue where it is 0 (bottom-right)
    x0 = 5
    top_left, bottom_right = img[42 + 3, x0], img[42 + 37, tile_w - 5]
    assert top_left[0] > 100 and top_left[2] < 60
    assert bottom_right[2] > 100 and bottom_right[0] < 60
    # bottom row: gray level = importance / max shown (frame 4 is the max: white)
    imp = out.frame_importance[sel] / out.frame_importance[sel].max()
    for col, v in enumerate(imp):
        x = col * (tile_w + 2) + tile_w // 2
        assert img[84 + 20, x, 0] == round(255 * v)
    # time in seconds under each column, row names on the left
    assert _ticks(ax) == [f"{out.timestamps[t]:.1f} s" for t in sel]
    assert ax.get_xlabel() == "time (s)"
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "frames"
    assert "Jump" in ax.get_title() and "0.70" in ax.get_title()
    # two colorbars: temporal importance (0..max shown) and spatial attention (0..1)
    bars = [a for a in fig.axes if a is not ax]
    labels = sorted(a.get_ylabel() for a in bars)
    assert labels == ["spatial attention", "temporal importance"]
    spatial = next(a for a in bars if a.get_ylabel() == "spatial attention")
    assert spatial.get_ylim() == pytest.approx((0.0, 1.0))
    temporal = next(a for a in bars if a.get_ylabel() == "temporal importance")
    assert temporal.get_ylim()[1] == pytest.approx(float(out.frame_importance.max()))


def test_fig4_without_frames_draws_gray_canvas_and_new_figure(out):
    fig, ax = plot_spatiotemporal(out, None, num=3, height=30)
    img = ax.get_images()[0].get_array()
    assert tuple(img[10, 10]) == (128, 128, 128)
    assert ax.figure is fig


def test_frames_given_as_mapping_by_source_frame_number(out, frames):
    by_number = {int(out.frame_indices[t]): frames[t] for t in (0, 9)}
    _, ax = plot_spatiotemporal(out, by_number, num=2, height=30)
    img = ax.get_images()[0].get_array()
    assert img[5, 5, 0] == 20 and img[5, img.shape[1] - 5, 0] == 200
    with pytest.raises(ValueError, match="no image for source frame 9"):
        plot_spatiotemporal(out, by_number, num=3)
    with pytest.raises(ValueError, match="2 frames given for T=10"):
        plot_spatiotemporal(out, frames[:2])


def _colour_count(img: np.ndarray, rgb) -> int:
    return int(np.all(img == np.asarray(rgb, dtype=np.uint8), axis=-1).sum())


def test_fig5_boxes_blue_and_red_with_iou_under_each_frame(out, frames):
    # ground truth on sampled frames 2..7 (source 5..15): the left half of the frame;
    # predictions: the top-left quarter on frames 2..5 only
    gt = {int(f): np.array([[0.0, 0.0, 40.0, 60.0]]) for f in out.frame_indices[2:8]}
    pred = {int(f): np.array([[0.0, 0.0, 40.0, 30.0]]) for f in out.frame_indices[2:6]}
    assert select_box_frames(out, pred_boxes=pred, gt_boxes=gt, num=3).tolist() == [2, 4, 7]
    fig, ax = plot_localization(out, frames, pred_boxes=pred, gt_boxes=gt, num=3, height=60)
    img = ax.get_images()[0].get_array()
    assert _colour_count(img, (0, 0, 255)) > 50  # ground truth in blue
    assert _colour_count(img, (255, 0, 0)) > 50  # prediction in red
    ticks = _ticks(ax)
    # a quarter box inside a half box: IoU 0.5; frame 7 has ground truth but no prediction
    assert ticks == ["0.8 s\nIoU 0.50", "1.6 s\nIoU 0.50", "2.8 s\nno box"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["ground truth", "prediction"]
    assert fig.axes == [ax]  # plain frames as in the paper: no heatmap, no colorbar


def test_fig5_rescales_boxes_to_smaller_frames(out):
    # frames given at half the source size: the box must land at half the coordinates
    small = [np.zeros((H // 2, W // 2, 3), np.uint8) for _ in range(T)]
    pred = {int(out.frame_indices[0]): np.array([[40.0, 30.0, 80.0, 60.0]])}
    _, ax = plot_localization(out, small, pred_boxes=pred, num=1, height=H // 2, show_iou=False)
    img = ax.get_images()[0].get_array()
    red = np.argwhere(np.all(img == (255, 0, 0), axis=-1))
    assert red[:, 1].min() == pytest.approx(20, abs=1) and red[:, 0].min() == pytest.approx(
        15, abs=1
    )


def test_fig5_accepts_box_records(out, frames):
    from attnviz.localize import boxes_from_attention

    boxes = boxes_from_attention(out)
    assert {b.frame for b in boxes} >= {int(f) for f in out.frame_indices}  # and in between
    fig, ax = plot_localization(out, frames, pred_boxes=boxes, num=2, height=40, overlay=0.4)
    assert _colour_count(ax.get_images()[0].get_array(), (255, 0, 0)) > 20
    assert [a.get_ylabel() for a in fig.axes if a is not ax] == ["spatial attention"]


def _span(p) -> tuple[float, float]:
    """x extent of an axvspan patch (a Rectangle in recent matplotlib, a Polygon before)."""
    if isinstance(p, Rectangle):
        x0, x1 = p.get_x(), p.get_x() + p.get_width()
    else:
        x0, x1 = float(np.min(p.get_xy()[:, 0])), float(np.max(p.get_xy()[:, 0]))
    return round(min(x0, x1), 6), round(max(x0, x1), 6)


def test_fig6_shading_weights_and_segments(out, frames):
    fig, (top, curve) = plot_temporal_attention(
        out, frames, gt_segments=[(1.2, 2.8)], num=None, height=30
    )
    ticks = _ticks(top)
    assert len(ticks) == T
    assert ticks[4] == "1.6 s\nw = 1.00" and ticks[0] == "0.0 s\nw = 0.00"
    img = top.get_images()[0].get_array()
    tile_w = round(W * 30 / H)
    # frame 4 keeps its brightness (weight 1), frame 0 is darkened to 15 %
    assert img[15, 4 * (tile_w + 2) + 5, 0] == 100
    assert img[15, 5, 0] == round(20 * 0.15)
    # curve: blue ground truth span, and the red span of sampled frames 4..6 as the
    # localization rule turns them into seconds
    from attnviz.localize import LocalizeParams, segments_from_importance

    ((s, e, *_),) = segments_from_importance(out.frame_importance, out.timestamps, LocalizeParams())
    assert s <= 1.6 and e >= 2.4
    xs = sorted(_span(p) for p in curve.patches if isinstance(p, Polygon | Rectangle))
    assert xs == sorted([(1.2, 2.8), (round(s, 6), round(e, 6))])
    assert curve.get_xlabel() == "time (s)"
    np.testing.assert_allclose(curve.get_lines()[0].get_xdata(), out.timestamps)


def test_fig6_draws_into_given_axes(out):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1)
    got, (a, b) = plot_temporal_attention(out, None, axes=axes, threshold=None, num=2)
    assert got is fig and a is axes[0] and b is axes[1]
    assert not [p for p in b.patches if isinstance(p, Polygon | Rectangle)]  # nothing detected


def test_pr_curves_lines_and_legend():
    curves = {
        "Walk": PRCurve(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3]), 0.8333),
        "Jump": PRCurve(np.zeros(0), np.zeros(0), 0.0),
    }
    fig, ax = plot_pr_curves(curves, title="tIoU = 0.5")
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_xdata(), [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 1.0, 0.5, 2 / 3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Walk (AP 83.3)",
        "Jump (AP 0.0)",
    ]
    assert ax.get_xlabel() == "recall" and ax.get_ylabel() == "precision"
    with pytest.raises(ValueError, match="2 recall and 1 precision"):
        plot_pr_curves({"x": PRCurve(np.ones(2), np.ones(1))})


def test_map_vs_threshold_lines_reference_and_labels():
    a = make_result("temporal", (0.1, 0.3, 0.5), [0.8, 0.5, 0.2])
    b = make_result("temporal", (0.1, 0.3, 0.5), [0.4, 0.3, 0.1], protocol="activitynet")
    with paper_style():
        fig, ax = plot_map_vs_threshold({"ours": a, "uniform": b}, reference={"paper": {0.1: 70.0}})
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [80.0, 50.0, 20.0])
    np.testing.assert_allclose(lines[1].get_xdata(), [0.1, 0.3, 0.5])
    assert lines[2].get_linestyle() == "--" and list(lines[2].get_ydata()) == [70.0]
    assert ax.get_xlabel() == "tIoU threshold" and ax.get_ylabel() == "mAP (%)"
    assert ax.get_title() == "Temporal localization (activitynet, thumos14)"
    frame = make_result("frame", (0.1, 0.5), [0.5, 0.1], protocol="act")
    video = make_result("video", (0.1, 0.5), [0.4, 0.1], protocol="act")
    _, ax2 = plot_map_vs_threshold({"f": frame, "v": video})
    assert ax2.get_xlabel() == "IoU threshold"
    with pytest.raises(ValueError, match="mix temporal and spatial"):
        plot_map_vs_threshold({"a": a, "f": frame})


def test_paper_style_sets_readable_fonts():
    import matplotlib

    with paper_style():
        assert matplotlib.rcParams["font.size"] == 8
        assert matplotlib.rcParams["pdf.fonttype"] == 42


def test_other_video_label_title():
    o = make_output("clip_b", label=2)
    _, ax = plot_spatiotemporal(o, None, num=2, height=20, colorbar=False)
    assert ax.get_title() == "clip_b: Run (p = 0.70)"
    assert len(ax.figure.axes) == 1


def test_long_video_with_sliding_windows(frames):
    """Maps of a long video (``temporal`` as ``[W, n, n]`` windows): the figures only use the
    stitched per-frame importance and draw ``num`` of the frames."""
    import dataclasses

    n_frames = 120
    base = make_output()
    imp = np.ones(n_frames, np.float32)
    imp[50:70] = 4.0
    long = dataclasses.replace(
        base,
        frame_indices=np.arange(1, n_frames + 1) * 3,
        timestamps=np.arange(n_frames) * 0.6,
        mask=np.repeat(base.mask[:1], n_frames, axis=0),
        temporal=np.full((9, 25, 25), 1 / 25, np.float32),
        frame_importance=imp / imp.sum(),
        window_starts=np.r_[np.arange(8) * 12, 95],
    )
    _, ax = plot_spatiotemporal(long, None, num=6, height=20)
    assert _ticks(ax)[-1] == "71.4 s"
    _, (top, curve) = plot_temporal_attention(long, None, num=4, height=20)
    assert len(curve.get_lines()[0].get_xdata()) == n_frames
    xs = [_span(p) for p in curve.patches if isinstance(p, Polygon | Rectangle)]
    assert len(xs) == 1 and 29.0 <= xs[0][0] <= 30.0 and 41.4 <= xs[0][1] <= 42.0
