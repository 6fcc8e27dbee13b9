"""The paper's figures as matplotlib functions over attnviz's data records.

Each function takes an ``ax`` (or a figure, for layouts of several axes) and the records it
draws, and returns ``(fig, ax)``; nothing is shown or saved here (saving is the caller's job,
see :mod:`attnviz.pipeline.figures`). When no ``ax`` is given, a figure sized for one paper
column (:data:`COLUMN_WIDTH` inches wide; :data:`TEXT_WIDTH` for the wide layouts) is created.

* :func:`plot_spatiotemporal` -- Fig. 4: a frame sequence, the spatial heatmaps under it
  (red = important) and the temporal attention as gray levels (brighter = more important);
* :func:`plot_localization` -- Fig. 5: frames with ground-truth boxes (blue) and predicted boxes
  (red);
* :func:`plot_temporal_attention` -- Fig. 6: frames shaded by their temporal attention weight,
  and the attention curve over time with ground-truth segments shaded;
* :func:`plot_pr_curves` -- precision-recall curves per class at one threshold;
* :func:`plot_map_vs_threshold` -- mAP against the IoU / tIoU threshold, one line per method.

Frames are ``ndarray[H, W, 3] uint8`` RGB, given either as a sequence aligned with
``out.frame_indices`` (``T`` images) or as a mapping from 1-based source frame number to image
(only the frames drawn are needed). Without frames, the layouts draw on a neutral gray canvas of
the source frame size, so that maps from any model can be drawn without the video.

Use :func:`paper_style` (a ``matplotlib.rc_context``) for font sizes that stay readable when the
figure is printed one column wide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from attnviz.render.overlay import GT_COLOR, PRED_COLOR, attention_strip, draw_boxes, heatmap
from attnviz.types import AttentionOutput, Box, EvalResult

__all__ = [
    "COLUMN_WIDTH",
    "PAPER_RC",
    "TEXT_WIDTH",
    "PRCurve",
    "paper_style",
    "plot_localization",
    "plot_map_vs_threshold",
    "plot_pr_curves",
    "plot_spatiotemporal",
    "plot_temporal_attention",
    "select_box_frames",
    "select_frames",
]

COLUMN_WIDTH = 3.5  # inches: one column of a two-column paper
TEXT_WIDTH = 7.0  # inches: the full text width

PAPER_RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.dpi": 150,
    "savefig.dpi": 200,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable, and accepted by paper submission systems
    "axes.spines.top": False,
    "axes.spines.right": False,
}

Frames = Sequence[np.ndarray] | Mapping[int, np.ndarray] | None

_GT_MPL = tuple(c / 255 for c in GT_COLOR)
_PRED_MPL = tuple(c / 255 for c in PRED_COLOR)


class PRCurve(NamedTuple):
    """One precision-recall curve.

    Attributes:
        recall (ndarray[D] float): recall after each ranked detection.
        precision (ndarray[D] float): precision after each ranked detection.
        ap (float): the AP the protocol gives for this class and threshold (``nan`` if unknown).
    """

    recall: np.ndarray
    precision: np.ndarray
    ap: float = float("nan")


def paper_style():
    """A context manager setting :data:`PAPER_RC` (fonts of 7-8 pt, TrueType in PDF)::

    with paper_style():
        fig, ax = plot_spatiotemporal(out, frames)
    """
    import matplotlib

    return matplotlib.rc_context(PAPER_RC)


# --------------------------------------------------------------------------------------------
# helpers


def select_frames(out: AttentionOutput, num: int | None = 8) -> np.ndarray:
    """Indices into the ``T`` sampled frames of ``out`` to draw: ``num`` spread evenly from the
    first to the last (all of them when ``num`` is ``None`` or ``>= T``).

    Returns:
        ndarray[n] int64, ascending, without repeats.
    """
    t = out.num_frames
    if t == 0:
        raise ValueError("the attention output has no frame")
    if num is None or num >= t:
        return np.arange(t, dtype=np.int64)
    if num < 1:
        raise ValueError(f"num must be >= 1, got {num}")
    return np.unique(np.round(np.linspace(0, t - 1, num)).astype(np.int64))


def _frame(out: AttentionOutput, t: int, frames: Frames) -> np.ndarray:
    """The image of sampled frame ``t`` (a gray canvas when ``frames`` is None)."""
    if frames is None:
        h, w = out.frame_size
        scale = min(1.0, 160.0 / max(h, 1))  # a canvas only needs the aspect ratio
        return np.full((max(1, round(h * scale)), max(1, round(w * scale)), 3), 128, np.uint8)
    if isinstance(frames, Mapping):
        key = int(out.frame_indices[t])
        if key not in frames:
            raise ValueError(f"no image for source frame {key} (sampled frame {t}) in frames")
        return frames[key]
    if len(frames) != out.num_frames:
        raise ValueError(
            f"{len(frames)} frames given for T={out.num_frames} sampled frames: pass one image per "
            "sampled frame, or a mapping from 1-based frame number to image"
        )
    return frames[t]


def _resize(img: np.ndarray, height: int) -> tuple[np.ndarray, float]:
    import cv2

    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(
            f"expected an image [H, W, 3] uint8 RGB, got shape {img.shape} dtype {img.dtype}"
        )
    h, w = img.shape[:2]
    width = max(1, round(w * height / h))
    interp = cv2.INTER_AREA if height < h else cv2.INTER_LINEAR
    return cv2.resize(img, (width, height), interpolation=interp), height / h


def _hconcat(tiles: Sequence[np.ndarray], gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Tiles side by side on white; returns the image and the x centre of each tile."""
    h = tiles[0].shape[0]
    parts, centres, x = [], [], 0
    for i, tile in enumerate(tiles):
        if i:
            parts.append(np.full((h, gap, 3), 255, np.uint8))
            x += gap
        parts.append(tile)
        centres.append(x + (tile.shape[1] - 1) / 2)
        x += tile.shape[1]
    return np.concatenate(parts, axis=1), np.asarray(centres)


