"""THUMOS14-style temporal annotations and detections.

Ground truth (:func:`read_thumos_gt`):

* a folder of the official per-class files ``<Class>_<subset>.txt`` and
  ``Ambiguous_<subset>.txt``, one instance per line ``video t_start t_end`` (seconds); each file
  may also be ``<Class>_<subset>.txt.gz`` (the layout attnviz ships, see
  :mod:`attnviz.io.datasets`);
* the ActivityNet-style JSON (``{"database": {video: {"subset": ..., "annotations":
  [{"segment": [t0, t1], "label": name}]}}}``; segments may be strings);
* the CSV layout of ``thumos14_test_groundtruth.csv`` (``video-name,t-init,t-end,...,label-idx``
  with ``label-idx`` the class's rank in alphabetical order and ``-1`` for Ambiguous).

Detections (:func:`read_detections`):

* the official run-file format ``video t_start t_end class_id score`` (whitespace separated;
  ``class_id`` is the id of the class list, the UCF101 id for THUMOS14). A video name cannot
  hold whitespace there, so :func:`write_run_file` writes whitespace and ``%`` in a name as
  ``%XX`` (percent-encoding: ``tree clip (1)`` -> ``tree%20clip%20(1)``) and the reader decodes
  every ``%XX`` of a name back (THUMOS14's own names hold neither);
* ActivityNet results JSON ``{"results": {video: [{"segment": [s, e], "label": name or id,
  "score": x}]}}``;
* CSV ``video,t_start,t_end,label,score`` (label = class name or id; a header row is optional,
  and when present it may name the columns in any order).

Every file may be gzip-compressed. Numbers are read as the official code reads them (the double
nearest to the decimal written). Errors name the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from attnviz.errors import AttnvizError, InputError
from attnviz.io.textfiles import read_text
from attnviz.types import TemporalDetections, TemporalGroundTruth

__all__ = [
    "PRED_FORMATS",
    "TEMPORAL_GT_FORMATS",
    "Detections",
    "default_class_list",
    "detection_format",
    "read_class_list",
    "read_detections",
    "read_thumos_gt",
    "write_run_file",
    "write_thumos_gt",
]

PRED_FORMATS = ("run", "json", "csv")

Detections = TemporalDetections

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.I)
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")


# --------------------------------------------------------------------------- class lists
def _parse_class_list(text: str, source: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    ids: list[int] = []
    names: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise InputError(f"{source}, line {lineno}: expected 'id name', got {line!r}")
        try:
            ids.append(int(parts[0]))
        except ValueError:
            raise InputError(
                f'{source}, line {lineno}, field "id": {parts[0]!r} is not an integer'
            ) from None
        if parts[1] in names:
            raise InputError(f'{source}, line {lineno}, field "name": duplicate class {parts[1]!r}')
        if ids[-1] in ids[:-1]:
            raise InputError(f'{source}, line {lineno}, field "id": duplicate id {ids[-1]}')
        if parts[1] == "Ambiguous":
            raise InputError(
                f'{source}, line {lineno}, field "name": "Ambiguous" is reserved for the '
                "segments that the THUMOS14 protocols ignore"
            )
        names.append(parts[1])
    if not names:
        raise InputError(f"{source}: empty class list")
    return tuple(ids), tuple(names)


def default_class_list() -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The 20 THUMOS14 detection classes with their UCF101 ids (``Class Index_Detection.txt``)."""
    text = (
        resources.files("attnviz")
        .joinpath("resources/thumos14_detection_classes.txt")
        .read_text(encoding="utf-8")
    )
    return _parse_class_list(text, "thumos14_detection_classes.txt")


def read_class_list(path: str | os.PathLike[str] | None) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """``(ids, names)`` from an ``id name`` file (CRLF or LF); ``None`` gives the default."""
    if path is None:
        return default_class_list()
    return _parse_class_list(read_text(path), str(path))


