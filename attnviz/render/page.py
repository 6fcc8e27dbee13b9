"""Interactive pages: the data a browser needs to show explanations, and the HTML around it.

Everything here is pure (records in, a ``dict`` or an HTML string out); the files are written
by :mod:`attnviz.pipeline.page`. A page is one HTML file with its CSS, its JavaScript
(``attnviz/resources/page/``, plain code, no library, no network) and its data inline; the only
thing beside it is the browser-playable copy of the video.

Video page data (``video_page_data``), all times in seconds, boxes ``x1, y1, x2, y2`` in
source-frame pixels:

========================  =====================================================================
``video``                 ``{name, src, fps, width, height, duration, label}``; ``src`` is the
                          video file's name relative to the page, or ``None`` (the page then
                          plays a clock over a dark frame)
``times``                 ``[T]`` sampled frames' times (shared by every method)
``frames``                ``[T]`` their 1-based source frame numbers
``gt_boxes``              ``[[t, x1, y1, x2, y2], ...]`` ground truth on sampled frame ``t``
``gt_segments``           ``[[start, end], ...]``
``methods``               one entry per method, in order: ``name``, ``grid [h, w]``, ``maps``
                          (base64 of ``uint8[T, h, w]``: the mask quantised over the method's
                          own range ``[lo, hi]``, so 0 is its lowest value and 255 its highest),
                          ``lo``, ``hi``, ``importance [T]`` (normalised to [0, 1] by the
                          localization rule), ``threshold``, ``top5 [[class, p], ...]``,
                          ``boxes [[t, x1, y1, x2, y2, class, score], ...]``, ``segments
                          [[start, end, class, score], ...]``
``colormap``              base64 of the ``uint8[256, 3]`` RGB colour table (OpenCV's)
========================  =====================================================================

Size: one byte per feature cell per sampled frame (4/3 of it in base64), so a one-hour video
sampled at 10 frames per second with a 14 x 14 grid carries 9.4 MB of maps per method.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources

import numpy as np

from attnviz.types import AttentionOutput, Box, GTTube, Segment

__all__ = [
    "OUTCOMES",
    "PageRow",
    "dataset_page_html",
    "quantise_maps",
    "video_page_data",
    "video_page_html",
]

#: How a video counts on a dataset page (free text is allowed; these are the usual ones).
OUTCOMES = ("true positive", "missed", "false alarm")


@dataclass(frozen=True)
class PageRow:
    """One video on a dataset page.

    Attributes:
        video (str): the video's key, shown and searched.
        href (str): its page, relative to the dataset page (``videos/<key>/index.html``).
        label (str): ground-truth class name (``""`` when none).
        predicted (str): predicted class name.
        score (float): the predicted class's score.
        outcome (str): how it counts: ``true positive``, ``missed``, ``false alarm`` (or any
            short text).
        correct (bool or None): right or wrong (``None``: unknown); filterable.
    """

    video: str
    href: str
    label: str
    predicted: str
    score: float
    outcome: str = ""
    correct: bool | None = None


def quantise_maps(mask: np.ndarray) -> tuple[bytes, float, float]:
    """``mask [T, h, w]`` floats -> ``(uint8 bytes, lo, hi)``: ``round(255 * (m - lo) /
    (hi - lo))`` over the mask's own finite range (a constant mask gives zeros)."""
    m = np.asarray(mask)
    if m.ndim != 3:
        raise ValueError(f"mask must be [T, h, w], got shape {m.shape}")
    ok = np.isfinite(m)
    all_ok = bool(ok.all())
    finite = m if all_ok else m[ok]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    if not all_ok:
        m = np.nan_to_num(m, nan=lo, posinf=hi, neginf=lo)
    if hi > lo:
        q = np.rint((m - lo) * (255.0 / (hi - lo)))
        q = np.clip(q, 0, 255, out=q).astype(np.uint8)
    else:
        q = np.zeros(m.shape, dtype=np.uint8)
    return q.tobytes(), lo, hi


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _colormap(name: str) -> str:
    from attnviz.render.overlay import heatmap

    if name not in ("jet", "turbo", "inferno", "viridis", "hot"):
        raise ValueError(f"unknown colormap {name!r}: expected jet, turbo, inferno, viridis, hot")
    ramp = np.linspace(0.0, 1.0, 256)[None, :]
    table = heatmap(ramp, (1, 256), colormap=name)[0]  # [256, 3] RGB, the overlays' colours
    return _b64(np.ascontiguousarray(table, dtype=np.uint8).tobytes())


def _sample_of(out: AttentionOutput) -> dict[int, list[int]]:
    pos: dict[int, list[int]] = {}
    for t, f in enumerate(np.asarray(out.frame_indices).tolist()):
        pos.setdefault(int(f), []).append(t)
    return pos


def _boxes(boxes: Sequence[Box], pos: Mapping[int, list[int]], names) -> list[list]:
    """``[[t, x1, y1, x2, y2, class, score], ...]`` on the sampled frames (rounded)."""
    keep = [(t, b) for b in boxes for t in pos.get(int(b.frame), ())]
    if not keep:
        return []
    xy = np.round([[b.x1, b.y1, b.x2, b.y2] for _, b in keep], 1).tolist()
    score = np.round([b.score for _, b in keep], 3).tolist()
    return [[t, *c, names[b.label], s] for (t, b), c, s in zip(keep, xy, score, strict=True)]