def _new_ax(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _cv_colormap(name: str):
    """The OpenCV colormap that :func:`attnviz.render.heatmap` uses, as a matplotlib colormap
    (so that colorbars show exactly the colours drawn)."""
    from matplotlib.colors import ListedColormap

    ramp = heatmap(np.linspace(0.0, 1.0, 256, dtype=np.float32)[None, :], (1, 256), name)
    return ListedColormap(ramp[0].astype(np.float64) / 255.0, name=f"cv2-{name}")


def _colorbar(fig, ax, cmap, vmin: float, vmax: float, label: str, **kw):
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    sm = ScalarMappable(norm=Normalize(vmin, vmax), cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, fraction=kw.pop("fraction", 0.025), pad=kw.pop("pad", 0.01), **kw)
    cb.set_label(label)
    cb.ax.tick_params(labelsize="x-small")
    return cb


def _title(out: AttentionOutput) -> str:
    k = out.top_class
    name = f"{out.video}: " if out.video else ""
    return f"{name}{out.class_names[k]} (p = {float(out.scores[k]):.2f})"


def _seconds(ts: float) -> str:
    return f"{ts:.1f} s" if ts < 100 else f"{ts:.0f} s"


# --------------------------------------------------------------------------------------------
# Fig. 4


def plot_spatiotemporal(
    out: AttentionOutput,
    frames: Frames = None,
    *,
    ax=None,
    num: int | None = 8,
    height: int = 96,
    colormap: str = "jet",
    title: str | None = None,
    colorbar: bool = True,
):
    """The layout of the paper's Fig. 4: the sampled frames (top row), their spatial attention
    as a heatmap (middle row; red = important; the colorbar gives the mask value in [0, 1]) and
    the temporal attention as gray levels (bottom row; brighter = more important; the gray
    colorbar gives the per-frame importance ``out.frame_importance``, white = the largest shown).

    Args:
        out: the attention of one video.
        frames: images of the sampled frames (see the module doc); ``None`` draws gray frames.
        ax: where to draw (a new figure one text width wide when ``None``).
        num: how many frames to show, spread evenly (``None``: all ``T``).
        height: pixel height of each tile.
        colormap: heatmap colormap (``jet`` as in the paper, ``turbo``, ``inferno``, ...).
        title: axis title (default: video, predicted class and its probability).
        colorbar: draw the two colorbars.

    Returns:
        ``(fig, ax)``; the x axis is time in seconds.
    """
    sel = select_frames(out, num)
    tiles = [_resize(_frame(out, int(t), frames), height)[0] for t in sel]
    imp = np.asarray(out.frame_importance, dtype=np.float64)[sel]
    gap = 2
    strip = attention_strip(
        tiles, out.mask[sel], imp, height=height, gap=gap, colormap=colormap, offset=out.grid_offset
    )
    _, centres = _hconcat(tiles, gap)
    # the image's width once the row names (and the two colorbars) have their room
    img_w = TEXT_WIDTH - 0.8 - (1.5 if colorbar else 0.0)
    fig, ax = _new_ax(ax, (TEXT_WIDTH, img_w * strip.shape[0] / strip.shape[1] + 0.75))
    ax.imshow(strip, interpolation="antialiased")
    ax.set_xticks(centres)
    ax.set_xticklabels([_seconds(float(out.timestamps[t])) for t in sel])
    ax.set_xlabel("time (s)")
    ax.set_yticks([(height - 1) / 2 + r * (height + gap) for r in range(3)])
    ax.set_yticklabels(["frames", "spatial\nattention", "temporal\nattention"])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title if title is not None else _title(out))
    if colorbar:
        from attnviz.localize.temporal import is_flat

        top = float(imp.max()) if len(imp) and imp.max() > 0 else 1.0
        label = "temporal importance"
        if is_flat(out.frame_importance, 0.05):  # LocalizeParams.flat_range
            label += " (flat: uniform)"
        _colorbar(fig, ax, "gray", 0.0, top, label)
        _colorbar(fig, ax, _cv_colormap(colormap), 0.0, 1.0, "spatial attention")
    return fig, ax