# --------------------------------------------------------------------------- helpers
def _numbers(tokens: Sequence[str], field: str, path, lines: Sequence[int]) -> np.ndarray:
    """Parse decimal numbers; NaN, infinities and anything else is an error naming the line."""
    try:
        values = np.asarray(tokens, dtype=np.float64) if len(tokens) else np.zeros(0)
        ok = all("_" not in t for t in tokens)
    except ValueError:
        ok = False
        values = None
    if values is not None and ok and np.isfinite(values).all():
        return values
    for i, tok in enumerate(tokens):
        t = tok.strip()
        if not _NUMBER.fullmatch(t):
            raise InputError(f'{path}, line {lines[i]}, field "{field}": {tok!r} is not a number')
        v = float(t)
        if v != v:
            raise InputError(f'{path}, line {lines[i]}, field "{field}": {tok!r} is NaN')
        if not np.isfinite(v):
            raise InputError(f'{path}, line {lines[i]}, field "{field}": {tok!r} is not finite')
    raise AssertionError("unreachable")  # pragma: no cover


def _class_lookup(
    tokens: Sequence[str],
    ids: Sequence[int],
    names: Sequence[str],
    path,
    lines: Sequence[int],
    field: str,
) -> np.ndarray:
    """Class index of each token: a class name (when ``names`` is given) or an id."""
    by_name = {n: k for k, n in enumerate(names)}
    by_id = {int(i): k for k, i in enumerate(ids)}
    cache: dict[str, int] = {}
    out = np.empty(len(tokens), dtype=np.int64)
    for i, tok in enumerate(tokens):
        k = cache.get(tok)
        if k is None:
            t = tok.strip()
            k = by_name.get(t)
            if k is None and _INTEGER.fullmatch(t):
                k = by_id.get(int(float(t)))
            if k is None:
                known = (
                    f"ids {', '.join(map(str, ids[:3]))}, ... or names {', '.join(names[:2])}, ..."
                    if names
                    else f"ids {', '.join(map(str, ids[:4]))}, ..."
                )
                raise InputError(
                    f'{path}, line {lines[i]}, field "{field}": unknown class {tok!r} (not in '
                    f"the class list: {known})"
                )
            cache[tok] = k
        out[i] = k
    return out


# --------------------------------------------------------------------------- ground truth
def _gt_subset_names(subset: str) -> tuple[str, ...]:
    s = subset.lower()
    if s in ("test", "testing"):
        return ("test", "testing")
    if s in ("val", "validation"):
        # THUMOS14 GT JSONs label the validation videos "train" (they are trained on).
        return ("val", "validation", "train")
    return (s,)


