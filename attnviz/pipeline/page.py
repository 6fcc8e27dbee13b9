"""Write the interactive pages: one per video, one per dataset (no server, no network).

:func:`write_video_page` is what ``spatial-map``, ``temporal-map``, ``compare-explanations``
and ``detect`` call to write a video's ``index.html``; :func:`write_dataset_page` writes the
list of a dataset's videos. Both take plain records (:class:`~attnviz.types.AttentionOutput`,
:class:`~attnviz.types.Box`, :class:`~attnviz.types.Segment`, :class:`~attnviz.types.GTTube`,
:class:`~attnviz.render.page.PageRow`), never pipeline internals. The page data is built by
:mod:`attnviz.render.page`; every file is written atomically.

The video itself: a source that browsers play (H.264 or HEVC in ``.mp4`` / ``.m4v`` / ``.mov``;
VP8, VP9 or AV1 in ``.webm``) is linked or copied beside the page as it is (``video.mp4``,
``video.webm``: nothing decoded, whatever its length). Anything else (OpenCV's ``mp4v``, what
``overlay.mp4`` uses, XviD, MJPEG) is encoded again as ``video.webm`` (VP8, else VP9; every
``k``-th decoded frame, the smallest ``k`` that brings the rate to at most ``max_fps``, scaled
so that its longer side is at most ``max_side`` pixels). VP8 costs about 25 ms a 640x480 frame
on one CPU core, 15 ms at 480x360: by far the largest cost of ``spatial-map`` on a long video
(``--no-html`` skips the page). The maps, boxes and curve are drawn from the sampled frames'
data whatever the copy's rate. The heatmap and the boxes
are drawn by the page on a canvas over the video, from the maps at the feature-grid resolution.
Where this OpenCV build writes neither codec (or no video file is given) the page has no video
and plays a clock instead: heatmap, boxes and curve still work, over a dark frame.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from attnviz.errors import AttnvizError
from attnviz.io.atomic import atomic_write_text
from attnviz.localize import (
    LocalizeParams,
    boxes_from_attention,
    normalise_importance,
    segments_from_attention,
)
from attnviz.render.page import PageRow, dataset_page_html, video_page_data, video_page_html
from attnviz.types import AttentionOutput, Box, GTTube, Segment

__all__ = [
    "PAGE_NAME",
    "PageRow",
    "WEB_VIDEO_NAME",
    "page_key",
    "write_compare_pages",
    "write_dataset_page",
    "write_video_page",
    "web_video",
    "write_web_video",
]

#: The page's file name in its folder.
PAGE_NAME = "index.html"
#: The browser-playable copy of the video, beside the page, when attnviz encodes it.
WEB_VIDEO_NAME = "video.webm"
#: Every name the page's video can have (a playable source keeps its container).
_WEB_NAMES = ("video.webm", "video.mp4", "video.mov")


def page_key(video: str) -> str:
    """A folder name for a video key (``Class/v_x`` -> ``Class__v_x``)."""
    key = str(video).replace("\\", "/").strip("/").replace("/", "__")
    return key.replace("..", "_") or "video"


#: Containers and codecs (OpenCV's FOURCC, lower case) that browsers play as they are.
_PLAYABLE = {
    ".mp4": {"avc1", "h264", "x264", "hev1", "hvc1", "av01"},
    ".m4v": {"avc1", "h264", "x264", "hev1", "hvc1", "av01"},
    ".mov": {"avc1", "h264", "x264"},
    ".webm": {"vp80", "vp90", "vp08", "vp09", "av01"},
}


def _fourcc(video: str | os.PathLike[str]) -> tuple[str, float, int]:
    """``(fourcc in lower case, fps, header frame count)`` from the container, nothing decoded.

    Raises:
        AttnvizError: not a video OpenCV can open.
    """
    import cv2

    from attnviz.io.video import _fps, _header_frames, _open

    cap = _open(video)
    try:
        code = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
        return text.strip("\x00 ").lower(), _fps(cap), _header_frames(cap)
    finally:
        cap.release()


def _link_or_copy(src: Path, dest: Path) -> None:
    """``dest`` becomes a hard link to ``src`` where the file system allows it, else a copy
    (written beside it, then renamed: never half a file)."""
    import shutil
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def web_video(
    video: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    max_side: int = 480,
    max_fps: float | None = 15.0,
) -> tuple[Path | None, float | None]:
    """The page's copy of ``video`` in ``folder`` and the video's length in seconds: the
    source itself when browsers play it (linked or copied, see the module's notes), else
    :func:`write_web_video` into ``video.webm``. ``(None, seconds)`` when this OpenCV build
    writes neither VP8 nor VP9.

    Raises:
        AttnvizError: the video cannot be read.
    """
    src, dest_dir = Path(video), Path(folder)
    code, fps, header = _fourcc(src)
    suffix = src.suffix.lower()
    if code in _PLAYABLE.get(suffix, ()) and header > 0:
        dest = dest_dir / f"video{'.mp4' if suffix == '.m4v' else suffix}"
        _link_or_copy(src, dest)
        written: Path | None = dest
        seconds: float | None = header / fps
    else:
        dest = dest_dir / WEB_VIDEO_NAME
        written, count = _write_web_video(src, dest, max_side, max_fps)
        seconds = count / fps if count else None
    for name in _WEB_NAMES:  # a copy an earlier run left under another name
        if written is None or name != written.name:
            with contextlib.suppress(OSError):
                (dest_dir / name).unlink()
    return written, seconds


def write_web_video(
    video: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    max_side: int = 480,
    max_fps: float | None = 15.0,
) -> Path | None:
    """A browser-playable copy of ``video`` at ``dest`` (``.webm``: VP8, else VP9): every
    ``k``-th decoded frame at ``1 / k`` of the source rate, ``k`` the smallest that brings it to
    at most ``max_fps`` (``None``: every frame), downscaled so the longer side is at most
    ``max_side``.

    Returns:
        ``dest``, or ``None`` when this OpenCV build writes neither codec.

    Raises:
        AttnvizError: the video cannot be read.
    """
    return _write_web_video(video, dest, max_side, max_fps)[0]


def _write_web_video(video, dest, max_side: int, max_fps: float | None) -> tuple[Path | None, int]:
    """:func:`write_web_video`, and the number of source frames that decoded."""
    import cv2

    from attnviz.io.video import iter_frames, stream_fps
    from attnviz.io.video_writer import open_video_writer

    fps = stream_fps(video)
    step = 1 if max_fps is None or fps <= max_fps else int(np.ceil(fps / max_fps - 1e-9))
    for codec in ("VP80", "VP90"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # decoding warnings were given by the explain pass
                decoded = 0
                with open_video_writer(dest, fps / step, codec=codec) as w:
                    for i, f in iter_frames(video):
                        decoded = i + 1
                        if i % step:
                            continue
                        h, wd = f.shape[:2]
                        s = min(1.0, max_side / max(h, wd))
                        if s < 1.0:
                            size = (max(2, round(wd * s / 2) * 2), max(2, round(h * s / 2) * 2))
                            f = cv2.resize(f, size, interpolation=cv2.INTER_AREA)
                        if w.count == 0:
                            with _quiet_stderr():  # the first frame opens the file
                                w.write(f)
                        else:
                            w.write(f)
            return Path(dest), decoded
        except AttnvizError as exc:
            if "cannot write" not in str(exc):
                raise
    return None, 0


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C-level stderr: OpenCV's FFmpeg backend prints that the WebM muxer has no
    tag for VP8 ('tag ... is not supported') while it writes the file right."""
    sys.stderr.flush()
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def _by_method(value, names: Sequence[str]) -> dict:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if len(names) != 1:
        raise ValueError("with several methods, pass boxes / segments as {method: [...]}")
    return {names[0]: list(value)}


def write_video_page(
    out_dir: str | os.PathLike[str],
    outputs: AttentionOutput | Mapping[str, AttentionOutput],
    *,
    video: str | os.PathLike[str] | None = None,
    gt_tubes: Sequence[GTTube] = (),
    gt_segments: np.ndarray | Sequence[Sequence[float]] = (),
    label: str = "",
    pred_boxes: Sequence[Box] | Mapping[str, Sequence[Box]] | None = None,
    pred_segments: Sequence[Segment] | Mapping[str, Sequence[Segment]] | None = None,
    params: LocalizeParams | None = None,
    title: str | None = None,
    back: str | None = None,
    colormap: str = "jet",
    max_side: int = 480,
    max_fps: float | None = 15.0,
) -> Path:
    """Write ``out_dir/index.html`` (and ``out_dir/video.webm``): one video's interactive page.

    Args:
        out_dir: the folder (created if needed).
        outputs: one :class:`AttentionOutput`, or method name -> output for a page with a
            method switch (all with the same sampled frames).
        video: the source video file; a browser-playable copy is written beside the page
            (``None``: no video, the page plays a clock over a dark frame).
        gt_tubes: ground-truth tubes (:class:`GTTube`, rows ``frame, x1, y1, x2, y2``, 1-based
            source frames, pixels): drawn in blue on the sampled frames.
        gt_segments: ``[k, 2]`` ground-truth ``start, end`` in seconds: shaded blue.
        label: the ground-truth class name (shown beside the top-5).
        pred_boxes, pred_segments: the detections to draw in red (one list, or method ->
            list); default: :func:`~attnviz.localize.boxes_from_attention` and
            :func:`~attnviz.localize.segments_from_attention` of each output under ``params``.
        params: localization rules (threshold, importance normalisation; paper defaults).
        title: the page's title (default ``attnviz: <video>``).
        back: relative link to the dataset page, if any.
        colormap: heatmap colours (jet, turbo, inferno, viridis, hot).
        max_side, max_fps: the longest side in pixels and the highest rate of the copy that
            attnviz encodes (:func:`write_web_video`; a playable source is linked as it is).

    Returns:
        the page's path.

    Raises:
        AttnvizError: unreadable video. ValueError: outputs of different sampled frames.
    """
    params = params or LocalizeParams()
    outs = {"attention": outputs} if isinstance(outputs, AttentionOutput) else dict(outputs)
    if not outs:
        raise ValueError("no AttentionOutput to show")
    names = list(outs)
    boxes = _by_method(pred_boxes, names)
    segs = _by_method(pred_segments, names)
    for n, o in outs.items():
        if n not in boxes:
            boxes[n] = boxes_from_attention(o, params)
        if n not in segs:
            segs[n] = segments_from_attention(o, params)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    src = None
    duration = None
    if video is not None:
        written, duration = web_video(video, folder, max_side=max_side, max_fps=max_fps)
        if duration is None:  # nothing written: the length from what decodes
            from attnviz.io.video import probe

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                duration = probe(video).duration
        src = None if written is None else written.name
    data = video_page_data(
        outs,
        importance={
            n: normalise_importance(o.frame_importance, params.importance_norm)
            for n, o in outs.items()
        },
        threshold=params.for_output(next(iter(outs.values()))).threshold,
        pred_boxes=boxes,
        pred_segments=segs,
        gt_tubes=gt_tubes,
        gt_segments=gt_segments,
        label=label,
        video_src=src,
        duration=duration,
        colormap=colormap,
    )
    page = folder / PAGE_NAME
    atomic_write_text(page, video_page_html(data, title=title, back=back))
    return page


def write_dataset_page(
    out_dir: str | os.PathLike[str],
    rows: Sequence[PageRow],
    *,
    title: str = "attnviz: videos",
) -> Path:
    """Write ``out_dir/index.html``: the videos of ``rows`` (:class:`PageRow`: video, link to
    its page, ground-truth class, predicted class, score, outcome, right or wrong), sortable
    and filterable by class and by right or wrong.

    Returns:
        the page's path.
    """
    page = Path(out_dir) / PAGE_NAME
    atomic_write_text(page, dataset_page_html(rows, title=title))
    return page


def write_compare_pages(
    out_dir: str | os.PathLike[str],
    data,
    outs: Mapping[str, Sequence[AttentionOutput]],
    *,
    params: LocalizeParams | None = None,
) -> Path:
    """``compare-explanations``' pages: ``videos/<key>/index.html`` per video (a switch
    between the methods) and ``index.html`` listing them (top-1 class against the label:
    ``true positive`` when right, ``missed`` when wrong).

    Args:
        out_dir: the output folder.
        data: the :class:`~attnviz.pipeline.compare.CompareData` (videos, labels, ground truth).
        outs: method -> one :class:`AttentionOutput` per video, in ``data.videos`` order.
        params: localization rules.

    Returns:
        the dataset page's path.
    """
    root = Path(out_dir)
    names = list(outs)
    by_video: dict[str, dict[str, AttentionOutput]] = {}
    for m in names:
        for o in outs[m]:
            by_video.setdefault(o.video, {})[m] = o
    rows = []
    for key, path in data.videos.items():
        if key not in by_video:
            continue
        res = by_video[key]
        first = next(iter(res.values()))
        ann = data.spatial.videos.get(key) if data.spatial is not None else None
        segs = np.zeros((0, 2))
        if data.temporal is not None:
            sel = np.asarray([str(v) == key for v in data.temporal.video], dtype=bool)
            segs = np.stack([data.temporal.start[sel], data.temporal.end[sel]], axis=1)
        label = data.labels.get(key, "")
        sub = f"videos/{page_key(key)}"
        write_video_page(
            root / sub, res, video=path, gt_tubes=ann.tubes if ann is not None else (),
            gt_segments=segs, label=label, params=params, back="../../index.html",
        )  # fmt: skip
        pred = first.class_names[first.top_class]
        correct = (pred == label) if label else None
        rows.append(
            PageRow(
                video=key,
                href=f"{sub}/{PAGE_NAME}",
                label=label,
                predicted=pred,
                score=float(first.scores[first.top_class]),
                outcome="" if correct is None else ("true positive" if correct else "missed"),
                correct=correct,
            )
        )
    return write_dataset_page(root, rows, title=f"attnviz: {Path(str(data.source)).name}")
