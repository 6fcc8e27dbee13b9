"""MultiSports detection files, as the official ``evaluate_multisports.py`` reads them.

* Frame detections: a pickle of an ``[N, 8]`` array (or a list of ``(8,)`` rows) ``video_index,
  frame, label, score, x1, y1, x2, y2``, where ``video_index`` is the 0-based position of the
  video in the ground truth's ``test_videos[0]``; or the CSV variant with video names
  (``video,frame,class,score,x1,y1,x2,y2``, :func:`~attnviz.io.detections.read_frame_detections`,
  which also checks each video and frame against the ground truth).
* Video detections: a pickle ``{label: [(video, score, tube), ...]}`` (or a list indexed by
  label) with ``tube`` an ``[n, 6]`` array of rows ``frame, x1, y1, x2, y2, box_score`` (the
  last column is not used; ``[n, 5]`` is accepted); or attnviz's ``tubes.json``
  (:func:`~attnviz.io.detections.read_tubes`).

Pickles are untrusted: they go through :mod:`attnviz.io.safe_pickle` (numpy 1.x and 2.x pickles
both load). A row the official script could not have meant is refused with one line naming the
file, the row (1-based) or the label and tube, and the field: a value that is not a finite
number, a video index, frame or label that is not an integer, a video index outside the test
list, a frame below 1, a label outside the ground truth's labels, a box with ``x2 < x1`` or
``y2 < y1``, tube frames that are not consecutive and ascending. What the official script counts
as a false positive stays one: a detection on a frame or a video (video-AP: any video name) that
has no ground truth of its label.

Boxes and tubes stored as float32 stay float32 (every other number is read as float64): the
official script computes a float32 detection box's area in float32 and the IoU of two float32
tubes in float32, and an IoU near a threshold (``float32(0.3) > 0.30000000000000004``) can fall on
the other side of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from attnviz.errors import InputError
from attnviz.io.detections import read_frame_detections, read_tubes
from attnviz.io.safe_pickle import safe_load
from attnviz.io.spatial_gt import read_spatial_gt
from attnviz.types import FrameDetections, GTTube, SpatialGroundTruth, Tube, VideoAnnotation

__all__ = ["read_multisports_frames", "read_multisports_gt", "read_multisports_tubes"]

_FIELDS = ("video_index", "frame", "label", "score", "x1", "y1", "x2", "y2")


def _is_pickle(p: Path) -> bool:
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    return bool(suffixes) and suffixes[-1] in (".pkl", ".pickle")


def _frame_array(data: object, p: Path) -> np.ndarray:
    if isinstance(data, list | tuple):
        if len(data) == 0:
            return np.zeros((0, 8))
        rows = []
        for i, r in enumerate(data):
            a = np.asarray(r).reshape(-1)
            if a.dtype.kind not in "fiub":
                raise InputError(f"{p}, row {i + 1}: not 8 numbers")
            if a.shape != (8,):
                raise InputError(f"{p}, row {i + 1}: expected 8 numbers ({','.join(_FIELDS)}), "
                                 f"got {a.size}")  # fmt: skip
            rows.append(a)
        return np.stack(rows)
    if not isinstance(data, np.ndarray):
        raise InputError(f"{p}: expected an [N, 8] array of detections, got {type(data).__name__}")
    if data.size == 0:
        return np.zeros((0, 8))
    if data.ndim != 2 or data.shape[1] != 8:
        raise InputError(f"{p}: expected an [N, 8] array ({','.join(_FIELDS)}), got shape "
                         f"{data.shape}")  # fmt: skip
    if data.dtype.kind not in "fiub":
        raise InputError(f"{p}: the detection array does not hold numbers ({data.dtype})")
    return data


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def read_multisports_frames(
    path: str | os.PathLike[str], gt: SpatialGroundTruth
) -> FrameDetections:
    """Frame detections from the official pickle (video by position in ``gt.test_videos``) or
    the CSV variant with video names.

    Returns:
        :class:`~attnviz.types.FrameDetections` in file order (``video`` as names, ``line`` the
        1-based row of the array or line of the CSV).
    """
    p = Path(path)
    if not _is_pickle(p):
        return read_frame_detections(p, gt)
    raw = _frame_array(safe_load(p), p)
    a = raw.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        i = _first_bad(~finite.all(axis=1))
        f = _FIELDS[_first_bad(~finite[i])]
        raise InputError(f'{p}, row {i + 1}, field "{f}": NaN or not a finite number')
    for j in (0, 1, 2):
        frac = a[:, j] % 1 != 0
        if frac.any():
            i = _first_bad(frac)
            raise InputError(
                f'{p}, row {i + 1}, field "{_FIELDS[j]}": {float(a[i, j])!r} is not an integer'
            )
    nv, nl = len(gt.test_videos), len(gt.labels)
    checks = (
        (0, (a[:, 0] < 0) | (a[:, 0] >= nv), f"outside 0..{nv - 1} (positions in test_videos)"),
        (1, a[:, 1] < 1, "below 1 (frames start at 1)"),
        (2, (a[:, 2] < 0) | (a[:, 2] >= nl), f"outside 0..{nl - 1} (the ground truth's labels)"),
        (6, a[:, 6] < a[:, 4], "x2 < x1"),
        (7, a[:, 7] < a[:, 5], "y2 < y1"),
    )
    for j, bad, why in checks:
        if bad.any():
            i = _first_bad(bad)
            raise InputError(f'{p}, row {i + 1}, field "{_FIELDS[j]}": {float(a[i, j])!r} {why}')
    names = np.asarray(gt.test_videos, dtype=object)
    n = len(a)
    return FrameDetections(
        names[a[:, 0].astype(np.int64)] if n else np.zeros(0, dtype=object),
        a[:, 1].astype(np.int64),
        a[:, 2].astype(np.int64),
        a[:, 3].copy(),
        raw[:, 4:8].astype(np.float32 if raw.dtype == np.float32 else np.float64),
        np.arange(1, n + 1, dtype=np.int64),
        str(p),
    )


def _tube_boxes(t: object, where: str) -> np.ndarray:
    try:
        b = np.asarray(t, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f'{where}, field "tube": not an array of numbers') from None
    b32 = isinstance(t, np.ndarray) and t.dtype == np.float32
    if b.ndim != 2 or b.shape[1] not in (5, 6) or len(b) == 0:
        raise InputError(
            f'{where}, field "tube": expected a non-empty [n, 6] array (frame, x1, y1, x2, y2, '
            f"box_score), got shape {b.shape}"
        )
    if not np.isfinite(b[:, :5]).all():
        raise InputError(f'{where}, field "tube": NaN or not a finite number')
    fr = b[:, 0]
    if (fr % 1 != 0).any() or fr[0] < 1 or (np.diff(fr) != 1).any():
        raise InputError(
            f'{where}, field "tube": frames must be consecutive ascending integers from 1 up '
            f"(got {fr[0]:g}..{fr[-1]:g} over {len(fr)} rows)"
        )
    bad = (b[:, 3] < b[:, 1]) | (b[:, 4] < b[:, 2])
    if bad.any():
        k = _first_bad(bad)
        raise InputError(f'{where}, field "tube": row {k + 1} has x2 < x1 or y2 < y1')
    return np.asarray(t)[:, :5].astype(np.float32 if b32 else np.float64)


def read_multisports_tubes(path: str | os.PathLike[str], gt: SpatialGroundTruth) -> list[Tube]:
    """Video detections from the official pickle ``{label: [(video, score, tube)]}`` or
    attnviz's ``tubes.json``.

    A label missing from the pickle has no detection (the official script would stop with a
    ``KeyError``). Tubes come out label by label, each label's tubes in list order.
    """
    p = Path(path)
    if not _is_pickle(p):
        return read_tubes(p, gt)
    data = safe_load(p)
    if isinstance(data, list | tuple):
        data = dict(enumerate(data))
    if not isinstance(data, Mapping):
        raise InputError(f"{p}: expected {{label: [(video, score, tube), ...]}}, got "
                         f"{type(data).__name__}")  # fmt: skip
    nl = len(gt.labels)
    out: list[Tube] = []
    for key in sorted(data, key=lambda k: (str(type(k)), k)):
        if isinstance(key, bool) or not isinstance(key, int | np.integer) or not 0 <= key < nl:
            raise InputError(f"{p}, label {key!r}: not a label index 0..{nl - 1}")
        items = data[key]
        if not isinstance(items, list | tuple):
            raise InputError(f"{p}, label {key}: expected a list of (video, score, tube)")
        for j, item in enumerate(items):
            where = f"{p}, label {key}, tube {j + 1}"
            if not isinstance(item, list | tuple) or len(item) != 3:
                raise InputError(f"{where}: expected a (video, score, tube) triple")
            video, score, tube = item
            if isinstance(video, bytes):
                video = video.decode("utf-8", "replace")
            if not isinstance(video, str):
                raise InputError(f'{where}, field "video": expected a name, got {video!r}')
            try:
                s = float(score)
            except (TypeError, ValueError):
                raise InputError(f'{where}, field "score": {score!r} is not a number') from None
            if not np.isfinite(s):
                raise InputError(f'{where}, field "score": NaN or not finite')
            out.append(Tube(video, int(key), s, _tube_boxes(tube, where)))
    return out


def read_multisports_gt(path: str | os.PathLike[str]) -> SpatialGroundTruth:
    """``multisports_GT.pkl`` (the ACT layout) as :func:`~attnviz.io.spatial_gt.read_spatial_gt`
    reads it, except that tubes stored as float32 stay float32 (their IoU is a float32 in the
    official script). Other layouts are read as :func:`read_spatial_gt` reads them."""
    truth = read_spatial_gt(path)
    p = Path(path)
    if not _is_pickle(p):
        return truth
    gttubes = safe_load(p).get("gttubes", {})
    videos = dict(truth.videos)
    for video, per_label in gttubes.items():
        ann = videos.get(str(video))
        if ann is None or not isinstance(per_label, Mapping):
            continue
        f32 = [isinstance(t, np.ndarray) and t.dtype == np.float32
               for tlist in per_label.values() for t in tlist]  # fmt: skip
        if not any(f32) or len(f32) != len(ann.tubes):
            continue
        tubes = tuple(
            GTTube(t.label, t.boxes.astype(np.float32)) if is32 else t
            for t, is32 in zip(ann.tubes, f32, strict=True)
        )
        videos[str(video)] = VideoAnnotation(ann.label, ann.nframes, tubes, ann.resolution)
    return SpatialGroundTruth(
        truth.labels, videos, truth.train_videos, truth.test_videos, truth.source
    )