def _read_interval_file(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    videos: list[str] = []
    t1: list[str] = []
    t2: list[str] = []
    lines: list[int] = []
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise InputError(
                f"{path}, line {lineno}: expected 'video t_start t_end', got {raw.strip()!r}"
            )
        videos.append(parts[0])
        t1.append(parts[1])
        t2.append(parts[2])
        lines.append(lineno)
    return videos, _numbers(t1, "t_start", path, lines), _numbers(t2, "t_end", path, lines)


def _class_file(folder: Path, stem: str) -> Path:
    """``folder/stem.txt``, or its gzip-compressed ``stem.txt.gz`` where only that exists."""
    path = folder / f"{stem}.txt"
    gz = folder / f"{stem}.txt.gz"
    return gz if not path.is_file() and gz.is_file() else path


def _gt_from_folder(folder: Path, subset: str, ids, names) -> TemporalGroundTruth:
    if not any(folder.glob(f"*_{subset}.txt")) and not any(folder.glob(f"*_{subset}.txt.gz")):
        raise AttnvizError(
            f"{folder}: no ground-truth files '<Class>_{subset}.txt' in this folder "
            "(is {subset} right?)",
            params=("subset",),
        )
    vids: list[str] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    all_videos: set[str] = set()
    for k, name in enumerate(names):
        path = _class_file(folder, f"{name}_{subset}")
        if not path.is_file():
            raise AttnvizError(f"{path}: annotation file of class {name!r} not found")
        v, a, b = _read_interval_file(path)
        vids += v
        starts.append(a)
        ends.append(b)
        labels.append(np.full(len(v), k, dtype=np.int64))
        all_videos.update(v)
    # Ambiguous segments are optional (datasets other than THUMOS14 have none); the evaluator
    # warns when a protocol that uses them finds none.
    ambiguous: dict[str, list[tuple[float, float]]] = {}
    amb_path = _class_file(folder, f"Ambiguous_{subset}")
    if amb_path.is_file():
        v, a, b = _read_interval_file(amb_path)
        for video, s, e in zip(v, a.tolist(), b.tolist(), strict=True):
            ambiguous.setdefault(video, []).append((s, e))
        all_videos.update(v)
    return _by_class(
        names, ids, vids, np.concatenate(starts), np.concatenate(ends), np.concatenate(labels),
        ambiguous, all_videos, subset, folder,
    )  # fmt: skip


def _by_class(
    names, ids, video, start, end, label, ambiguous, videos, subset, source
) -> TemporalGroundTruth:
    """The record of annotations ``(video, start, end, label)`` given in file order, grouped by
    class (a stable sort on the label: per class, the file's order), and of the ``Ambiguous``
    segments ``{video: [(start, end)]}``."""
    label = np.asarray(label, dtype=np.int64)
    order = np.argsort(label, kind="stable")
    return TemporalGroundTruth(
        class_names=names,
        class_ids=ids,
        video=np.asarray(video, dtype=object)[order],
        start=np.asarray(start, dtype=np.float64)[order],
        end=np.asarray(end, dtype=np.float64)[order],
        label=label[order],
        ambiguous={k: np.asarray(v, dtype=np.float64) for k, v in ambiguous.items()},
        videos=tuple(sorted(videos)),
        subset=subset,
        source=str(source),
    )


def _gt_from_json(path: Path, subset: str, ids, names) -> TemporalGroundTruth:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    db = data.get("database") if isinstance(data, dict) else None
    if not isinstance(db, dict):
        raise InputError(f'{path}: expected an object with a "database" mapping')
    wanted = _gt_subset_names(subset)
    index = {n: k for k, n in enumerate(names)}
    vids, starts, ends, labels = [], [], [], []
    ambiguous: dict[str, list[tuple[float, float]]] = {}
    videos: list[str] = []
    for video, entry in db.items():
        if not isinstance(entry, dict):
            raise InputError(f'{path}, video "{video}": expected an object')
        if str(entry.get("subset", "")).lower() not in wanted:
            continue
        videos.append(video)
        anns = entry.get("annotations", [])
        if not isinstance(anns, list):
            raise InputError(f'{path}, video "{video}", field "annotations": expected a list')
        for j, ann in enumerate(anns):
            where = f'{path}, video "{video}", annotation {j}'
            if not isinstance(ann, dict):
                raise InputError(f"{where}: expected an object")
            try:
                s, e = (float(x) for x in ann["segment"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f'{where}, field "segment": expected [t_start, t_end]') from None
            if not (np.isfinite(s) and np.isfinite(e)):
                raise InputError(f'{where}, field "segment": not finite')
            label = str(ann.get("label", ""))
            if label == "Ambiguous":
                ambiguous.setdefault(video, []).append((s, e))
                continue
            if label not in index:
                raise InputError(f'{where}, field "label": unknown class {label!r}')
            vids.append(video)
            starts.append(s)
            ends.append(e)
            labels.append(index[label])
    if not videos:
        raise InputError(f"{path}: no video of subset {subset!r}")
    return _by_class(names, ids, vids, starts, ends, labels, ambiguous, videos, subset, path)


def _gt_from_csv(path: Path, subset: str, ids, names) -> TemporalGroundTruth:
    try:
        df = pd.read_csv(
            io.StringIO(read_text(path)), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).strip()})") from None
    need = ["video-name", "t-init", "t-end", "label-idx"]
    for col in need:
        if col not in df.columns:
            raise InputError(f'{path}: missing column "{col}" (expected {", ".join(need)}, ...)')
    lines = list(range(2, len(df) + 2))
    s = _numbers(df["t-init"].tolist(), "t-init", path, lines)
    e = _numbers(df["t-end"].tolist(), "t-end", path, lines)
    raw = df["label-idx"].tolist()
    lab = np.empty(len(raw), dtype=np.int64)
    for i, tok in enumerate(raw):
        if not _INTEGER.fullmatch(tok.strip()):
            raise InputError(f'{path}, line {lines[i]}, field "label-idx": {tok!r} not an integer')
        lab[i] = int(float(tok))
        if not -1 <= lab[i] < len(names):
            raise InputError(
                f'{path}, line {lines[i]}, field "label-idx": {lab[i]} out of range '
                f"(-1 for Ambiguous, 0..{len(names) - 1})"
            )
    video = np.asarray([str(v).strip() for v in df["video-name"].tolist()], dtype=object)
    alpha = np.asarray(sorted(range(len(names)), key=lambda k: names[k]), dtype=np.int64)
    amb = lab == -1
    ambiguous: dict[str, list[tuple[float, float]]] = {}
    for v, a, b in zip(video[amb].tolist(), s[amb].tolist(), e[amb].tolist(), strict=True):
        ambiguous.setdefault(v, []).append((a, b))
    keep = ~amb
    return _by_class(
        names, ids, video[keep], s[keep], e[keep], alpha[lab[keep]], ambiguous,
        set(video.tolist()), subset, path,
    )  # fmt: skip


