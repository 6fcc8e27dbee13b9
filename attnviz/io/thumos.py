"""THUMOS14-style temporal annotations and detections.

Ground truth (:func:`read_thumos_gt`):

* a folder of the official per-class files ``<Class>_<subset>.txt`` and
  ``Ambiguous_<subset>.txt``, one instance per line ``video t_start t_end`` (seconds);
* the ActivityNet-style JSON (``{"database": {video: {"subset": ..., "annotations":
  [{"segment": [t0, t1], "label": name}]}}}``; segments may be strings);
* the CSV layout of ``thumos14_test_groundtruth.csv`` (``video-name,t-init,t-end,...,label-idx``
  with ``label-idx`` the class's rank in alphabetical order and ``-1`` for Ambiguous).

Detections (:func:`read_detections`):

* the official run-file format ``video t_start t_end class_id score`` (whitespace separated;
  ``class_id`` is the id of the class list, the UCF101 id for THUMOS14);
* ActivityNet results JSON ``{"results": {video: [{"segment": [s, e], "label": name or id,
  "score": x}]}}``;
* CSV ``video,t_start,t_end,label,score`` (label = class name or id; a header row is optional).

Every file may be gzip-compressed. Errors name the file, the line and the field.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from attnviz.errors import AttnvizError, InputError
from attnviz.io.textfiles import read_text
from attnviz.types import TemporalDetections, TemporalGroundTruth

__all__ = [
    "Detections",
    "default_class_list",
    "read_class_list",
    "read_detections",
    "read_thumos_gt",
    "write_run_file",
]

PRED_FORMATS = ("run", "json", "csv")


Detections = TemporalDetections


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
        names.append(parts[1])
    if not names:
        raise InputError(f"{source}: empty class list")
    if len(set(ids)) != len(ids) or len(set(names)) != len(names):
        raise InputError(f"{source}: duplicate class id or name")
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


# --------------------------------------------------------------------------- ground truth
def _gt_subset_names(subset: str) -> tuple[str, ...]:
    s = subset.lower()
    if s in ("test", "testing"):
        return ("test", "testing")
    if s in ("val", "validation"):
        # THUMOS14 GT JSONs label the validation videos "train" (they are trained on).
        return ("val", "validation", "train")
    return (s,)


def _read_interval_file(path: Path) -> tuple[list[str], list[float], list[float]]:
    videos: list[str] = []
    t1: list[float] = []
    t2: list[float] = []
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise InputError(
                f"{path}, line {lineno}: expected 'video t_start t_end', got {raw.strip()!r}"
            )
        for name, txt in (("t_start", parts[1]), ("t_end", parts[2])):
            try:
                v = float(txt)
            except ValueError:
                raise InputError(
                    f'{path}, line {lineno}, field "{name}": {txt!r} is not a number'
                ) from None
            if not np.isfinite(v):
                raise InputError(f'{path}, line {lineno}, field "{name}": {txt!r} is not finite')
        videos.append(parts[0])
        t1.append(float(parts[1]))
        t2.append(float(parts[2]))
    return videos, t1, t2


def _gt_from_folder(folder: Path, subset: str, ids, names) -> TemporalGroundTruth:
    files = list(folder.glob(f"*_{subset}.txt"))
    if not files:
        raise AttnvizError(
            f"{folder}: no ground-truth files '<Class>_{subset}.txt' (is --subset right?)"
        )
    vids: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    labels: list[int] = []
    all_videos: set[str] = set()
    for k, name in enumerate(names):
        path = folder / f"{name}_{subset}.txt"
        if not path.is_file():
            raise AttnvizError(f"{path}: annotation file of class {name!r} not found")
        v, a, b = _read_interval_file(path)
        vids += v
        starts += a
        ends += b
        labels += [k] * len(v)
        all_videos.update(v)
    ambiguous: dict[str, list[tuple[float, float]]] = {}
    amb_path = folder / f"Ambiguous_{subset}.txt"
    if amb_path.is_file():
        v, a, b = _read_interval_file(amb_path)
        for video, s, e in zip(v, a, b, strict=True):
            ambiguous.setdefault(video, []).append((s, e))
        all_videos.update(v)
    return TemporalGroundTruth(
        class_names=names,
        class_ids=ids,
        video=np.asarray(vids, dtype=object),
        start=np.asarray(starts, dtype=np.float64),
        end=np.asarray(ends, dtype=np.float64),
        label=np.asarray(labels, dtype=np.int64),
        ambiguous={k: np.asarray(v, dtype=np.float64) for k, v in ambiguous.items()},
        videos=tuple(sorted(all_videos)),
        subset=subset,
        source=str(folder),
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
        if not isinstance(entry, dict) or str(entry.get("subset", "")).lower() not in wanted:
            continue
        videos.append(video)
        for j, ann in enumerate(entry.get("annotations", [])):
            where = f'{path}, video "{video}", annotation {j}'
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
    # per class, annotation order = the file's order (stable sort on the label)
    order = np.argsort(np.asarray(labels, dtype=np.int64), kind="stable")
    return TemporalGroundTruth(
        class_names=names,
        class_ids=ids,
        video=np.asarray(vids, dtype=object)[order],
        start=np.asarray(starts, dtype=np.float64)[order],
        end=np.asarray(ends, dtype=np.float64)[order],
        label=np.asarray(labels, dtype=np.int64)[order],
        ambiguous={k: np.asarray(v, dtype=np.float64) for k, v in ambiguous.items()},
        videos=tuple(sorted(videos)),
        subset=subset,
        source=str(path),
    )


def _gt_from_csv(path: Path, subset: str, ids, names) -> TemporalGroundTruth:
    try:
        df = pd.read_csv(io.StringIO(read_text(path)))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from None
    need = ["video-name", "t-init", "t-end", "label-idx"]
    for col in need:
        if col not in df.columns:
            raise InputError(f'{path}: missing column "{col}" (expected {", ".join(need)}, ...)')
    alpha = sorted(range(len(names)), key=lambda k: names[k])  # label-idx -> class index
    vids, starts, ends, labels = [], [], [], []
    ambiguous: dict[str, list[tuple[float, float]]] = {}
    for row, (v, s, e, lab) in enumerate(
        zip(df["video-name"], df["t-init"], df["t-end"], df["label-idx"], strict=True), 2
    ):
        try:
            s, e, lab = float(s), float(e), int(lab)
        except (TypeError, ValueError):
            raise InputError(
                f"{path}, line {row}: t-init, t-end or label-idx not a number"
            ) from None
        if not (np.isfinite(s) and np.isfinite(e)):
            raise InputError(f"{path}, line {row}: t-init or t-end is not finite")
        if lab == -1:
            ambiguous.setdefault(str(v), []).append((s, e))
            continue
        if not 0 <= lab < len(names):
            raise InputError(f'{path}, line {row}, field "label-idx": {lab} out of range')
        vids.append(str(v))
        starts.append(s)
        ends.append(e)
        labels.append(alpha[lab])
    order = np.argsort(np.asarray(labels, dtype=np.int64), kind="stable")
    videos = set(vids) | set(ambiguous)
    return TemporalGroundTruth(
        class_names=names,
        class_ids=ids,
        video=np.asarray(vids, dtype=object)[order],
        start=np.asarray(starts, dtype=np.float64)[order],
        end=np.asarray(ends, dtype=np.float64)[order],
        label=np.asarray(labels, dtype=np.int64)[order],
        ambiguous={k: np.asarray(v, dtype=np.float64) for k, v in ambiguous.items()},
        videos=tuple(sorted(videos)),
        subset=subset,
        source=str(path),
    )


def read_thumos_gt(
    path: str | os.PathLike[str],
    *,
    subset: str = "test",
    classes: str | os.PathLike[str] | None = None,
) -> TemporalGroundTruth:
    """Read temporal ground truth from a per-class folder, a GT JSON or the GT CSV.

    Args:
        path: folder of ``<Class>_<subset>.txt`` files, ``*.json`` or ``*.csv`` (gzip allowed).
        subset: ``test`` or ``val``.
        classes: an ``id name`` class-list file; default the 20 THUMOS14 detection classes.
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
def _line_numbers(text: str) -> np.ndarray:
    """1-based line number of each non-blank line."""
    return np.asarray(
        [i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()], dtype=np.int64
    )


