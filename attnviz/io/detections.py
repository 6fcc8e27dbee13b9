"""Spatial detections: per-frame boxes and tubes.

* Frame detections CSV: ``video,frame,class,score,x1,y1,x2,y2`` (a header row with exactly these
  names is optional; ``video`` is the ground-truth key such as
  ``Basketball/v_Basketball_g01_c01``, ``frame`` 1-based, ``class`` the 0-based label index or
  the class name, boxes ``x1, y1, x2, y2`` in absolute pixels). Parsed with pandas' C reader,
  no per-row Python: 500,000 rows load in about a second.
* COCO results JSON (``[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]``) together
  with the COCO ground truth written by ``attnviz convert-gt --to coco`` (its ``file_name`` is
  ``video/%05d.jpg``, category id = label + 1); boxes become ``x2 = x + w``.
* Tubes JSON: ``{"tubes": [{"video": str, "class": int or name, "score": float, "boxes":
  [[frame, x1, y1, x2, y2], ...]}]}`` with consecutive ascending frames.

Gzip is read transparently (a truncated gzip is an error). Given the ground truth, every row is
checked: known video, frame inside the video, known class, finite score and box, ``x2 >= x1``
and ``y2 >= y1``. Errors name the file, the row (1-based line of the CSV, 1-based entry of a
JSON list) and the field. A file with no detection is valid.
"""

from __future__ import annotations

import io
import json
import os
import re
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
    "write_coco_results",
    "write_frame_detections",
    "write_tubes",
]

_COLS = ["video", "frame", "class", "score", "x1", "y1", "x2", "y2"]


def _label_map(tokens: np.ndarray, labels: Sequence[str], where) -> np.ndarray:
    """Class names or 0-based indices -> label indices (one look-up per distinct token)."""
    codes, uniq = pd.factorize(pd.Series(tokens, dtype=object).astype(str), sort=False)
    by_name = {n: k for k, n in enumerate(labels)}
    mapped = np.empty(len(uniq), dtype=np.int64)
    for j, tok in enumerate(uniq):
        tok_s = str(tok).strip()
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
                f'{where(int(np.flatnonzero(codes == j)[0]))}, field "class": unknown class '
                f"{tok_s!r} (expected a name or an index 0..{len(labels) - 1})"
            )
        mapped[j] = k
    return mapped[codes]


def _check(dets: FrameDetections, gt: SpatialGroundTruth | None, where) -> None:
    """Finite scores and boxes, ``x2 >= x1``, ``y2 >= y1``; with ``gt``: known videos, frames
    inside them."""
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
    codes, uniq = pd.factorize(pd.Series(dets.video, dtype=object), sort=False)
    nfr = np.empty(len(uniq), dtype=np.int64)
    for j, v in enumerate(uniq):
        ann = gt.videos.get(str(v))
        if ann is None:
            i = int(np.flatnonzero(codes == j)[0])
            raise InputError(f'{where(i)}, field "video": unknown video {str(v)!r}')
        nfr[j] = ann.nframes
    out = (dets.frame < 1) | (dets.frame > nfr[codes])
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise InputError(
            f'{where(i)}, field "frame": frame {int(dets.frame[i])} outside the video '
            f"(1..{int(nfr[codes[i]])})"
        )


def _line_numbers(text: str) -> np.ndarray:
    """1-based line numbers of the non-blank lines (pandas skips blank ones)."""
    return np.asarray([i for i, ln in enumerate(text.split("\n"), 1) if ln.strip()], dtype=np.int64)


def _field_count_error(p: Path, text: str) -> None:
    """Raise for the first line that does not hold 8 comma-separated fields."""
    for i, ln in enumerate(text.split("\n"), 1):
        if ln.strip() and len(ln.split(",")) != len(_COLS):
            raise InputError(
                f"{p}, row {i}: expected {len(_COLS)} fields ({','.join(_COLS)}), found "
                f"{len(ln.split(','))}"
            )