def read_thumos_gt(
    path: str | os.PathLike[str],
    *,
    subset: str = "test",
    classes: str | os.PathLike[str] | None = None,
) -> TemporalGroundTruth:
    """Read temporal ground truth from a per-class folder, a GT JSON or the GT CSV.

    Args:
        path: folder of ``<Class>_<subset>.txt`` files (and ``Ambiguous_<subset>.txt``),
            ``*.json`` or ``*.csv`` (gzip allowed).
        subset: ``test`` or ``val``.
        classes: an ``id name`` class-list file; default the 20 THUMOS14 detection classes.

    Returns:
        TemporalGroundTruth with instances grouped by class, in annotation-file order within a
        class.

    Raises:
        AttnvizError: missing path, folder without class files, missing class file.
        InputError: malformed content (the message names the file, line and field).
    """
    p = Path(path)
    ids, names = read_class_list(classes)
    if not p.exists():
        raise AttnvizError(f"{p}: ground truth not found")
    if p.is_dir():
        return _gt_from_folder(p, subset, ids, names)
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".json":
        return _gt_from_json(p, subset, ids, names)
    if ext == ".csv":
        return _gt_from_csv(p, subset, ids, names)
    raise InputError(f"{p}: unknown ground-truth format (expected a folder, .json or .csv)")


# --------------------------------------------------------------------------- detections
def _empty(path) -> Detections:
    return Detections.from_arrays([], [], [], [], [], str(path))


_ESCAPE = re.compile(r"[%\s]")


def _encode_name(name: str) -> str:
    """A run-file video name: whitespace and ``%`` as ``%XX`` (UTF-8 bytes, upper-case hex)."""
    return _ESCAPE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), name)


def _decode_name(name: str) -> str:
    """Inverse of :func:`_encode_name`: every ``%XX`` decoded (UTF-8)."""
    from urllib.parse import unquote

    return unquote(name) if "%" in name else name


def _read_run_file(path: Path, ids, names) -> Detections:
    rows: list[list[str]] = []
    lines: list[int] = []
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise InputError(
                f"{path}, line {lineno}: expected 5 fields 'video t_start t_end class_id score', "
                f"got {len(parts)}: {raw.strip()[:80]!r}"
            )
        parts[0] = _decode_name(parts[0])
        rows.append(parts)
        lines.append(lineno)
    if not rows:
        return _empty(path)
    video, t1, t2, cls, score = zip(*rows, strict=True)
    return Detections(
        np.asarray(video, dtype=object),
        _numbers(t1, "t_start", path, lines),
        _numbers(t2, "t_end", path, lines),
        _class_lookup(cls, ids, (), path, lines, "class_id"),
        _numbers(score, "score", path, lines),
        np.asarray(lines, dtype=np.int64),
        str(path),
    )