def video_page_data(
    outputs: Mapping[str, AttentionOutput],
    *,
    importance: Mapping[str, np.ndarray],
    threshold: float,
    pred_boxes: Mapping[str, Sequence[Box]],
    pred_segments: Mapping[str, Sequence[Segment]],
    gt_tubes: Sequence[GTTube] = (),
    gt_segments: np.ndarray | Sequence[Sequence[float]] = (),
    label: str = "",
    video_src: str | None = None,
    duration: float | None = None,
    colormap: str = "jet",
) -> dict:
    """The data of one video's page (layout in the module docstring).

    Args:
        outputs: method name -> its :class:`AttentionOutput` of the video (the same sampled
            frames for every method; the first one's times are used).
        importance: method name -> ``ndarray[T]`` normalised importance in [0, 1].
        threshold: the importance threshold drawn on the curve.
        pred_boxes / pred_segments: method name -> detections of that method.
        gt_tubes: ground-truth tubes (rows ``frame, x1, y1, x2, y2``); boxes on the sampled
            frames are kept.
        gt_segments: ``[k, 2]`` ground-truth ``start, end`` seconds.
        label: ground-truth class name, if known.
        video_src: the browser-playable video relative to the page (``None``: no video).
        duration: the video's length in seconds (default: past the last sampled frame).
        colormap: heatmap colours (jet, turbo, inferno, viridis, hot).

    Raises:
        ValueError: no output, or outputs of different sampled frames.
    """
    if not outputs:
        raise ValueError("no AttentionOutput to show")
    names = list(outputs)
    first = outputs[names[0]]
    for n in names[1:]:
        o = outputs[n]
        if not np.array_equal(o.frame_indices, first.frame_indices):
            raise ValueError(
                f"method {n!r} sampled other frames than {names[0]!r}: one page shows one sampling"
            )
    times = np.asarray(first.timestamps, dtype=np.float64)
    fps = float(first.fps) if first.fps and first.fps > 0 else 0.0
    if duration is None:
        from attnviz.localize import segment_bounds

        duration = float(segment_bounds(times)[-1]) if len(times) else 0.0
    pos = _sample_of(first)
    gt_boxes = []
    for tube in gt_tubes:
        for row in np.asarray(tube.boxes, dtype=np.float64).reshape(-1, 5):
            for t in pos.get(int(row[0]), ()):
                gt_boxes.append([t, *(_r(v, 1) for v in row[1:5])])
    segs = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)
    methods = []
    for n in names:
        o = outputs[n]
        data, lo, hi = quantise_maps(o.mask)
        imp = np.asarray(importance[n], dtype=np.float64).reshape(-1)
        if len(imp) != len(times):
            raise ValueError(f"importance of {n!r} has {len(imp)} values, expected {len(times)}")
        order = np.argsort(-np.asarray(o.scores, dtype=np.float64), kind="stable")[:5]
        methods.append(
            {
                "name": n,
                "grid": [int(o.mask.shape[1]), int(o.mask.shape[2])],
                "maps": _b64(data),
                "lo": lo,
                "hi": hi,
                "importance": np.round(np.nan_to_num(imp), 3).tolist(),
                "threshold": float(threshold),
                "top5": [[o.class_names[k], _r(o.scores[k], 4)] for k in order],
                "boxes": _boxes(pred_boxes.get(n, ()), pos, o.class_names),
                "segments": [
                    [_r(s.start, 3), _r(s.end, 3), o.class_names[s.label], _r(s.score, 3)]
                    for s in pred_segments.get(n, ())
                ],
            }
        )
    h, w = first.frame_size
    return {
        "video": {
            "name": first.video,
            "src": video_src,
            "fps": fps,
            "width": int(w),
            "height": int(h),
            "duration": float(duration),
            "label": label,
        },
        "times": np.round(times, 4).tolist(),
        "frames": [int(f) for f in np.asarray(first.frame_indices)],
        "gt_boxes": gt_boxes,
        "gt_segments": [[_r(a, 3), _r(b, 3)] for a, b in segs],
        "methods": methods,
        "colormap": _colormap(colormap),
    }


def _asset(name: str) -> str:
    return resources.files("attnviz").joinpath("resources", "page", name).read_text("utf-8")


def _json_script(data: object) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</`` can close it)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _page(title: str, body: str, data: object, script: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{_asset('page.css')}</style>\n</head>\n<body>\n{body}\n"
        f"<script id='attnviz-data' type='application/json'>{_json_script(data)}</script>\n"
        f"<script>\n{_asset(script)}</script>\n</body>\n</html>\n"
    )


def video_page_html(data: Mapping, *, title: str | None = None, back: str | None = None) -> str:
    """One self-contained HTML page for :func:`video_page_data`'s ``data``; ``back`` links to
    the dataset page (relative URL) when given."""
    name = str(data["video"]["name"]) or "video"
    title = title or f"attnviz: {name}"
    nav = ""
    if back:
        nav = f"<a class='back' href='{html.escape(back, quote=True)}'>&larr; all videos</a> "
    body = (
        f"<header>{nav}<h1>{html.escape(title)}</h1></header>\n"
        "<main id='viewer'></main>\n"
        "<noscript>This page needs JavaScript.</noscript>"
    )
    return _page(title, body, data, "viewer.js")


def dataset_page_html(rows: Sequence[PageRow], *, title: str = "attnviz: videos") -> str:
    """One self-contained HTML page listing ``rows`` (sortable, filterable by class and by
    right or wrong), each linking to its video page."""
    data = {
        "title": title,
        "rows": [
            asdict(r) | {"score": _r(r.score, 4) if np.isfinite(r.score) else None} for r in rows
        ],
    }
    body = (
        f"<header><h1>{html.escape(title)}</h1></header>\n"
        "<main id='index'></main>\n"
        "<noscript>This page needs JavaScript.</noscript>"
    )
    return _page(title, body, data, "dataset.js")