def read_frame_detections(
    path: str | os.PathLike[str], gt: SpatialGroundTruth | None = None
) -> FrameDetections:
    """Read the frame-detection CSV (see the module docstring).

    Args:
        path: the CSV (gzip allowed).
        gt: if given, class names come from ``gt.labels`` and every row's video and frame are
            checked against it; without it ``class`` must be an index.

    Returns:
        :class:`~attnviz.types.FrameDetections` in file order, ``line`` the CSV line numbers.
    """
    p = Path(path)
    text = read_text(p)
    if not text.strip():
        return FrameDetections.from_arrays([], [], [], [], np.zeros((0, 4)), str(p))
    first = text.lstrip().split("\n", 1)[0]
    header = [c.strip().lower() for c in first.split(",")]
    has_header = len(header) > 1 and header[1] == "frame"
    if has_header and header != _COLS:
        raise InputError(f"{p}, line 1: header must be {','.join(_COLS)} (got {first.strip()!r})")
    try:
        df = pd.read_csv(
            io.StringIO(text),
            header=0 if has_header else None,
            names=_COLS,
            dtype={"video": str, "class": str},
            skip_blank_lines=True,
            engine="c",
            na_filter=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        _field_count_error(p, text)
        raise InputError(
            f"{p}: malformed detections CSV ({str(exc).strip().splitlines()[0]})"
        ) from None
    if not isinstance(df.index, pd.RangeIndex):  # a first row with extra fields
        _field_count_error(p, text)
    blank_lines = re.search(r"(?m)^[ \t\r]*\n", text) is not None
    lines = (
        _line_numbers(text)[1 if has_header else 0 :]
        if blank_lines
        else np.arange(len(df), dtype=np.int64) + (2 if has_header else 1)
    )

    def where(i: int) -> str:
        return f"{p}, row {int(lines[i])}"

    if len(df) == 0:
        return FrameDetections.from_arrays([], [], [], [], np.zeros((0, 4)), str(p))
    for col in _COLS[1:]:
        if col == "class":
            continue
        if df[col].dtype == object or str(df[col].dtype) in ("str", "string"):
            num = pd.to_numeric(df[col], errors="coerce")
            bad = (num.isna() & df[col].notna()).to_numpy()
            i = int(np.flatnonzero(bad)[0]) if bad.any() else int(np.flatnonzero(num.isna())[0])
            raise InputError(f'{where(i)}, field "{col}": {df[col].iloc[i]!r} is not a number')
    missing = df[_COLS].isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing.any(axis=1))[0])
        col = _COLS[int(np.flatnonzero(missing[i])[0])]
        raise InputError(f'{where(i)}, field "{col}": missing or NaN')
    frame = df["frame"].to_numpy()
    if frame.dtype.kind == "f":
        frac = np.mod(frame, 1) != 0
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise InputError(f'{where(i)}, field "frame": {float(frame[i])!r} is not an integer')
    cls = df["class"].to_numpy(dtype=object)
    if gt is not None:
        label = _label_map(cls, gt.labels, where)
    else:
        try:
            label = np.asarray(cls, dtype=np.float64)
        except ValueError:
            label = np.full(len(cls), np.nan)
        ok = np.isfinite(label) & (np.mod(np.nan_to_num(label), 1) == 0) & (label >= 0)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise InputError(
                f'{where(i)}, field "class": {cls[i]!r} is not a class index (class names need '
                "the ground truth)"
            )
    dets = FrameDetections(
        df["video"].to_numpy(dtype=object),
        frame.astype(np.int64),
        np.asarray(label, dtype=np.int64),
        df["score"].to_numpy(dtype=np.float64),
        df[["x1", "y1", "x2", "y2"]].to_numpy(dtype=np.float64),
        lines,
        str(p),
    )
    _check(dets, gt, where)
    return dets


def _coco_images(coco_gt, p: Path) -> dict[int, tuple[str, int]]:
    if isinstance(coco_gt, Mapping):
        cg, src = coco_gt, "COCO ground truth"
    else:
        src = str(coco_gt)
        try:
            cg = json.loads(read_text(coco_gt))
        except json.JSONDecodeError as exc:
            raise InputError(f"{src}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(cg, Mapping) or not isinstance(cg.get("images"), list):
        raise InputError(f'{src}: expected COCO ground truth with "images" (from convert-gt)')
    images = {}
    for k, im in enumerate(cg["images"], 1):
        try:
            name = str(im["file_name"])
            video, _, fname = name.rpartition("/")
            images[int(im["id"])] = (video, int(Path(fname).stem))
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f'{src}, image {k}: expected "id" and "file_name" = "<video>/<frame:05d>.jpg"'
            ) from None
    return images