_CSV_COLUMNS = {
    "video": "video",
    "video-name": "video",
    "video_name": "video",
    "t_start": "t_start",
    "t-start": "t_start",
    "start": "t_start",
    "t_end": "t_end",
    "t-end": "t_end",
    "end": "t_end",
    "label": "label",
    "class": "label",
    "class_id": "label",
    "class_name": "label",
    "score": "score",
}


def _read_csv_dets(path: Path, ids, names) -> Detections:
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    columns = ["video", "t_start", "t_end", "label", "score"]
    first = True
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        if first:
            first = False
            if len(row) >= 2 and not _NUMBER.fullmatch(row[1].strip()):
                # a header: map the columns by name
                heads = [_CSV_COLUMNS.get(c.strip().lower()) for c in row]
                if sorted(h for h in heads if h) != sorted(columns) or len(row) != 5:
                    raise InputError(
                        f"{path}, line {reader.line_num}: header {','.join(row)!r} does not name "
                        "the columns video,t_start,t_end,label,score"
                    )
                columns = heads  # type: ignore[assignment]
                continue
        if len(row) != 5:
            raise InputError(
                f"{path}, line {reader.line_num}: expected 5 fields "
                f"'video,t_start,t_end,label,score', got {len(row)}"
            )
        rows.append(row)
        lines.append(reader.line_num)
    if not rows:
        return _empty(path)
    cols = dict(zip(columns, zip(*rows, strict=True), strict=True))
    return Detections(
        np.asarray([v.strip() for v in cols["video"]], dtype=object),
        _numbers(cols["t_start"], "t_start", path, lines),
        _numbers(cols["t_end"], "t_end", path, lines),
        _class_lookup(cols["label"], ids, names, path, lines, "label"),
        _numbers(cols["score"], "score", path, lines),
        np.asarray(lines, dtype=np.int64),
        str(path),
    )


def _json_number(x, loc: str, field: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        raise InputError(f'{loc}, field "{field}": {x!r} is not a number')
    if isinstance(x, str) and not _NUMBER.fullmatch(x.strip()):
        raise InputError(f'{loc}, field "{field}": {x!r} is not a number')
    v = float(x)
    if v != v:
        raise InputError(f'{loc}, field "{field}": {x!r} is NaN')
    if not np.isfinite(v):
        raise InputError(f'{loc}, field "{field}": {x!r} is not finite')
    return v


def _json_segment(d: dict, loc: str) -> tuple[float, float]:
    """``d["segment"]`` of an ActivityNet-layout entry as ``(t_start, t_end)``; a missing or
    malformed segment names ``loc`` and the field."""
    seg = d.get("segment")
    if not isinstance(seg, list | tuple) or len(seg) != 2:
        raise InputError(f'{loc}, field "segment": expected [t_start, t_end]')
    return _json_number(seg[0], loc, "segment"), _json_number(seg[1], loc, "segment")


def _json_dets_fast(results: dict, names) -> tuple | None:
    """The detections of a well-formed results mapping in bulk (numbers as JSON numbers,
    labels as class names); ``None`` when anything needs the entry-by-entry reader (which
    also names the entry that is wrong)."""
    vids: list[str] = []
    segs: list = []
    scores: list = []
    labels: list = []
    try:
        for video, dets in results.items():
            if not isinstance(dets, list):
                return None
            vids.extend([video] * len(dets))
            segs.extend([d["segment"] for d in dets])
            scores.extend([d["score"] for d in dets])
            labels.extend([d["label"] for d in dets])
    except (KeyError, TypeError):
        return None
    n = len(vids)
    if n == 0:
        return np.zeros(0, dtype=object), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0)
    try:
        seg = np.asarray(segs)
        score = np.asarray(scores)
    except ValueError:
        return None
    if seg.shape != (n, 2) or seg.dtype.kind not in "fi" or score.shape != (n,):
        return None
    if score.dtype.kind not in "fi":
        return None
    seg = seg.astype(np.float64)
    score = score.astype(np.float64)
    if not (np.isfinite(seg).all() and np.isfinite(score).all()):
        return None
    try:
        if not all(type(lab) is str for lab in set(labels)):
            return None
    except TypeError:  # an unhashable label
        return None
    index = pd.Index(list(names))
    if not names or not index.is_unique:
        return None
    codes = index.get_indexer(labels)
    if (codes < 0).any():
        return None
    return np.asarray(vids, dtype=object), seg, codes.astype(np.int64), score


