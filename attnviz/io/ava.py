"""AVA files: the label map, keyframe boxes (ground truth and detections), excluded keyframes.

Layouts (those of the AVA releases and of ActivityNet's ``Evaluation/get_ava_performance.py``):

* label map (``.pbtxt``): ``item { name: "bend/bow (at the waist)" id: 1 }`` blocks, one field
  a line (``label_id:`` is read as ``id:``);
* boxes (CSV, no header): ``video_id,timestamp,x1,y1,x2,y2,action_id[,score]``; boxes
  normalised to [0, 1]; the 8th column is the person id in ground-truth files and the score in
  detection files (a detection row without it has score 1.0); a row ``video_id,timestamp``
  alone names a keyframe with no action (it still belongs to the ground truth);
* excluded keyframes (older releases, e.g. ``ava_val_excluded_timestamps_v2.1.csv``):
  ``video_id,timestamp`` rows.

A keyframe's key is the video id and the timestamp read as a decimal, as the official
evaluator builds it (``"%s,%.6f"``): ``0902``, ``902`` and ``902.0`` are one keyframe, and
AVA-Kinetics' fractional timestamps keep their digits. Every file may be gzip-compressed.
Numbers are the doubles nearest to the decimals written; errors name the file, the line and the
field.
"""

from __future__ import annotations

import csv
import io
import os
import re
from decimal import Decimal, InvalidOperation
from importlib import resources

import numpy as np
import pandas as pd

from attnviz.errors import InputError
from attnviz.io.textfiles import read_bytes, read_text
from attnviz.types import KeyframeBoxes

__all__ = [
    "default_label_map",
    "keyframe_key",
    "read_ava_boxes",
    "read_excluded_keyframes",
    "read_label_map",
    "write_ava_detections",
]