def read_coco_results(
    path: str | os.PathLike[str],
    coco_gt: str | os.PathLike[str] | Mapping,
    gt: SpatialGroundTruth,
) -> FrameDetections:
    """COCO results JSON -> frame detections, through the COCO ground truth written by
    ``convert-gt`` (image ``file_name`` = ``video/%05d.jpg``, category id = label + 1).
    ``line`` holds the 1-based entry number."""
    p = Path(path)
    try:
        res = json.loads(read_text(p))
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(res, list):
        raise InputError(f"{p}: expected a list of COCO results")
    images = _coco_images(coco_gt, p)
    n = len(res)

    def where(i: int) -> str:
        return f"{p}, entry {i + 1}"

    if n == 0:
        return FrameDetections.from_arrays([], [], [], [], np.zeros((0, 4)), str(p))
    if not all(isinstance(r, Mapping) for r in res):
        i = next(i for i, r in enumerate(res) if not isinstance(r, Mapping))
        raise InputError(f"{where(i)}: expected an object with image_id, category_id, bbox, score")
    df = pd.DataFrame.from_records(res, columns=["image_id", "category_id", "bbox", "score"])
    for col in ("image_id", "category_id", "bbox", "score"):
        miss = df[col].isna().to_numpy() if col != "bbox" else df[col].map(
            lambda b: not isinstance(b, list | tuple) or len(b) != 4
        ).to_numpy()  # fmt: skip
        if miss.any():
            i = int(np.flatnonzero(miss)[0])
            what = "missing" if col != "bbox" else "missing or not [x, y, w, h]"
            raise InputError(f'{where(i)}, field "{col}": {what}')
    num = {}
    for col in ("image_id", "category_id", "score"):
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(v)
        if col != "score":
            bad |= np.mod(np.nan_to_num(v), 1) != 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f'{where(i)}, field "{col}": {df[col].iloc[i]!r} is not valid')
        num[col] = v
    try:
        bbox = np.array(df["bbox"].tolist(), dtype=np.float64).reshape(n, 4)
    except (TypeError, ValueError):
        bad = [i for i, b in enumerate(df["bbox"]) if not _numbers(b)]
        raise InputError(f'{where(bad[0] if bad else 0)}, field "bbox": not numbers') from None
    img = num["image_id"].astype(np.int64)
    codes, uniq = pd.factorize(img)
    video = np.empty(len(uniq), dtype=object)
    frame = np.empty(len(uniq), dtype=np.int64)
    for j, im in enumerate(uniq.tolist()):
        if im not in images:
            i = int(np.flatnonzero(codes == j)[0])
            raise InputError(f'{where(i)}, field "image_id": {im} is not in the COCO ground truth')
        video[j], frame[j] = images[im]
    label = num["category_id"].astype(np.int64) - 1
    bad = (label < 0) | (label >= len(gt.labels))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f'{where(i)}, field "category_id": unknown category {label[i] + 1}')
    boxes = np.column_stack(
        [bbox[:, 0], bbox[:, 1], bbox[:, 0] + bbox[:, 2], bbox[:, 1] + bbox[:, 3]]
    )
    dets = FrameDetections(
        video[codes], frame[codes], label, num["score"], boxes, np.arange(1, n + 1), str(p)
    )
    _check(dets, gt, where)
    return dets


def _numbers(b) -> bool:
    try:
        return len(np.asarray(b, dtype=np.float64).reshape(-1)) == 4
    except (TypeError, ValueError):
        return False