def _read_json_dets(path: Path, ids, names) -> Detections:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise InputError(f'{path}: expected an object with a "results" mapping')
    fast = _json_dets_fast(results, names)
    if fast is not None:
        video, seg, labels, score = fast
        n = len(video)
        if n == 0:
            return _empty(path)
        return Detections(
            video,
            seg[:, 0].copy(),
            seg[:, 1].copy(),
            labels,
            score,
            np.arange(1, n + 1, dtype=np.int64),
            str(path),
        )
    vids, starts, ends, toks, scores = [], [], [], [], []
    where: list[str] = []
    for video, dets in results.items():
        if not isinstance(dets, list):
            raise InputError(f'{path}, video "{video}": expected a list of detections')
        for j, d in enumerate(dets):
            loc = f'{path}, video "{video}", detection {j}'
            if not isinstance(d, dict):
                raise InputError(f"{loc}: expected an object")
            s, e = _json_segment(d, loc)
            if "score" not in d:
                raise InputError(f'{loc}, field "score": missing')
            sc = _json_number(d["score"], loc, "score")
            if "label" not in d:
                raise InputError(f'{loc}, field "label": missing')
            vids.append(str(video))
            starts.append(s)
            ends.append(e)
            toks.append(str(d["label"]))
            scores.append(sc)
            where.append(loc)
    n = len(vids)
    if n == 0:
        return _empty(path)
    by_name = {nm: k for k, nm in enumerate(names)}
    by_id = {str(i): k for k, i in enumerate(ids)}
    labels = np.empty(n, dtype=np.int64)
    for i, tok in enumerate(toks):
        k = by_name.get(tok, by_id.get(tok.strip()))
        if k is None:
            raise InputError(f'{where[i]}, field "label": unknown class {tok!r}')
        labels[i] = k
    return Detections(
        np.asarray(vids, dtype=object),
        np.asarray(starts, dtype=np.float64),
        np.asarray(ends, dtype=np.float64),
        labels,
        np.asarray(scores, dtype=np.float64),
        np.arange(1, n + 1, dtype=np.int64),
        str(path),
    )


def detection_format(path: str | os.PathLike[str]) -> str:
    """``run`` / ``json`` / ``csv`` from the extension (``.gz`` ignored); ``run`` otherwise."""
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".json":
        return "json"
    if ext == ".csv":
        return "csv"
    return "run"


def read_detections(
    path: str | os.PathLike[str],
    *,
    class_ids: Sequence[int],
    class_names: Sequence[str],
    fmt: str | None = None,
) -> Detections:
    """Read temporal detections (see the module docstring for the formats).

    Args:
        path: the file (gzip read transparently).
        class_ids, class_names: the class list (run files use ids; JSON / CSV names or ids).
        fmt: ``run`` / ``json`` / ``csv``; default from the extension.

    Returns:
        Detections in file order; ``line`` holds the file line (JSON: the entry number).
    """
    p = Path(path)
    fmt = fmt or detection_format(p)
    if fmt not in PRED_FORMATS:
        raise AttnvizError(
            f"unknown prediction format {fmt!r}: expected one of {', '.join(PRED_FORMATS)}"
        )
    ids, names = tuple(class_ids), tuple(class_names)
    if fmt == "run":
        return _read_run_file(p, ids, names)
    if fmt == "csv":
        return _read_csv_dets(p, ids, names)
    return _read_json_dets(p, ids, names)