# --------------------------------------------------------------------------------------------
# Fig. 5


def _boxes_of(boxes, frame: int) -> np.ndarray:
    """``ndarray[k, 4]`` of the boxes on ``frame`` from a mapping or a list of :class:`Box`."""
    if boxes is None:
        return np.zeros((0, 4))
    if isinstance(boxes, Mapping):
        return np.asarray(boxes.get(frame, np.zeros((0, 4))), dtype=np.float64).reshape(-1, 4)
    rows = [[b.x1, b.y1, b.x2, b.y2] for b in boxes if b.frame == frame]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def select_box_frames(
    out: AttentionOutput,
    *,
    pred_boxes: Sequence[Box] | Mapping[int, np.ndarray] | None = None,
    gt_boxes: Mapping[int, np.ndarray] | Sequence[Box] | None = None,
    num: int | None = 4,
) -> np.ndarray:
    """Indices into the ``T`` sampled frames that :func:`plot_localization` draws: ``num``
    spread evenly over the frames with a ground-truth or a predicted box (over all frames if
    none has one).

    Returns:
        ndarray[n] int64, ascending.
    """
    has = [
        t
        for t in range(out.num_frames)
        if len(_boxes_of(gt_boxes, int(out.frame_indices[t])))
        or len(_boxes_of(pred_boxes, int(out.frame_indices[t])))
    ]
    pool = np.asarray(has if has else range(out.num_frames), dtype=np.int64)
    if num is not None and num < len(pool):
        if num < 1:
            raise ValueError(f"num must be >= 1, got {num}")
        pool = pool[np.unique(np.round(np.linspace(0, len(pool) - 1, num)).astype(np.int64))]
    return pool