def read_tubes(path: str | os.PathLike[str], gt: SpatialGroundTruth | None = None) -> list[Tube]:
    """Read the tubes JSON (see the module docstring); checks that frames are consecutive,
    ascending integers, boxes finite with ``x2 >= x1`` and ``y2 >= y1``, and (with ``gt``) videos
    and classes known and frames inside the video. Errors name the 1-based tube entry."""
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
        where = f"{p}, tube {i + 1}"
        if not isinstance(t, Mapping):
            raise InputError(f"{where}: expected an object with video, class, score, boxes")
        for key in ("video", "class", "score", "boxes"):
            if key not in t:
                raise InputError(f'{where}, field "{key}": missing')
        video = str(t["video"])
        cls = t["class"]
        try:
            score = float(t["score"])
        except (TypeError, ValueError):
            raise InputError(f'{where}, field "score": {t["score"]!r} is not a number') from None
        if not np.isfinite(score):
            raise InputError(f'{where}, field "score": NaN or not finite')
        try:
            boxes = np.asarray(t["boxes"], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f'{where}, field "boxes": expected [[frame, x1, y1, x2, y2], ...] numbers'
            ) from None
        if isinstance(cls, str) and cls in by_name:
            label = by_name[cls]
        elif isinstance(cls, bool) or not isinstance(cls, int | float | str):
            raise InputError(f'{where}, field "class": unknown class {cls!r}')
        else:
            try:
                f = float(cls)
                if not f.is_integer():
                    raise ValueError
                label = int(f)
            except (TypeError, ValueError):
                raise InputError(f'{where}, field "class": unknown class {cls!r}') from None
        if label < 0 or (gt is not None and label >= len(labels)):
            raise InputError(f'{where}, field "class": unknown class {cls!r}')
        if boxes.ndim != 2 or boxes.shape[1] != 5 or len(boxes) == 0:
            raise InputError(
                f'{where}, field "boxes": expected a non-empty [[frame, x1, y1, x2, y2], ...]'
            )
        if not np.isfinite(boxes).all():
            raise InputError(f'{where}, field "boxes": NaN or not finite')
        fr = boxes[:, 0]
        if (fr % 1 != 0).any() or (np.diff(fr) != 1).any():
            k = int(np.flatnonzero((fr % 1 != 0) | np.r_[False, np.diff(fr) != 1])[0])
            raise InputError(
                f'{where}, field "boxes": frames must be consecutive and ascending (row {k + 1}: '
                f"frame {fr[k]:g} after {fr[k - 1]:g})"
                if k
                else f'{where}, field "boxes": frame {fr[0]:g} is not an integer'
            )
        bad = (boxes[:, 3] < boxes[:, 1]) | (boxes[:, 4] < boxes[:, 2])
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InputError(
                f'{where}, field "boxes": row {k + 1} (frame {fr[k]:g}) has x2 < x1 or y2 < y1'
            )
        if gt is not None:
            ann = gt.videos.get(video)
            if ann is None:
                raise InputError(f'{where}, field "video": unknown video {video!r}')
            if fr[0] < 1 or fr[-1] > ann.nframes:
                raise InputError(
                    f'{where}, field "boxes": frames {fr[0]:g}..{fr[-1]:g} outside the video '
                    f"(1..{ann.nframes})"
                )
        elif fr[0] < 1:
            raise InputError(f'{where}, field "boxes": frame {fr[0]:g} < 1')
        out.append(Tube(video, label, score, boxes))
    return out


def write_frame_detections(
    path: str | os.PathLike[str], dets: FrameDetections, labels: Sequence[str] | None = None
) -> None:
    """Write the frame-detection CSV (header row; class as name if ``labels`` given; each
    number in its shortest form that reads back as the same double: ``2.3``, not
    ``2.2999999999999998``)."""
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
    atomic_write_text(path, df.to_csv(index=False, lineterminator="\n"))


def write_coco_results(
    path: str | os.PathLike[str],
    dets: FrameDetections,
    image_ids: Mapping[tuple[str, int], int],
) -> None:
    """Write frame detections as COCO results (``image_ids`` from
    :func:`attnviz.io.spatial_gt.coco_image_ids`)."""
    out = []
    for i in range(len(dets)):
        b = dets.boxes[i]
        out.append(
            {
                "image_id": int(image_ids[(str(dets.video[i]), int(dets.frame[i]))]),
                "category_id": int(dets.label[i]) + 1,
                "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                "score": float(dets.score[i]),
            }
        )
    atomic_write_text(path, json.dumps(out))


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
