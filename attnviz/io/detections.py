"""Spatial detections: per-frame boxes and tubes.

* Frame detections CSV: ``video,frame,class,score,x1,y1,x2,y2`` (a header row is optional;
  ``video`` is the ground-truth key, ``frame`` 1-based, ``class`` the 0-based label index or
  the class name, boxes in absolute pixels). Parsed with pandas' C reader, no per-row Python.
* COCO results JSON (``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]``) together
  with the COCO ground truth written by ``attnviz convert-gt`` (its ``file_name`` is
  ``video/%05d.jpg``); boxes become ``x2 = x + w``.
* Tubes JSON: ``{"tubes": [{"video": str, "class": int or name, "score": float, "boxes":
  [[frame, x1, y1, x2, y2], ...]}]}`` with consecutive ascending frames.

Gzip is read transparently. Errors name the file, the row and the field.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from attnviz.errors import InputError
from attnviz.io.atomic import atomic_write_text
from attnviz.io.textfiles import read_text
from attnviz.types import FrameDetections, SpatialGroundTruth, Tube

__all__ = [
    "read_coco_results",
    "read_frame_detections",
    "read_tubes",
    "write_frame_detections",
    "write_tubes",
]

_COLS = ["video", "frame", "class", "score", "x1", "y1", "x2", "y2"]


def _label_map(tokens: np.ndarray, labels: Sequence[str], where) -> np.ndarray:
    by_name = {n: k for k, n in enumerate(labels)}
    uniq, inv = np.unique(tokens.astype(str), return_inverse=True)
    mapped = np.empty(len(uniq), dtype=np.int64)
    for j, tok in enumerate(uniq):
        tok_s = tok.strip()
        if tok_s in by_name:
            mapped[j] = by_name[tok_s]
            continue
        try:
            f = float(tok_s)
            k = int(f) if f.is_integer() else -1
        except ValueError:
            k = -1
        if not 0 <= k < len(labels):
            raise InputError(
                f'{where(int(np.flatnonzero(inv == j)[0]))}, field "class": unknown class '
                f"{tok_s!r} (expected a name or an index 0..{len(labels) - 1})"
            )
        mapped[j] = k
    return mapped[inv]


def _check(dets: FrameDetections, gt: SpatialGroundTruth | None, where) -> None:
    b = dets.boxes
    finite = np.isfinite(b).all(axis=1) & np.isfinite(dets.score)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        field = (
            "score"
            if not np.isfinite(dets.score[i])
            else _COLS[4 + int(np.flatnonzero(~np.isfinite(b[i]))[0])]
        )
        raise InputError(f'{where(i)}, field "{field}": NaN or not a finite number')
    bad = (b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        field = "x2" if b[i, 2] < b[i, 0] else "y2"
        raise InputError(
            f'{where(i)}, field "{field}": box has x2 < x1 or y2 < y1 ({b[i].tolist()})'
        )
    if gt is None or len(dets) == 0:
        return
    uniq, inv = np.unique(dets.video.astype(str), return_inverse=True)
    nfr = np.empty(len(uniq), dtype=np.int64)
    for j, v in enumerate(uniq):
        ann = gt.videos.get(str(v))
        if ann is None:
            i = int(np.flatnonzero(inv == j)[0])
            raise InputError(f'{where(i)}, field "video": unknown video {str(v)!r}')
        nfr[j] = ann.nframes
    out = (dets.frame < 1) | (dets.frame > nfr[inv])
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise InputError(
            f'{where(i)}, field "frame": frame {int(dets.frame[i])} outside the video '
            f"(1..{int(nfr[inv[i]])})"
        )


def read_frame_detections(
    path: str | os.PathLike[str], gt: SpatialGroundTruth | None = None
) -> FrameDetections:
    """Read the frame-detection CSV (see the module docstring).

    Args:
        path: the CSV (gzip allowed).
        gt: if given, class names come from ``gt.labels`` and every row's video and frame are
            checked against it.
    """
    p = Path(path)
    text = read_text(p)
    stripped = text.lstrip()
    if not stripped:
        return FrameDetections.from_arrays([], [], [], [], np.zeros((0, 4)), str(p))
    first = stripped.split("\n", 1)[0].split(",")
    header = len(first) > 1 and first[1].strip().lower() == "frame"
    try:
        df = pd.read_csv(
            io.StringIO(text),
            header=0 if header else None,
            names=_COLS,
            dtype={"video": str, "class": str},
            skip_blank_lines=True,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            f"{p}: malformed detections CSV ({str(exc).strip().splitlines()[0]})"
        ) from None
    offset = 2 if header else 1

    def where(i: int) -> str:
        return f"{p}, row {i + offset}"

    for col in _COLS[1:]:
        if col == "class":
            continue
        if df[col].dtype == object:
            bad = pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()
            i = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise InputError(f'{where(i)}, field "{col}": {df[col].iloc[i]!r} is not a number')
    if df[_COLS].isna().any().any():
        i = int(np.flatnonzero(df[_COLS].isna().any(axis=1).to_numpy())[0])
        col = next(c for c in _COLS if pd.isna(df[c].iloc[i]))
        raise InputError(f'{where(i)}, field "{col}": missing or NaN')
    frame = df["frame"].to_numpy()
    if not np.all(np.equal(np.mod(frame, 1), 0)):
        i = int(np.flatnonzero(np.mod(frame, 1) != 0)[0])
        raise InputError(f'{where(i)}, field "frame": {frame[i]!r} is not an integer')
    labels = gt.labels if gt is not None else ()
    label = (
        _label_map(df["class"].to_numpy(), labels, where)
        if gt is not None
        else df["class"].astype(int).to_numpy()
    )
    dets = FrameDetections(
        df["video"].to_numpy(dtype=object),
        frame.astype(np.int64),
        label.astype(np.int64),
        df["score"].to_numpy(dtype=np.float64),
        df[["x1", "y1", "x2", "y2"]].to_numpy(dtype=np.float64),
        np.arange(offset, offset + len(df), dtype=np.int64),
        str(p),
    )
    _check(dets, gt, where)
    return dets


def read_coco_results(
    path: str | os.PathLike[str],
    coco_gt: str | os.PathLike[str] | Mapping,
    gt: SpatialGroundTruth,
) -> FrameDetections:
    """COCO results JSON -> frame detections, through the COCO ground truth written by
    ``convert-gt`` (image ``file_name`` = ``video/%05d.jpg``, category id = label + 1)."""
    p = Path(path)
    try:
        res = json.loads(read_text(p))
        cg = coco_gt if isinstance(coco_gt, Mapping) else json.loads(read_text(coco_gt))
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(res, list):
        raise InputError(f"{p}: expected a list of COCO results")
    images = {}
    for im in cg.get("images", []):
        name = str(im["file_name"])
        video, _, fname = name.rpartition("/")
        images[int(im["id"])] = (video, int(Path(fname).stem))
    n = len(res)
    video = np.empty(n, dtype=object)
    frame = np.empty(n, dtype=np.int64)
    label = np.empty(n, dtype=np.int64)
    score = np.empty(n)
    boxes = np.empty((n, 4))
    for i, r in enumerate(res):
        try:
            vid, fr = images[int(r["image_id"])]
            x, y, w, h = (float(v) for v in r["bbox"])
            video[i], frame[i] = vid, fr
            label[i] = int(r["category_id"]) - 1
            score[i] = float(r["score"])
        except KeyError as exc:
            raise InputError(f"{p}, result {i}: missing or unknown {exc}") from None
        except (TypeError, ValueError):
            raise InputError(f"{p}, result {i}: bbox, score or ids not numbers") from None
        boxes[i] = (x, y, x + w, y + h)
    dets = FrameDetections(video, frame, label, score, boxes, np.arange(1, n + 1), str(p))
    _check(dets, gt, lambda i: f"{p}, result {i}")
    return dets


def read_tubes(path: str | os.PathLike[str], gt: SpatialGroundTruth | None = None) -> list[Tube]:
    """Read the tubes JSON (see the module docstring); checks frames are consecutive and
    ascending, boxes finite with ``x2 >= x1``, videos and classes known to ``gt``."""
    p = Path(path)
    try:
        data = json.loads(read_text(p))
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    items = data.get("tubes") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InputError(f'{p}: expected {{"tubes": [...]}}')
    labels = gt.labels if gt is not None else ()
    by_name = {n: k for k, n in enumerate(labels)}
    out: list[Tube] = []
    for i, t in enumerate(items):
        where = f"{p}, tube {i}"
        try:
            video = str(t["video"])
            cls = t["class"]
            score = float(t["score"])
            boxes = np.asarray(t["boxes"], dtype=np.float64)
        except KeyError as exc:
            raise InputError(f"{where}: missing field {exc}") from None
        except (TypeError, ValueError):
            raise InputError(f'{where}, field "score" or "boxes": not numbers') from None
        if isinstance(cls, str) and cls in by_name:
            label = by_name[cls]
        else:
            try:
                label = int(cls)
            except (TypeError, ValueError):
                raise InputError(f'{where}, field "class": unknown class {cls!r}') from None
        if gt is not None and not 0 <= label < len(labels):
            raise InputError(f'{where}, field "class": unknown class {cls!r}')
        if not np.isfinite(score):
            raise InputError(f'{where}, field "score": NaN or not finite')
        if boxes.ndim != 2 or boxes.shape[1] != 5 or len(boxes) == 0:
            raise InputError(f'{where}, field "boxes": expected [[frame, x1, y1, x2, y2], ...]')
        if not np.isfinite(boxes).all():
            raise InputError(f'{where}, field "boxes": NaN or not finite')
        if (np.diff(boxes[:, 0]) != 1).any() or (boxes[:, 0] % 1 != 0).any():
            raise InputError(f'{where}, field "boxes": frames must be consecutive and ascending')
        if ((boxes[:, 3] < boxes[:, 1]) | (boxes[:, 4] < boxes[:, 2])).any():
            raise InputError(f'{where}, field "boxes": a box has x2 < x1 or y2 < y1')
        if gt is not None:
            ann = gt.videos.get(video)
            if ann is None:
                raise InputError(f'{where}, field "video": unknown video {video!r}')
            if boxes[0, 0] < 1 or boxes[-1, 0] > ann.nframes:
                raise InputError(f'{where}, field "boxes": frames outside 1..{ann.nframes}')
        out.append(Tube(video, label, score, boxes))
    return out


def write_frame_detections(
    path: str | os.PathLike[str], dets: FrameDetections, labels: Sequence[str] | None = None
) -> None:
    """Write the frame-detection CSV (header row; class as name if ``labels`` given)."""
    cls = [labels[k] for k in dets.label] if labels is not None else dets.label
    df = pd.DataFrame(
        {
            "video": dets.video,
            "frame": dets.frame,
            "class": cls,
            "score": dets.score,
            "x1": dets.boxes[:, 0],
            "y1": dets.boxes[:, 1],
            "x2": dets.boxes[:, 2],
            "y2": dets.boxes[:, 3],
        }
    )
    atomic_write_text(path, df.to_csv(index=False, float_format="%.17g"))


def write_tubes(path: str | os.PathLike[str], tubes: Sequence[Tube]) -> None:
    """Write the tubes JSON."""
    data = {
        "tubes": [
            {
                "video": t.video,
                "class": int(t.label),
                "score": float(t.score),
                "boxes": np.asarray(t.boxes, dtype=np.float64).tolist(),
            }
            for t in tubes
        ]
    }
    atomic_write_text(path, json.dumps(data))