def plot_localization(
    out: AttentionOutput,
    frames: Frames = None,
    *,
    pred_boxes: Sequence[Box] | Mapping[int, np.ndarray] | None = None,
    gt_boxes: Mapping[int, np.ndarray] | Sequence[Box] | None = None,
    ax=None,
    num: int | None = 4,
    height: int = 128,
    overlay: float = 0.0,
    colormap: str = "jet",
    title: str | None = None,
    show_iou: bool = True,
):
    """The layout of the paper's Fig. 5: frames with their ground-truth boxes (blue) and the
    boxes predicted from the spatial attention (red).

    Args:
        out: the attention of one video (gives the frames' numbers, times and masks).
        frames: images of the sampled frames (see the module doc); ``None`` draws gray frames.
        pred_boxes: predicted boxes, as :class:`~attnviz.types.Box` records (e.g.
            :func:`attnviz.localize.boxes_from_attention`) or a mapping from 1-based frame number
            to ``ndarray[k, 4]`` (``x1, y1, x2, y2``, source pixels).
        gt_boxes: ground-truth boxes, same forms.
        ax: where to draw (a new figure one text width wide when ``None``).
        num: how many frames to show, spread evenly over the frames that have a ground-truth or
            a predicted box (over all frames if none has).
        height: pixel height of each tile.
        overlay: blend the spatial heatmap over the frames with this alpha (0: plain frames as
            in the paper), with a colorbar. Always 0.5 when ``frames`` is ``None``.
        title: axis title (default: video, predicted class and its probability).
        show_iou: write under each frame the IoU of its best predicted box with the ground truth.

    Returns:
        ``(fig, ax)``; the x axis is time in seconds.
    """
    from attnviz.ops.boxes import box_iou
    from attnviz.render.overlay import overlay_heatmap

    pool = select_box_frames(out, pred_boxes=pred_boxes, gt_boxes=gt_boxes, num=num)
    alpha = overlay if frames is not None else 0.5
    tiles, labels = [], []
    for t in pool:
        frame_no = int(out.frame_indices[t])
        img = _frame(out, int(t), frames)
        # boxes are in source pixels; the image given may be smaller or larger
        sx = img.shape[1] / out.frame_size[1]
        sy = img.shape[0] / out.frame_size[0]
        tile, s = _resize(img, height)
        if alpha > 0:
            tile = overlay_heatmap(
                tile, out.mask[t], alpha=alpha, colormap=colormap, offset=out.grid_offset
            )
        scale = np.array([sx, sy, sx, sy]) * s
        gt = _boxes_of(gt_boxes, frame_no)
        pr = _boxes_of(pred_boxes, frame_no)
        width = max(1, round(height / 64))
        if len(gt):
            tile = draw_boxes(tile, gt * scale, color=GT_COLOR, width=width)
        if len(pr):
            tile = draw_boxes(tile, pr * scale, color=PRED_COLOR, width=width)
        label = _seconds(float(out.timestamps[t]))
        if show_iou and len(gt) and len(pr):
            label += f"\nIoU {float(box_iou(pr, gt).max()):.2f}"
        elif show_iou and len(gt):
            label += "\nno box"
        tiles.append(tile)
        labels.append(label)
    gap = 3
    img, centres = _hconcat(tiles, gap)
    fig, ax = _new_ax(ax, (TEXT_WIDTH, (TEXT_WIDTH - 0.2) * img.shape[0] / img.shape[1] + 1.0))
    ax.imshow(img, interpolation="antialiased")
    ax.set_xticks(centres)
    ax.set_xticklabels(labels)
    ax.set_xlabel("time (s)")
    ax.set_yticks([])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(title if title is not None else _title(out))
    if alpha > 0:  # the heatmap blended over the frames needs its scale
        _colorbar(fig, ax, _cv_colormap(colormap), 0.0, 1.0, "spatial attention")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(facecolor="none", edgecolor=_GT_MPL, lw=1.5, label="ground truth"),
            Patch(facecolor="none", edgecolor=_PRED_MPL, lw=1.5, label="prediction"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0 + 0.12),
        ncols=2,
        frameon=False,
        borderaxespad=0.0,
    )
    return fig, ax


# --------------------------------------------------------------------------------------------
# Fig. 6