# pandas < 3 needs the round-trip parser for the double nearest to each decimal; pandas 3 parses
# exactly by default (and deprecates the option)
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
_FIELDS = ("video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "score")
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


# --------------------------------------------------------------------------- label map
def _parse_label_map(text: str, source: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    ids: list[int] = []
    names: list[str] = []
    name: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("name:"):
            m = re.fullmatch(r'name:\s*"([^"]*)"', line)
            if m is None:
                raise InputError(f'{source}, line {lineno}, field "name": expected name: "..."')
            name = m.group(1)
        elif line.startswith(("id:", "label_id:")):
            value = line.split(":", 1)[1].strip()
            if not _INTEGER.fullmatch(value):
                raise InputError(
                    f'{source}, line {lineno}, field "id": {value!r} is not an integer'
                )
            if name is None:
                raise InputError(f'{source}, line {lineno}, field "id": an id before any name')
            cid = int(value)
            if cid < 1:
                raise InputError(f'{source}, line {lineno}, field "id": ids start at 1, got {cid}')
            if cid in ids:
                raise InputError(f'{source}, line {lineno}, field "id": id {cid} appears twice')
            ids.append(cid)
            names.append(name)
    if not ids:
        raise InputError(f"{source}: no label map item (expected item {{ name: ... id: ... }})")
    return tuple(ids), tuple(names)


def read_label_map(path: str | os.PathLike[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """``(ids, names)`` of the label map's items, in file order."""
    return _parse_label_map(read_text(path), str(path))


def default_label_map() -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The AVA v2.1 label map of the 2018 challenge (60 classes), shipped with attnviz."""
    name = "ava_action_list_v2.1_for_activitynet_2018.pbtxt"
    text = resources.files("attnviz").joinpath(f"resources/datasets/ava/{name}").read_text()
    return _parse_label_map(text, name)


# --------------------------------------------------------------------------- keys
def keyframe_key(video: str, timestamp: str | float) -> str:
    """The official key of a keyframe: ``"%s,%.6f" % (video, Decimal(timestamp))``."""
    return "%s,%.6f" % (video, float(Decimal(str(timestamp).strip())))  # noqa: UP031


def _timestamps(tokens: np.ndarray, path, lines: np.ndarray) -> np.ndarray:
    """Seconds (float64) of the timestamp column, each distinct text read as a decimal once."""
    codes, uniq = pd.factorize(pd.Series(tokens, dtype=object), sort=False)
    secs = np.empty(len(uniq))
    for i, tok in enumerate(uniq.tolist()):
        try:
            value = Decimal(str(tok).strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            row = int(np.flatnonzero(codes == i)[0])
            raise InputError(
                f'{path}, line {lines[row]}, field "timestamp": {tok!r} is not a number'
            )
        secs[i] = float(value)
    return secs[codes]


# --------------------------------------------------------------------------- boxes
def _text(data: bytes, path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None


def _line_numbers(data: bytes, n: int) -> np.ndarray:
    """1-based line of each non-blank row (pandas skips blank lines)."""
    t = data.replace(b"\r\n", b"\n") if b"\r" in data else data
    if not t.startswith(b"\n") and b"\n\n" not in t and t.count(b"\n") in (n, n - 1):
        return np.arange(1, n + 1, dtype=np.int64)
    lines = _text(data, "").splitlines()
    return np.asarray([i for i, ln in enumerate(lines, 1) if ln.strip()], dtype=np.int64)[:n]


def _slow_check(text: str, path) -> None:
    """Find the first malformed row with the csv module and raise an error naming it."""
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}, line {reader.line_num}"
        if len(row) not in (2, 7, 8):
            raise InputError(
                f"{where}: expected 2, 7 or 8 fields "
                f"'video_id,timestamp[,x1,y1,x2,y2,action_id[,score]]', got {len(row)}"
            )
        for k, tok in enumerate(row[1:], 1):
            field = _FIELDS[k]
            pattern = _INTEGER if field == "action_id" else _NUMBER
            if field == "timestamp":
                pattern = _NUMBER
            if not pattern.fullmatch(tok):
                kind = "an integer" if field == "action_id" else "a number"
                raise InputError(f'{where}, field "{field}": {tok!r} is not {kind}')


def read_ava_boxes(path: str | os.PathLike[str]) -> KeyframeBoxes:
    """Read an AVA box CSV (ground truth or detections; see the module docstring).

    Returns:
        KeyframeBoxes in file order (rows that only name a keyframe have ``label == -1``).

    Raises:
        InputError: a row with another number of fields, a field that is not a number (the
            action id: not an integer), a NaN or infinite value, naming the file and line.
    """
    data = read_bytes(path)
    if not data or data.isspace():
        return _empty_boxes(str(path))
    try:
        df = pd.read_csv(
            io.BytesIO(data),
            header=None,
            names=list(range(9)),
            dtype={0: str},
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=[""],
            **_EXACT_FLOATS,
            skip_blank_lines=True,
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        _slow_check(_text(data, path), path)
        raise InputError(f"{path}: not an AVA CSV file") from None
    n = len(df)
    nums = df.iloc[:, 1:9]
    numeric = all(pd.api.types.is_numeric_dtype(nums[c].dtype) for c in nums.columns)
    if not numeric:  # a field that is not a number (or a timestamp the slow path may accept)
        text = _text(data, path)
        _slow_check(text, path)
        return _read_slow_timestamps(df, text, path)
    allv = nums.to_numpy(dtype=np.float64)
    secs, vals = allv[:, 0], allv[:, 1:]
    present = ~np.isnan(vals)
    ok = ~present[:, 6] & (present[:, :5].all(axis=1) | ~present[:, :6].any(axis=1))
    video = df[0].to_numpy(dtype=object)
    if not ok.all() or df[0].hasnans or np.isnan(secs).any():
        _slow_check(_text(data, path), path)
        raise InputError(f"{path}: a row has a missing field")
    lines = _line_numbers(data, n)
    if not np.isfinite(secs).all():
        r = int(np.flatnonzero(~np.isfinite(secs))[0])
        raise InputError(f'{path}, line {lines[r]}, field "timestamp": {secs[r]!r} is not finite')
    boxed = present[:, 0]
    label_f = vals[:, 4]
    if boxed.any() and (label_f[boxed] != np.round(label_f[boxed])).any():
        _slow_check(_text(data, path), path)
    finite = np.isfinite(vals[:, :6]) | ~present[:, :6]
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        raise InputError(
            f'{path}, line {lines[r]}, field "{_FIELDS[2 + c]}": {vals[r, c]!r} is not finite'
        )
    label = np.where(boxed, np.nan_to_num(label_f, nan=-1.0), -1.0).astype(np.int64)
    score = np.where(present[:, 5], vals[:, 5], 1.0)
    return KeyframeBoxes(
        video=video,
        timestamp=secs,
        box=np.ascontiguousarray(vals[:, :4]),
        label=label,
        score=score,
        line=lines,
        source=str(path),
    )


def _read_slow_timestamps(df: pd.DataFrame, text: str, path) -> KeyframeBoxes:
    """Rows that passed the field check but whose timestamps pandas did not read as numbers:
    read the timestamp column as decimals, the rest as numbers."""
    df = pd.read_csv(
        io.StringIO(text), header=None, names=list(range(9)), dtype={0: str, 1: str},
        keep_default_na=False, na_values=[""], skip_blank_lines=True, **_EXACT_FLOATS,
    )  # fmt: skip
    n = len(df)
    lines = _line_numbers(text.encode("utf-8"), n)
    secs = _timestamps(df[1].to_numpy(dtype=object), path, lines)
    vals = df.iloc[:, 2:9].to_numpy(dtype=np.float64)
    present = ~np.isnan(vals)
    boxed = present[:, 0]
    return KeyframeBoxes(
        video=df[0].to_numpy(dtype=object),
        timestamp=secs,
        box=np.ascontiguousarray(vals[:, :4]),
        label=np.where(boxed, np.nan_to_num(vals[:, 4], nan=-1.0), -1.0).astype(np.int64),
        score=np.where(present[:, 5], vals[:, 5], 1.0),
        line=lines,
        source=str(path),
    )


def _empty_boxes(source: str) -> KeyframeBoxes:
    return KeyframeBoxes(
        video=np.zeros(0, dtype=object),
        timestamp=np.zeros(0),
        box=np.zeros((0, 4)),
        label=np.zeros(0, dtype=np.int64),
        score=np.zeros(0),
        line=np.zeros(0, dtype=np.int64),
        source=source,
    )


def read_excluded_keyframes(path: str | os.PathLike[str]) -> frozenset[str]:
    """The keys of an excluded-keyframes CSV (``video_id,timestamp`` rows)."""
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    keys = set()
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise InputError(
                f"{path}, line {reader.line_num}: expected 2 fields 'video_id,timestamp', "
                f"got {len(row)}"
            )
        if not _NUMBER.fullmatch(row[1]):
            raise InputError(
                f'{path}, line {reader.line_num}, field "timestamp": {row[1]!r} is not a number'
            )
        keys.add(keyframe_key(row[0], row[1]))
    return frozenset(keys)


def write_ava_detections(path: str | os.PathLike[str], dets: KeyframeBoxes) -> None:
    """Write ``dets`` as an AVA detection CSV ``video_id,timestamp,x1,y1,x2,y2,action_id,score``
    (atomically; numbers with the digits that read back to the same doubles; timestamps as
    ``%.6f`` with trailing zeros removed, which reads back to the same keyframe key)."""
    from attnviz.io.atomic import atomic_write_text

    rows = []
    for v, t, b, lab, sc in zip(
        dets.video.tolist(),
        dets.timestamp.tolist(),
        dets.box.tolist(),
        dets.label.tolist(),
        dets.score.tolist(),
        strict=True,
    ):
        ts = ("%.6f" % t).rstrip("0").rstrip(".")  # noqa: UP031
        if lab < 0:
            rows.append(f"{v},{ts}")
        else:
            rows.append(f"{v},{ts},{b[0]!r},{b[1]!r},{b[2]!r},{b[3]!r},{int(lab)},{sc!r}")
    atomic_write_text(path, "\n".join(rows) + ("\n" if rows else ""))
