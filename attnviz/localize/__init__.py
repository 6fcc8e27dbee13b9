"""Attention maps -> boxes, tubes and segments: one implementation, used by the explain
commands, ``attnviz localize`` and the evaluators' callers.

Everything takes an :class:`~attnviz.types.AttentionOutput`, so maps written by other models
are localized by the same rules. The package itself is callable:
``attnviz.localize(out)`` is :func:`localize` (boxes, tubes and segments in one
:class:`Localization`). The rules and their parameters are documented in
:mod:`attnviz.localize.spatial`, :mod:`attnviz.localize.temporal` and
:class:`LocalizeParams`.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Sequence

import numpy as np

from attnviz.localize.params import PAPER_THRESHOLD, LocalizeParams
from attnviz.localize.spatial import mask_to_box, upsample_mask
from attnviz.localize.temporal import (
    describe_importance,
    frame_importance,
    is_flat,
    normalise_importance,
    runs,
    segment_bounds,
    segments_from_importance,
    stitch_importance,
)
from attnviz.types import AttentionOutput, Box, Segment, Tube

__all__ = [
    "Localization",
    "PAPER_THRESHOLD",
    "LocalizeParams",
    "attention_importance",
    "boxes_from_attention",
    "describe_importance",
    "frame_importance",
    "is_flat",
    "localize",
    "mask_to_box",
    "normalise_importance",
    "runs",
    "segment_bounds",
    "segments_from_attention",
    "segments_from_importance",
    "stitch_importance",
    "tubes_from_attention",
    "upsample_mask",
    "with_importance",
]


def _class(out: AttentionOutput, params: LocalizeParams) -> tuple[int, float]:
    k = out.top_class if params.class_index is None else int(params.class_index)
    if k >= len(out.scores):
        raise ValueError(
            f"class_index {k} is out of range: the maps have {len(out.scores)} classes"
        )
    return k, float(out.scores[k])


def attention_importance(out: AttentionOutput, rule: str = "mean") -> np.ndarray:
    """Per-frame importance ``ndarray[T]`` from ``out.temporal`` by ``rule`` (``[T, T]``
    weights, or ``[W, n, n]`` windows stitched by :func:`stitch_importance`)."""
    if out.window_starts is None:
        return frame_importance(out.temporal, rule)
    return stitch_importance(out.temporal, out.window_starts, out.num_frames, rule)


def with_importance(out: AttentionOutput, rule: str) -> AttentionOutput:
    """``out`` with ``frame_importance`` recomputed from its temporal weights by ``rule``."""
    imp = attention_importance(out, rule).astype(np.float32)
    return dataclasses.replace(out, frame_importance=imp)


def boxes_from_attention(
    out: AttentionOutput, params: LocalizeParams = LocalizeParams()
) -> list[Box]:
    """One box per sampled frame whose mask has pixels above threshold, labelled with the
    localized class (1-based source frame numbers, pixels of the source frame; see
    :func:`mask_to_box` for the rules), and with ``params.frame_boxes="interpolated"`` (the
    default) one on every source frame between two consecutive sampled frames that both have a
    box: corners and score interpolated linearly between the two. Sorted by frame."""
    params = params.for_output(out)
    k, prob = _class(out, params)
    rng = (float(np.min(out.mask)), float(np.max(out.mask))) if out.num_frames else None
    boxes: list[Box] = []
    prev: Box | None = None
    for t in range(out.num_frames):
        res = mask_to_box(
            out.mask[t], out.frame_size, params, clip_range=rng, prob=prob, offset=out.grid_offset
        )
        if res is None:
            prev = None
            continue
        (x1, y1, x2, y2), score = res
        box = Box(out.video, int(out.frame_indices[t]), k, score, x1, y1, x2, y2)
        if params.frame_boxes == "interpolated" and prev is not None:
            if box.frame == prev.frame:
                continue  # short videos repeat frames: one box each
            boxes += _between(prev, box)
        boxes.append(box)
        prev = box
    return boxes


def _between(a: Box, b: Box) -> list[Box]:
    """Boxes of the frames strictly between ``a.frame`` and ``b.frame``, corners and score
    interpolated linearly."""
    n = b.frame - a.frame
    if n <= 1:
        return []
    f = np.arange(1, n, dtype=np.float64) / n
    va = np.array([a.score, a.x1, a.y1, a.x2, a.y2])
    vb = np.array([b.score, b.x1, b.y1, b.x2, b.y2])
    v = va[None, :] + f[:, None] * (vb - va)[None, :]
    return [
        Box(a.video, a.frame + i + 1, a.label, *(float(x) for x in row)) for i, row in enumerate(v)
    ]


def _segments(out: AttentionOutput, params: LocalizeParams, prob: float = 1.0):
    """``params``: already resolved for ``out`` (:meth:`LocalizeParams.for_output`)."""
    return segments_from_importance(
        out.frame_importance,
        out.timestamps,
        params,
        prob=prob,
        frame_time=1.0 / out.fps if out.fps > 0 else 0.0,
    )


def segments_from_attention(
    out: AttentionOutput, params: LocalizeParams = LocalizeParams()
) -> list[Segment]:
    """Temporal segments (seconds) of the localized class where the normalised frame
    importance exceeds the threshold (rules in :mod:`attnviz.localize.temporal`)."""
    params = params.for_output(out)
    k, prob = _class(out, params)
    return [
        Segment(out.video, s, e, k, score) for s, e, score, _, _ in _segments(out, params, prob)
    ]


def tubes_from_attention(
    out: AttentionOutput,
    params: LocalizeParams = LocalizeParams(),
    *,
    boxes: Sequence[Box] | None = None,
) -> list[Tube]:
    """Boxes over the consecutive sampled frames of one detected segment form a tube.

    Boxes of the source frames between two sampled frames are interpolated linearly, so that a
    tube has a box on every source frame from its first sampled frame to its last (as the
    evaluators expect). A sampled frame without a box splits the tube. Tube score: the mean of
    its sampled boxes' scores.

    ``boxes``: what :func:`boxes_from_attention` gave for the same ``out`` and ``params``, to
    save computing them again (only the sampled frames' boxes are read).
    """
    params = params.for_output(out)
    k, _ = _class(out, params)
    if boxes is None:
        boxes = boxes_from_attention(out, params)
    sampled = set(np.asarray(out.frame_indices).tolist())
    by_frame = {b.frame: b for b in boxes if b.frame in sampled}
    tubes = []
    for _, _, _, i, j in _segments(out, params):
        run: list[Box] = []
        for t in range(i, j + 1):
            b = by_frame.get(int(out.frame_indices[t]))
            if b is None:
                if run:
                    tubes.append(_tube(out.video, k, run))
                run = []
                continue
            if not run or b.frame > run[-1].frame:  # repeated frames (short videos) once
                run.append(b)
        if run:
            tubes.append(_tube(out.video, k, run))
    return tubes


def _tube(video: str, label: int, run: list[Box]) -> Tube:
    frames = np.array([b.frame for b in run], dtype=np.float64)
    coords = np.array([[b.x1, b.y1, b.x2, b.y2] for b in run], dtype=np.float64)
    full = np.arange(frames[0], frames[-1] + 1)
    interp = np.stack([np.interp(full, frames, coords[:, c]) for c in range(4)], axis=1)
    return Tube(
        video, label, float(np.mean([b.score for b in run])), np.column_stack([full, interp])
    )


@dataclasses.dataclass(frozen=True)
class Localization:
    """What :func:`localize` finds: ``boxes`` (one per sampled frame with mask above
    threshold), ``tubes`` and ``segments`` (seconds), all of the localized class."""

    boxes: list[Box]
    tubes: list[Tube]
    segments: list[Segment]


def localize(out: AttentionOutput, params: LocalizeParams | None = None, **changes) -> Localization:
    """Boxes, tubes and segments from attention maps, by the rules of :class:`LocalizeParams`.

    Args:
        out: the maps (:func:`attnviz.explain_video`, or :func:`attnviz.io.maps.load_attention`
            of a ``maps.npz``, or built from another model's arrays).
        params: the rules (default: the paper's); ``changes`` override single fields, e.g.
            ``threshold=0.3``.

    Returns:
        Localization with ``boxes``, ``tubes`` and ``segments``.
    """
    p = (params or LocalizeParams()).replace(**changes) if changes else params or LocalizeParams()
    boxes = boxes_from_attention(out, p)
    return Localization(
        boxes, tubes_from_attention(out, p, boxes=boxes), segments_from_attention(out, p)
    )


class _CallableModule(types.ModuleType):
    """Makes ``attnviz.localize(out)`` call :func:`localize` while ``attnviz.localize`` stays
    the package (``attnviz.localize.boxes_from_attention`` ...)."""

    def __call__(self, out: AttentionOutput, params: LocalizeParams | None = None, **changes):
        return localize(out, params, **changes)


sys.modules[__name__].__class__ = _CallableModule