def _shade(img: np.ndarray, weight: float, floor: float = 0.15) -> np.ndarray:
    """The frame darkened by its normalised temporal weight: ``img * (floor + (1 - floor) w)``
    (a weight of 1 keeps the frame as is, 0 leaves it nearly black)."""
    w = float(np.clip(weight, 0.0, 1.0))
    out = img.astype(np.float32) * (floor + (1.0 - floor) * w)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def plot_temporal_attention(
    out: AttentionOutput,
    frames: Frames = None,
    *,
    gt_segments: Sequence[tuple[float, float]] = (),
    segments: Sequence[tuple[float, float]] | None = None,
    fig=None,
    axes=None,
    num: int | None = 8,
    height: int = 80,
    threshold: float | None = 0.5,
    normalise: str = "minmax",
    title: str | None = None,
):
    """The layout of the paper's Fig. 6: the sampled frames shaded by their temporal attention
    weight (top; a frame keeps its brightness in proportion to its normalised importance, whose
    value is written under it), and the normalised importance over the video's time axis
    (bottom) with ground-truth segments shaded blue and detected segments red.

    Args:
        out: the attention of one video.
        frames: images of the sampled frames (see the module doc); ``None`` draws gray frames.
        gt_segments: ground-truth ``(start, end)`` seconds of the action.
        segments: detected segments in seconds (default: thresholding the normalised importance
            at ``threshold`` by :func:`attnviz.localize.segments_from_importance`).
        fig: the figure to draw in (two stacked axes are added), or ``axes=(top, bottom)``.
        num: how many frames to show in the top row (``None``: all).
        height: pixel height of each tile.
        threshold: the localization threshold, drawn as a dashed line (``None``: no line and,
            without ``segments``, no detected segment).
        normalise: ``minmax`` (the paper's rule) or ``max``.
        title: figure title (default: video, predicted class and its probability).

    Returns:
        ``(fig, (ax_frames, ax_curve))``.
    """
    from attnviz.localize import LocalizeParams, normalise_importance, segments_from_importance
    from attnviz.render.curves import plot_temporal_curve

    flat = LocalizeParams().flat_range
    norm = normalise_importance(out.frame_importance, normalise, flat)
    if segments is None:
        if threshold is None:
            segments = []
        else:
            params = LocalizeParams(threshold=threshold, importance_norm=normalise)
            segs = segments_from_importance(out.frame_importance, out.timestamps, params)
            segments = [(s, e) for s, e, *_ in segs]
    sel = select_frames(out, num)
    tiles = [_shade(_resize(_frame(out, int(t), frames), height)[0], norm[t]) for t in sel]
    gap = 2
    img, centres = _hconcat(tiles, gap)
    if axes is not None:
        ax_top, ax_curve = axes
        fig = ax_top.figure
    else:
        top = (TEXT_WIDTH - 0.4) * img.shape[0] / img.shape[1]  # inches the frames row needs
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(TEXT_WIDTH, top + 3.0), layout="constrained")
        ax_top, ax_curve = fig.subplots(2, 1, height_ratios=[top + 0.4, 1.9])
    ax_top.imshow(img, interpolation="antialiased")
    ax_top.set_xticks(centres)
    ax_top.set_xticklabels(
        [f"{_seconds(float(out.timestamps[t]))}\nw = {norm[t]:.2f}" for t in sel]
    )
    ax_top.set_yticks([])
    ax_top.tick_params(length=0)
    for side in ax_top.spines.values():
        side.set_visible(False)
    ax_top.set_title(title if title is not None else _title(out))
    plot_temporal_curve(
        ax_curve,
        out.timestamps,
        norm,
        segments=segments,
        gt_segments=gt_segments,
        threshold=threshold,
        raw=out.frame_importance,
        flat_range=flat,
    )
    for t in sel:
        ax_curve.axvline(float(out.timestamps[t]), color="0.6", lw=0.6, ls=":", zorder=0)
    handles, labels = ax_curve.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    # one row above the curve, out of its way
    ax_curve.legend(uniq.values(), uniq.keys(), loc="lower right", bbox_to_anchor=(1.0, 1.0),
                    ncols=len(uniq), frameon=False, borderaxespad=0.2)  # fmt: skip
    return fig, (ax_top, ax_curve)


# --------------------------------------------------------------------------------------------
# precision-recall and mAP against threshold


def _sym(metric: str) -> str:
    return "tIoU" if metric == "temporal" else "IoU"