def _numeric(col: pd.Series, name: str, path, lines: np.ndarray) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = col.iloc[i]
        what = "is NaN" if str(raw).strip().lower() == "nan" else "is not a finite number"
        raise InputError(f'{path}, line {lines[i]}, field "{name}": {raw!r} {what}')
    return values


def _labels_from_tokens(tokens: pd.Series, ids, names, path, lines, field: str) -> np.ndarray:
    by_name = {n: k for k, n in enumerate(names)}
    by_id = {str(i): k for k, i in enumerate(ids)}
    uniq, inv = np.unique(tokens.astype(str).str.strip().to_numpy(), return_inverse=True)
    mapped = np.empty(len(uniq), dtype=np.int64)
    for j, tok in enumerate(uniq):
        if tok in by_name:
            mapped[j] = by_name[tok]
            continue
        key = tok
        try:
            f = float(tok)
            if f.is_integer():
                key = str(int(f))
        except ValueError:
            pass
        if key in by_id:
            mapped[j] = by_id[key]
        else:
            i = int(np.flatnonzero(inv == j)[0])
            raise InputError(
                f'{path}, line {lines[i]}, field "{field}": unknown class {tok!r} (not in the '
                f"class list: ids {min(ids)}..{max(ids)})"
            )
    return mapped[inv]