def write_run_file(
    path: str | os.PathLike[str], dets: Detections, class_ids: Sequence[int]
) -> None:
    """Write ``dets`` as an official run file ``video t_start t_end class_id score``
    (atomically). Times are rounded to the microsecond (``0.15``, not
    ``0.15000000000000002``); scores keep the digits that read back to the same double; a video
    name's whitespace and ``%`` are written as ``%XX`` (see the module docstring), which
    :func:`read_detections` decodes."""
    from attnviz.io.atomic import atomic_write_text

    ids = np.asarray(class_ids)
    rows = [
        f"{_encode_name(v)} {round(s, 6)!r} {round(e, 6)!r} {int(ids[k])} {sc!r}"
        for v, s, e, k, sc in zip(
            dets.video.tolist(),
            dets.start.tolist(),
            dets.end.tolist(),
            dets.label.tolist(),
            dets.score.tolist(),
            strict=True,
        )
    ]
    atomic_write_text(path, "\n".join(rows) + ("\n" if rows else ""))


# --------------------------------------------------------------------------- ground truth out
#: layouts :func:`write_thumos_gt` writes (``attnviz convert-gt --to``)
TEMPORAL_GT_FORMATS = ("thumos14-folder", "activitynet-json")


def _interval_lines(video: Sequence[str], start, end) -> str:
    return "".join(
        f"{v}  {s!r} {e!r}\n" for v, s, e in zip(video, np.asarray(start).tolist(),
                                                 np.asarray(end).tolist(), strict=True)
    )  # fmt: skip


def write_thumos_gt(gt: TemporalGroundTruth, path: str | os.PathLike[str], fmt: str) -> None:
    """Write temporal ground truth as ``fmt`` (one of :data:`TEMPORAL_GT_FORMATS`), atomically.

    * ``thumos14-folder``: a folder of the official per-class files ``<Class>_<subset>.txt``
      (``video  t_start t_end``, two spaces after the name, instances in annotation order),
      ``Ambiguous_<subset>.txt`` and ``classes.txt`` (``id name``); what the THUMOS14 kits and
      :func:`read_thumos_gt` read. Times are written with the digits that read back to the same
      double (``12.3``, not ``12.300000000000001``).
    * ``activitynet-json``: ``{"version", "taxonomy", "database": {video: {"subset",
      "annotations": [{"segment": [t0, t1], "label": name}]}}}``, the layout of ActivityNet's
      ``eval_detection.py`` (subset ``testing`` / ``validation``). Ambiguous segments are left
      out: that protocol has none (a class "Ambiguous" would be scored as a class).

    Raises:
        AttnvizError: unknown ``fmt``, or an output that cannot be written.
    """
    from attnviz.io.atomic import atomic_write_text, output_dir

    subset = gt.subset or "test"
    if fmt == "thumos14-folder":
        with output_dir(path) as tmp:
            for k, name in enumerate(gt.class_names):
                sel = gt.label == k
                (tmp / f"{name}_{subset}.txt").write_text(
                    _interval_lines(gt.video[sel].tolist(), gt.start[sel], gt.end[sel])
                )
            amb = [(v, s, e) for v, segs in gt.ambiguous.items() for s, e in segs.tolist()]
            if amb:
                vids, s, e = zip(*amb, strict=True)
                (tmp / f"Ambiguous_{subset}.txt").write_text(_interval_lines(vids, s, e))
            (tmp / "classes.txt").write_text(
                "".join(f"{i} {n}\n" for i, n in zip(gt.class_ids, gt.class_names, strict=True))
            )
        return
    if fmt == "activitynet-json":
        label = {"test": "testing", "val": "validation"}.get(subset, subset)
        db: dict[str, dict] = {v: {"subset": label, "annotations": []} for v in gt.videos}
        for v, s, e, k in zip(
            gt.video.tolist(), gt.start.tolist(), gt.end.tolist(), gt.label.tolist(), strict=True
        ):
            db.setdefault(v, {"subset": label, "annotations": []})["annotations"].append(
                {"segment": [s, e], "label": gt.class_names[k]}
            )
        data = {"version": "attnviz", "taxonomy": [], "database": db}
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
        return
    raise AttnvizError(
        f"unknown temporal ground-truth format {fmt!r}: expected one of "
        f"{', '.join(TEMPORAL_GT_FORMATS)}"
    )