def plot_pr_curves(
    curves: Mapping[str, PRCurve],
    *,
    ax=None,
    title: str | None = None,
    max_legend: int = 12,
):
    """Precision-recall curve of each class (one line per class, labelled with its name and
    AP).

    Args:
        curves: class name -> :class:`PRCurve` (e.g. from
            :func:`attnviz.pipeline.figures.pr_curves`). Classes with an empty curve (no
            detection) are listed in the legend with AP 0 but draw nothing; a class whose AP is
            ``nan`` (no ground truth: left out of the mAP) is listed as not scored.
        ax: where to draw (a new one-column figure when ``None``).
        title: axis title.
        max_legend: above this many classes the legend moves outside the axes in two columns.

    Returns:
        ``(fig, ax)``.
    """
    import matplotlib.pyplot as plt

    fig, ax = _new_ax(ax, (COLUMN_WIDTH, COLUMN_WIDTH * 0.85))
    cmap = plt.get_cmap("tab20" if len(curves) > 10 else "tab10")
    for i, (name, c) in enumerate(curves.items()):
        rec = np.asarray(c.recall, dtype=np.float64)
        prec = np.asarray(c.precision, dtype=np.float64)
        if len(rec) != len(prec):
            raise ValueError(f"class {name!r}: {len(rec)} recall and {len(prec)} precision values")
        label = f"{name} (not scored)" if not np.isfinite(c.ap) else f"{name} (AP {100 * c.ap:.1f})"
        color = cmap(i % cmap.N)
        if len(rec):
            # start at recall 0 with the first precision, as detection PR plots do
            ax.step(np.r_[0.0, rec], np.r_[prec[0], prec], where="post", color=color, lw=1.2,
                    label=label)  # fmt: skip
        else:
            ax.plot([], [], color=color, lw=1.2, label=label)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(True, lw=0.4, alpha=0.5)
    if title:
        ax.set_title(title)
    if len(curves) > max_legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), ncols=2, frameon=False)
    elif curves:
        ax.legend(loc="lower left", frameon=False)
    return fig, ax


def plot_map_vs_threshold(
    results: EvalResult | Mapping[str, EvalResult],
    *,
    ax=None,
    reference: Mapping[str, Mapping[float, float]] | None = None,
    title: str | None = None,
    percent: bool = True,
):
    """mAP against the IoU (spatial) or tIoU (temporal) threshold, one line per method.

    Args:
        results: one :class:`~attnviz.types.EvalResult`, or method name -> result (all temporal,
            or all spatial: frame-mAP and video-mAP may share the axis).
        ax: where to draw (a new one-column figure when ``None``).
        reference: published numbers to draw as dashed gray lines, ``{name: {threshold: mAP in
            %}}`` (e.g. :data:`attnviz.render.tables.PAPER_TABLE6`).
        title: axis title (default: the metric and protocol).
        percent: mAP in % (default) or in [0, 1].

    Returns:
        ``(fig, ax)``.
    """
    if isinstance(results, EvalResult):
        results = {results.protocol: results}
    if not results:
        raise ValueError("no evaluation result to plot")
    metrics = {r.metric for r in results.values()}
    if "temporal" in metrics and len(metrics) > 1:
        raise ValueError(
            f"results mix temporal and spatial metrics {sorted(metrics)}: plot them on two axes"
        )
    metric = "temporal" if "temporal" in metrics else "/".join(sorted(metrics))
    wide = len(results) + len(reference or {}) > 2
    fig, ax = _new_ax(ax, (COLUMN_WIDTH * (1.5 if wide else 1.0), COLUMN_WIDTH * 0.75))
    scale = 100.0 if percent else 1.0
    markers = "osD^vP*Xh"
    for i, (name, r) in enumerate(results.items()):
        ax.plot(np.asarray(r.thresholds), scale * np.asarray(r.mAP), marker=markers[i % 9],
                ms=3.5, lw=1.3, label=name)  # fmt: skip
    styles = ["--", ":", "-."]
    for i, (name, pts) in enumerate((reference or {}).items()):
        xs = sorted(float(x) for x in pts)
        ys = [float(pts[x]) * scale / 100.0 for x in sorted(pts, key=float)]
        ax.plot(xs, ys, ls=styles[i % 3], color="0.45", marker=".", ms=3, lw=1.0, label=name)
    sym = _sym(metric)
    ax.set_xlabel(f"{sym} threshold")
    ax.set_ylabel("mAP (%)" if percent else "mAP")
    ax.set_ylim(0.0, 1.02 * scale)
    ax.grid(True, lw=0.4, alpha=0.5)
    if title is None:
        protocols = ", ".join(sorted({r.protocol for r in results.values()}))
        if metric == "temporal":
            title = f"Temporal localization ({protocols})"
        else:
            title = f"Spatial localization, {metric}-mAP ({protocols})"
    ax.set_title(title)
    if len(ax.get_lines()) > 2:  # beside the axes: published lines must stay visible
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    else:
        ax.legend(frameon=False)
    return fig, ax