def _read_run_file(path: Path, ids, names) -> Detections:
    text = read_text(path)
    lines = _line_numbers(text)
    if len(lines) == 0:
        return Detections.from_arrays([], [], [], [], [], str(path))
    cols = ["video", "t_start", "t_end", "class_id", "score"]
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=r"\s+", header=None, names=cols, dtype=str, engine="c"
        )
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: malformed run file ({str(exc).strip()})") from None
    missing = df["score"].isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{path}, line {lines[i]}: expected 'video t_start t_end class_id score' (5 fields)"
        )
    start = _numeric(df["t_start"], "t_start", path, lines)
    end = _numeric(df["t_end"], "t_end", path, lines)
    score = _numeric(df["score"], "score", path, lines)
    label = _labels_from_tokens(df["class_id"], ids, (), path, lines, "class_id")
    return Detections(
        df["video"].to_numpy(dtype=object), start, end, label, score, lines, str(path)
    )


def _read_csv_dets(path: Path, ids, names) -> Detections:
    text = read_text(path)
    lines = _line_numbers(text)
    if len(lines) == 0:
        return Detections.from_arrays([], [], [], [], [], str(path))
    first = text.lstrip().splitlines()[0].split(",")
    header = len(first) >= 2 and pd.to_numeric(pd.Series([first[1]]), errors="coerce").isna()[0]
    cols = ["video", "t_start", "t_end", "label", "score"]
    try:
        df = pd.read_csv(
            io.StringIO(text),
            header=0 if header else None,
            names=cols,
            dtype=str,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: malformed CSV ({str(exc).strip()})") from None
    if header:
        lines = lines[1:]
    if len(df) == 0:
        return Detections.from_arrays([], [], [], [], [], str(path))
    missing = df["score"].isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{path}, line {lines[i]}: expected 'video,t_start,t_end,label,score' (5 fields)"
        )
    start = _numeric(df["t_start"], "t_start", path, lines)
    end = _numeric(df["t_end"], "t_end", path, lines)
    score = _numeric(df["score"], "score", path, lines)
    label = _labels_from_tokens(df["label"], ids, names, path, lines, "label")
    return Detections(
        df["video"].astype(str).str.strip().to_numpy(dtype=object),
        start,
        end,
        label,
        score,
        lines,
        str(path),
    )


def _read_json_dets(path: Path, ids, names) -> Detections:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise InputError(f'{path}: expected an object with a "results" mapping')
    vids, starts, ends, toks, scores = [], [], [], [], []
    where: list[str] = []
    for video, dets in results.items():
        if not isinstance(dets, list):
            raise InputError(f'{path}, video "{video}": expected a list of detections')
        for j, d in enumerate(dets):
            loc = f'{path}, video "{video}", detection {j}'
            try:
                s, e = (float(x) for x in d["segment"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f'{loc}, field "segment": expected [t_start, t_end]') from None
            try:
                sc = float(d["score"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f'{loc}, field "score": missing or not a number') from None
            for name, v in (("segment", s), ("segment", e), ("score", sc)):
                if not np.isfinite(v):
                    raise InputError(f'{loc}, field "{name}": {v} is not finite')
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
        return Detections.from_arrays([], [], [], [], [], str(path))
    by_name = {nm: k for k, nm in enumerate(names)}
    by_id = {str(i): k for k, i in enumerate(ids)}
    labels = np.empty(n, dtype=np.int64)
    for i, tok in enumerate(toks):
        k = by_name.get(tok, by_id.get(tok))
        if k is None:
            raise InputError(f'{where[i]}, field "label": unknown class {tok!r}')
        labels[i] = k
    return Detections(
        np.asarray(vids, dtype=object),
        np.asarray(starts),
        np.asarray(ends),
        labels,
        np.asarray(scores),
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
    """
    p = Path(path)
    fmt = fmt or detection_format(p)
    if fmt not in PRED_FORMATS:
        raise AttnvizError(f"unknown prediction format {fmt!r}: expected one of {PRED_FORMATS}")
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
    (atomically; full float precision)."""
    from attnviz.io.atomic import atomic_write_text

    ids = np.asarray(class_ids)
    rows = [
        f"{v} {s!r} {e!r} {int(ids[k])} {sc!r}"
        for v, s, e, k, sc in zip(
            dets.video,
            dets.start.tolist(),
            dets.end.tolist(),
            dets.label,
            dets.score.tolist(),
            strict=True,
        )
    ]
    atomic_write_text(path, "\n".join(rows) + ("\n" if rows else ""))
