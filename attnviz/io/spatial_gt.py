"""Spatio-temporal ground truth (UCF101-24, JHMDB-21) in every layout the field uses, read into
one record, :class:`~attnviz.types.SpatialGroundTruth`, and written back out.

Readers (:func:`read_spatial_gt` picks by extension and content):

* ``pyannot.pkl`` (``{video: {"label", "numf", "annotations": [{"label", "sf", "ef",
  "boxes"}]}}``), ``pyannot_with_class_names.pkl`` (``{"db", "trainvideos", "classes"}``) and
  their JSON twin ``pyannot.json`` (adds ``"testvideos"``): the corrected UCF101-24 annotations.
  Tube frame ``k`` (0-based) is source frame ``sf + 1 + k``; a box ``[x, y, w, h]`` becomes
  ``x1 = x, y1 = y, x2 = x + w, y2 = y + h`` (cast to float first: boxes are stored as uint8
  and ``x + w`` would wrap around). Pickles go through :mod:`attnviz.io.safe_pickle`.
* ``finalAnnots.mat`` (scipy): ``annot(1 x N)`` with ``name``, ``num_imgs`` and ``tubes``
  (``sf``, ``ef`` 1-based inclusive, ``class`` 1-based, ``boxes`` ``[x y w h]``).
* the ACT layout (``labels``, ``gttubes``, ``nframes``, ``train_videos``, ``test_videos``,
  ``resolution``) as pickle or JSON; split 1 is the first list of ``train_videos`` /
  ``test_videos``.
* YOWO's per-frame text files ``<class>_<video>_<frame:05d>.txt`` (``<label 1-based> x1 y1 x2
  y2`` per line), read from the zip directly. The files keep no tube identity: line ``j`` of each
  frame is taken to belong to actor ``j``, and each actor's frames are cut into runs of
  consecutive frames, one tube per run. Exact for one actor per video (JHMDB-21); for
  frame-mAP the tubes do not matter. The frame count of a video is its last annotated frame.

The test split of the pyannot files and of ``finalAnnots.mat``: ``testvideos`` (or the
``testlist`` variable attnviz writes into a ``.mat``) where present, else ``testlist01.txt``
beside the file, else the videos not in ``trainvideos`` (sorted, which is testlist01's order).

Every reader checks each tube (``[n, 5]`` rows ``frame, x1, y1, x2, y2``, consecutive ascending
frames, finite boxes with ``x2 >= x1`` and ``y2 >= y1``, labels in range) and names the file, the
video and the tube when one is broken.

Writers (:func:`write_spatial_gt`, ``attnviz convert-gt``): ``act-json``, ``act-pkl``,
``pyannot-json``, ``pyannot-pkl``, ``mat``, ``yowo-zip`` and ``coco`` (COCO ground truth with
every frame of the split's videos as an image).
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attnviz.errors import AttnvizError, InputError
from attnviz.io.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from attnviz.io.safe_pickle import safe_load
from attnviz.io.textfiles import read_bytes, read_text
from attnviz.types import GTTube, SpatialGroundTruth, VideoAnnotation

__all__ = [
    "GT_FORMATS",
    "JHMDB21_CLASSES",
    "UCF101_24_CLASSES",
    "coco_image_ids",
    "read_spatial_gt",
    "to_act",
    "to_coco",
    "to_pyannot",
    "write_spatial_gt",
]

UCF101_24_CLASSES = (
    "Basketball", "BasketballDunk", "Biking", "CliffDiving", "CricketBowling", "Diving", "Fencing",
    "FloorGymnastics", "GolfSwing", "HorseRiding", "IceDancing", "LongJump", "PoleVault",
    "RopeClimbing", "SalsaSpin", "SkateBoarding", "Skiing", "Skijet", "SoccerJuggling", "Surfing",
    "TennisSwing", "TrampolineJumping", "VolleyballSpiking", "WalkingWithDog",
)  # fmt: skip
JHMDB21_CLASSES = (
    "brush_hair", "catch", "clap", "climb_stairs", "golf", "jump", "kick_ball", "pick", "pour",
    "pullup", "push", "run", "shoot_ball", "shoot_bow", "shoot_gun", "sit", "stand",
    "swing_baseball", "throw", "walk", "wave",
)  # fmt: skip

GT_FORMATS = ("act-json", "act-pkl", "pyannot-json", "pyannot-pkl", "mat", "yowo-zip", "coco")
_RES = (240, 320)  # UCF101-24 and JHMDB-21 frames, (H, W)


# --------------------------------------------------------------------------- checks
def _check_tube(arr: np.ndarray, where: str) -> np.ndarray:
    """A ground-truth tube as float64 ``[n, 5]``, or a one-line error naming ``where``."""
    if arr.ndim != 2 or arr.shape[1] != 5 or len(arr) == 0:
        raise InputError(
            f"{where}: expected a non-empty [n, 5] array of rows frame, x1, y1, x2, y2, got "
            f"shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise InputError(f"{where}: a frame number or box coordinate is NaN or infinite")
    f = arr[:, 0]
    if (f % 1 != 0).any() or f[0] < 1 or (np.diff(f) != 1).any():
        raise InputError(
            f"{where}: frame numbers must be consecutive ascending integers from 1 up "
            f"(got {f[0]:g}..{f[-1]:g} over {len(f)} rows)"
        )
    bad = (arr[:, 3] < arr[:, 1]) | (arr[:, 4] < arr[:, 2])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{where}, frame {int(f[i])}: box has x2 < x1 or y2 < y1 ({arr[i, 1:].tolist()})"
        )
    return arr


def _finish(
    labels: Sequence[str],
    videos: dict[str, VideoAnnotation],
    train: Sequence[str],
    test: Sequence[str],
    source: str,
) -> SpatialGroundTruth:
    k = len(labels)
    for v, ann in videos.items():
        for j, t in enumerate(ann.tubes):
            if not 0 <= t.label < k:
                raise InputError(
                    f'{source}, video "{v}", tube {j}: label {t.label} outside 0..{k - 1} '
                    f"({k} classes)"
                )
    missing = [v for v in list(train) + list(test) if v not in videos]
    if missing:
        raise InputError(
            f'{source}: split video "{missing[0]}" has no annotation ({len(missing)} such)'
        )
    return SpatialGroundTruth(tuple(labels), videos, tuple(train), tuple(test), source)


def _int(x: Any, where: str, field: str) -> int:
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return int(x)
    try:
        v = np.asarray(x).reshape(-1)
        if v.size != 1 or not np.isfinite(float(v[0])) or float(v[0]) % 1:
            raise ValueError
        return int(v[0])
    except (TypeError, ValueError):
        raise InputError(f'{where}, field "{field}": expected an integer, got {x!r}') from None


def _check_all(rows: np.ndarray, lens: np.ndarray, where) -> list[np.ndarray]:
    """Check many tubes at once (``rows [sum n, 5]``, ``lens [k]``) and split them; on a broken
    tube, :func:`_check_tube` of that tube gives the message (``where(i)`` names tube ``i``)."""
    lens = np.asarray(lens, dtype=np.int64)
    ends = np.cumsum(lens)
    starts = ends - lens
    if len(lens) and (lens == 0).any():
        i = int(np.flatnonzero(lens == 0)[0])
        _check_tube(np.zeros((0, 5)), where(i))
    if len(rows):
        f = rows[:, 0]
        bad = ~np.isfinite(rows).all(axis=1) | (f % 1 != 0) | (f < 1)
        bad |= (rows[:, 3] < rows[:, 1]) | (rows[:, 4] < rows[:, 2])
        step = np.r_[False, np.diff(f) != 1]
        step[starts] = False
        bad |= step
        if bad.any():
            i = int(np.searchsorted(ends, int(np.flatnonzero(bad)[0]), side="right"))
            _check_tube(rows[starts[i] : ends[i]].copy(), where(i))
    return [rows[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _xywh_tubes(items: Sequence[tuple[int, Any]], where) -> list[np.ndarray]:
    """pyannot tubes ``(sf0, boxes [n, 4] x, y, w, h)`` -> ``[n, 5]`` arrays, converted and
    checked in one pass (per tube only to name a broken one)."""
    lens = np.fromiter((len(b) for _, b in items), dtype=np.int64, count=len(items))
    try:
        if items and isinstance(items[0][1], np.ndarray):
            flat = np.concatenate([np.asarray(b).reshape(-1, 4) for _, b in items])
        else:
            flat = np.array([row for _, b in items for row in b])
        flat = flat.astype(np.float64).reshape(-1, 4)  # before adding: uint8 boxes overflow
        if len(flat) != lens.sum():
            raise ValueError
    except (TypeError, ValueError):
        for i, (sf0, b) in enumerate(items):
            _xywh_tube(sf0, b, where(i))
        raise InputError(f"{where(0)}: boxes are not [n, 4] numbers") from None
    rows = np.empty((len(flat), 5))
    sf0 = np.fromiter((sf for sf, _ in items), dtype=np.int64, count=len(items))
    first = np.cumsum(lens) - lens
    rows[:, 0] = np.repeat(sf0 + 1 - first, lens) + np.arange(len(flat))
    rows[:, 1] = flat[:, 0]
    rows[:, 2] = flat[:, 1]
    rows[:, 3] = flat[:, 0] + flat[:, 2]
    rows[:, 4] = flat[:, 1] + flat[:, 3]
    return _check_all(rows, lens, where)


# --------------------------------------------------------------------------- pyannot
def _xywh_tube(sf0: int, boxes: Any, where: str) -> np.ndarray:
    """pyannot tube -> ``[n, 5]`` rows ``frame, x1, y1, x2, y2`` (frames ``sf0 + 1 + k``)."""
    try:
        b = np.asarray(boxes).astype(np.float64)  # before adding: uint8 boxes overflow
    except (TypeError, ValueError):
        raise InputError(f'{where}, field "boxes": not numbers') from None
    if b.ndim != 2 or b.shape[1] != 4:
        raise InputError(f'{where}, field "boxes": expected [n, 4] (x, y, w, h), got {b.shape}')
    out = np.empty((len(b), 5))
    out[:, 0] = sf0 + 1 + np.arange(len(b))
    out[:, 1] = b[:, 0]
    out[:, 2] = b[:, 1]
    out[:, 3] = b[:, 0] + b[:, 2]
    out[:, 4] = b[:, 1] + b[:, 3]
    return _check_tube(out, where)


def _class_of(video: str) -> str:
    return video.split("/", 1)[0]


def _split_lists(videos: Mapping[str, Any], train, test, source: str):
    """(train, test): given lists filtered to annotated videos, testlist01.txt beside the file,
    or the complement of the training list."""
    train_l = [str(v) for v in (train if train is not None else []) if str(v) in videos]
    if test is not None:
        test_l = [str(v) for v in test]
    else:
        listfile = Path(source).with_name("testlist01.txt")
        if listfile.is_file():
            test_l = [ln.strip() for ln in read_text(listfile).splitlines() if ln.strip()]
            test_l = [v for v in test_l if v in videos]
        elif train_l:
            tr = set(train_l)
            test_l = sorted(v for v in videos if v not in tr)
        else:
            test_l = []
    if not train_l and test_l:
        te = set(test_l)
        train_l = sorted(v for v in videos if v not in te)
    return train_l, test_l


def _from_pyannot_db(db: Any, classes, train, test, source: str) -> SpatialGroundTruth:
    if not isinstance(db, Mapping):
        raise InputError(f'{source}, field "db": expected a mapping of videos')
    heads: list[tuple[str, int, int]] = []
    items: list[tuple[int, Any]] = []
    tube_of: list[tuple[int, int, int, int]] = []  # (video #, tube #, label, ef - sf)
    for video, entry in db.items():
        video = str(video)
        where = f'{source}, video "{video}"'
        if not isinstance(entry, Mapping) or "annotations" not in entry:
            raise InputError(f'{where}: expected "label", "numf" and "annotations"')
        heads.append(
            (video, _int(entry.get("label", -1), where, "label"), _int(entry.get("numf", 0),
             where, "numf"))
        )  # fmt: skip
        for j, ann in enumerate(entry["annotations"]):
            w = f"{where}, tube {j}"
            if not isinstance(ann, Mapping) or not {"sf", "ef", "label", "boxes"} <= set(ann):
                raise InputError(f'{w}: expected "sf", "ef", "label" and "boxes"')
            sf, ef = _int(ann["sf"], w, "sf"), _int(ann["ef"], w, "ef")
            items.append((sf, ann["boxes"]))
            tube_of.append((len(heads) - 1, j, _int(ann["label"], w, "label"), ef - sf))

    def where_tube(i: int) -> str:
        return f'{source}, video "{heads[tube_of[i][0]][0]}", tube {tube_of[i][1]}'

    arrays = _xywh_tubes(items, where_tube)
    per_video: list[list[GTTube]] = [[] for _ in heads]
    for i, arr in enumerate(arrays):
        vi, _, lab, span = tube_of[i]
        if span != len(arr):
            raise InputError(f'{where_tube(i)}, field "ef": ef - sf = {span} but {len(arr)} boxes')
        per_video[vi].append(GTTube(lab, arr))
    videos = {
        v: VideoAnnotation(label, numf, tuple(per_video[i]), _RES)
        for i, (v, label, numf) in enumerate(heads)
    }
    if classes is None:
        classes = sorted({_class_of(v) for v in videos})
    train_l, test_l = _split_lists(videos, train, test, source)
    return _finish([str(c) for c in classes], videos, train_l, test_l, source)


def to_pyannot(gt: SpatialGroundTruth, arrays: bool = False) -> dict[str, Any]:
    """The pyannot layout (``classes``, ``trainvideos``, ``testvideos``, ``db``); boxes
    ``[x, y, w, h]`` as lists (``arrays=False``) or numpy arrays (uint16 where integral, as the
    original pickle stores them)."""
    db = {}
    for video, ann in gt.videos.items():
        tubes = []
        for t in ann.tubes:
            b = np.asarray(t.boxes, dtype=np.float64)
            sf = int(b[0, 0]) - 1
            xywh = np.stack([b[:, 1], b[:, 2], b[:, 3] - b[:, 1], b[:, 4] - b[:, 2]], 1)
            integral = bool((xywh % 1 == 0).all() and (xywh >= 0).all() and (xywh < 65536).all())
            if arrays:
                boxes: Any = xywh.astype(np.uint16) if integral else xywh
            else:
                boxes = xywh.astype(np.int64).tolist() if integral else xywh.tolist()
            tubes.append({"label": int(t.label), "sf": sf, "ef": sf + len(b), "boxes": boxes})
        db[video] = {"label": int(ann.label), "numf": int(ann.nframes), "annotations": tubes}
    return {
        "classes": list(gt.labels),
        "trainvideos": list(gt.train_videos),
        "testvideos": list(gt.test_videos),
        "db": db,
    }


# --------------------------------------------------------------------------- ACT
def _from_act(data: Mapping, source: str) -> SpatialGroundTruth:
    missing = [k for k in ("labels", "gttubes", "nframes") if k not in data]
    if missing:
        raise InputError(f'{source}: ACT layout needs "labels", "gttubes" and "nframes" '
                         f'(missing "{missing[0]}")')  # fmt: skip
    labels = [str(x) for x in data["labels"]]
    gttubes, nframes = data["gttubes"], data["nframes"]
    if not isinstance(gttubes, Mapping) or not isinstance(nframes, Mapping):
        raise InputError(f'{source}: "gttubes" and "nframes" must map videos')
    res = data.get("resolution") or {}
    videos: dict[str, VideoAnnotation] = {}
    for video, per_label in gttubes.items():
        video = str(video)
        where = f'{source}, video "{video}"'
        if not isinstance(per_label, Mapping):
            raise InputError(f'{where}, field "gttubes": expected {{label: [tubes]}}')
        tubes = []
        vlabel = -1
        for lab, tlist in per_label.items():
            lab_i = _int(lab, where, "gttubes label")
            vlabel = lab_i if vlabel < 0 else vlabel
            for j, t in enumerate(tlist):
                w = f"{where}, label {lab_i}, tube {j}"
                try:
                    arr = np.asarray(t, dtype=np.float64)
                except (TypeError, ValueError):
                    raise InputError(f"{w}: not numbers") from None
                tubes.append(GTTube(lab_i, _check_tube(arr, w)))
        if video not in nframes:
            raise InputError(f'{where}: missing from "nframes"')
        r = res.get(video) if isinstance(res, Mapping) else None
        videos[video] = VideoAnnotation(
            vlabel,
            _int(nframes[video], where, "nframes"),
            tuple(tubes),
            tuple(int(x) for x in r) if r is not None else None,
        )
    for video in nframes:
        if str(video) not in videos:
            where = f'{source}, video "{video}"'
            videos[str(video)] = VideoAnnotation(-1, _int(nframes[video], where, "nframes"), ())

    def _split(key: str) -> list[str]:
        s = data.get(key)
        if s is None or len(s) == 0:
            return []
        first = s[0] if not isinstance(s[0], str) else s
        return [str(v) for v in first]

    return _finish(labels, videos, _split("train_videos"), _split("test_videos"), source)


def to_act(gt: SpatialGroundTruth) -> dict[str, Any]:
    """The ACT layout as JSON-able data (labels, gttubes with ``str`` label keys, nframes,
    train/test_videos as one split, resolution)."""
    gttubes: dict[str, dict[str, list]] = {}
    for video, ann in gt.videos.items():
        per: dict[str, list] = {}
        for t in ann.tubes:
            per.setdefault(str(t.label), []).append(np.asarray(t.boxes).tolist())
        gttubes[video] = per
    return {
        "labels": list(gt.labels),
        "gttubes": gttubes,
        "nframes": {v: int(a.nframes) for v, a in gt.videos.items()},
        "train_videos": [list(gt.train_videos)],
        "test_videos": [list(gt.test_videos)],
        "resolution": {v: list(a.resolution) for v, a in gt.videos.items() if a.resolution},
    }


# --------------------------------------------------------------------------- finalAnnots.mat
def _mat_str(x: Any) -> str:
    a = np.asarray(x)
    while a.dtype == object and a.size == 1:
        a = np.asarray(a.reshape(-1)[0])
    return str(a.reshape(-1)[0]) if a.size else ""


def _mat_strlist(x: Any) -> list[str]:
    return [_mat_str(e) for e in np.asarray(x, dtype=object).reshape(-1)]


def _from_mat(path: Path) -> SpatialGroundTruth:
    import scipy.io

    try:
        mat = scipy.io.loadmat(io.BytesIO(read_bytes(path)))
    except Exception as exc:  # scipy raises many types for a broken file
        raise InputError(f"{path}: not a readable .mat file ({exc})") from None
    if "annot" not in mat:
        raise InputError(f'{path}: no "annot" struct (expected finalAnnots.mat)')
    annot = np.asarray(mat["annot"]).reshape(-1)
    names = annot.dtype.names or ()
    for f in ("name", "num_imgs", "tubes"):
        if f not in names:
            raise InputError(f'{path}: "annot" has no field "{f}"')
    ids: dict[int, set[str]] = {}
    heads: list[tuple[str, int]] = []
    items: list[tuple[int, Any]] = []
    tube_of: list[tuple[int, int, int, int]] = []  # (video #, tube #, class, ef - sf + 1)
    for i, e in enumerate(annot):
        name = _mat_str(e["name"])
        where = f"{path}, annot({i + 1}) ({name})"
        heads.append((name, _int(e["num_imgs"], where, "num_imgs")))
        for j, t in enumerate(np.asarray(e["tubes"]).reshape(-1)):
            w = f"{where}.tubes({j + 1})"
            try:
                sf, ef = _int(t["sf"], w, "sf"), _int(t["ef"], w, "ef")
                cls = _int(t["class"], w, "class")
                boxes = t["boxes"]
            except (ValueError, IndexError):
                raise InputError(f'{w}: expected fields "sf", "ef", "class", "boxes"') from None
            items.append((sf - 1, np.asarray(boxes)))
            tube_of.append((i, j, cls, ef - sf + 1))
            ids.setdefault(cls, set()).add(_class_of(name))

    def where_tube(k: int) -> str:
        i, j = tube_of[k][0], tube_of[k][1]
        return f"{path}, annot({i + 1}) ({heads[i][0]}).tubes({j + 1})"

    arrays = _xywh_tubes(items, where_tube)
    per_video: list[list[GTTube]] = [[] for _ in heads]
    for k, arr in enumerate(arrays):
        i, _, cls, span = tube_of[k]
        if span != len(arr):
            raise InputError(f'{where_tube(k)}, field "ef": ef - sf + 1 = {span} but {len(arr)} '
                             "boxes")  # fmt: skip
        per_video[i].append(GTTube(cls - 1, arr))
    videos = {
        name: VideoAnnotation(per_video[i][0].label if per_video[i] else -1, numf,
                              tuple(per_video[i]), _RES)
        for i, (name, numf) in enumerate(heads)
    }  # fmt: skip
    if "classes" in mat:
        classes = _mat_strlist(mat["classes"])
    else:
        top = max(ids) if ids else 0
        classes = [sorted(ids[k])[0] if len(ids.get(k, ())) == 1 else "" for k in range(1, top + 1)]
        if any(c == "" for c in classes):
            dirs = sorted({_class_of(v) for v in videos})
            classes = dirs if len(dirs) >= top else [f"class{k}" for k in range(1, top + 1)]
    test = _mat_strlist(mat["testlist"]) if "testlist" in mat else None
    train = _mat_strlist(mat["trainlist"]) if "trainlist" in mat else None
    if test is None and not Path(path).with_name("testlist01.txt").is_file():
        tl = Path(path).with_name("testlist.mat")
        if tl.is_file():
            try:
                test = _mat_strlist(scipy.io.loadmat(io.BytesIO(read_bytes(tl)))["testlist"])
            except Exception:  # a broken testlist.mat: fall back to no list
                test = None
    train_l, test_l = _split_lists(videos, train, test, str(path))
    return _finish(classes, videos, train_l, test_l, str(path))


def _to_mat_bytes(gt: SpatialGroundTruth) -> bytes:
    import scipy.io

    vids = list(gt.videos)
    annot = np.empty((1, len(vids)), dtype=[("name", "O"), ("num_imgs", "O"), ("tubes", "O")])
    for i, v in enumerate(vids):
        ann = gt.videos[v]
        tubes = np.empty(
            (1, len(ann.tubes)), dtype=[("sf", "O"), ("ef", "O"), ("class", "O"), ("boxes", "O")]
        )
        for j, t in enumerate(ann.tubes):
            b = np.asarray(t.boxes, dtype=np.float64)
            xywh = np.stack([b[:, 1], b[:, 2], b[:, 3] - b[:, 1], b[:, 4] - b[:, 2]], 1)
            tubes[0, j] = (
                np.array([[b[0, 0]]]),
                np.array([[b[-1, 0]]]),
                np.array([[float(t.label + 1)]]),
                xywh,
            )
        annot[0, i] = (np.array([v]), np.array([[float(ann.nframes)]]), tubes)
    cell = lambda xs: np.array(list(xs), dtype=object).reshape(-1, 1)  # noqa: E731
    buf = io.BytesIO()
    scipy.io.savemat(
        buf,
        {
            "annot": annot,
            "classes": cell(gt.labels),
            "testlist": cell(gt.test_videos),
            "trainlist": cell(gt.train_videos),
        },
        do_compression=True,
    )
    return buf.getvalue()


# --------------------------------------------------------------------------- YOWO zip
_YOWO_NAME = re.compile(r"^(?:.*/)?(?P<stem>[^/]+)_(?P<frame>\d+)\.txt$")


def _from_yowo_zip(path: Path) -> SpatialGroundTruth:
    try:
        zf = zipfile.ZipFile(io.BytesIO(read_bytes(path)))
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a readable zip ({exc})") from None
    rows: dict[str, dict[int, list[tuple[int, list[float]]]]] = {}
    for name in zf.namelist():
        m = _YOWO_NAME.match(name)
        if not m:
            continue
        stem, frame = m.group("stem"), int(m.group("frame"))
        try:
            text = zf.read(name).decode("utf-8")
        except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
            raise InputError(f"{path}:{name}: unreadable ({exc})") from None
        for lineno, raw in enumerate(text.splitlines(), 1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 5:
                raise InputError(f"{path}:{name}, line {lineno}: expected 'label x1 y1 x2 y2'")
            try:
                lab = int(parts[0])
                box = [float(x) for x in parts[1:]]
            except ValueError:
                raise InputError(f"{path}:{name}, line {lineno}: not numbers") from None
            rows.setdefault(stem, {}).setdefault(frame, []).append((lab, box))
    if not rows:
        raise InputError(f"{path}: no '<class>_<video>_<frame>.txt' files in the zip")
    classes = None
    for cand in (JHMDB21_CLASSES, UCF101_24_CLASSES):
        by_len = sorted(cand, key=len, reverse=True)
        if all(any(s.startswith(c + "_") for c in by_len) for s in rows):
            classes = cand
            break
    if classes is None:
        bad = next(iter(rows))
        raise InputError(f"{path}: file prefix {bad!r} names no JHMDB-21 or UCF101-24 class")
    by_len = sorted(classes, key=len, reverse=True)
    videos: dict[str, VideoAnnotation] = {}
    for stem, frames in rows.items():
        cls = next(c for c in by_len if stem.startswith(c + "_"))
        key = f"{cls}/{stem[len(cls) + 1 :]}"
        nact = max(len(v) for v in frames.values())
        tubes = []
        for j in range(nact):
            fr = sorted(f for f, v in frames.items() if len(v) > j)
            runs = np.split(np.asarray(fr), np.flatnonzero(np.diff(fr) != 1) + 1)
            for run in runs:
                labs = {frames[f][j][0] for f in run.tolist()}
                if len(labs) != 1:
                    raise InputError(
                        f"{path}: video {key!r}, actor {j + 1}: several labels {sorted(labs)}"
                    )
                lab = labs.pop() - 1
                arr = np.asarray([[f, *frames[f][j][1]] for f in run.tolist()], np.float64)
                tubes.append(GTTube(lab, _check_tube(arr, f"{path}, video {key!r}")))
        videos[key] = VideoAnnotation(tubes[0].label, max(frames), tuple(tubes), _RES)
    return _finish(classes, videos, [], sorted(videos), str(path))


def _to_yowo_zip_bytes(gt: SpatialGroundTruth, split: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for video in sorted(gt.split(split)):
            lines: dict[int, list[str]] = {}
            for t in gt.videos[video].tubes:
                for row in np.asarray(t.boxes):
                    vals = " ".join(_num(x) for x in row[1:])
                    lines.setdefault(int(row[0]), []).append(f"{t.label + 1} {vals}")
            stem = video.replace("/", "_")
            for f in sorted(lines):
                zf.writestr(f"groundtruths/{stem}_{f:05d}.txt", "\n".join(lines[f]) + "\n")
    return buf.getvalue()


def _num(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


# --------------------------------------------------------------------------- COCO
def coco_image_ids(gt: SpatialGroundTruth, split: str = "test") -> dict[tuple[str, int], int]:
    """``{(video, frame): image id}`` for every frame of the split's videos (``1..nframes``, and
    any later frame a tube covers): videos in sorted order, frames ascending, ids from 1 (the
    order pycocotools sorts images in)."""
    ids: dict[tuple[str, int], int] = {}
    n = 0
    for video in sorted(gt.split(split)):
        ann = gt.videos[video]
        last = int(ann.nframes)
        for t in ann.tubes:
            last = max(last, int(np.asarray(t.boxes)[-1, 0]))
        for f in range(1, last + 1):
            n += 1
            ids[(video, f)] = n
    return ids


def to_coco(gt: SpatialGroundTruth, split: str = "test") -> dict[str, Any]:
    """COCO ground truth with every frame of the split's videos as an image (frames without a
    box included, so that detections there count as false positives). Boxes become
    ``[x1, y1, x2 - x1, y2 - y1]``; ``area = w * h``; category ids are label + 1; annotation ids
    follow videos (sorted), tubes, frames."""
    ids = coco_image_ids(gt, split)
    images = []
    for (video, f), i in ids.items():
        h, w = gt.videos[video].resolution or (0, 0)
        images.append({"id": i, "file_name": f"{video}/{f:05d}.jpg", "height": h, "width": w})
    anns = []
    for video in sorted(gt.split(split)):
        for t in gt.videos[video].tubes:
            for row in np.asarray(t.boxes, dtype=np.float64):
                w, h = float(row[3] - row[1]), float(row[4] - row[2])
                anns.append(
                    {
                        "id": len(anns) + 1,
                        "image_id": ids[(video, int(row[0]))],
                        "category_id": int(t.label) + 1,
                        "bbox": [float(row[1]), float(row[2]), w, h],
                        "area": w * h,
                        "iscrowd": 0,
                    }
                )
    cats = [{"id": k + 1, "name": n} for k, n in enumerate(gt.labels)]
    return {"images": images, "annotations": anns, "categories": cats}


# --------------------------------------------------------------------------- entry points
def read_spatial_gt(path: str | os.PathLike[str]) -> SpatialGroundTruth:
    """Read spatio-temporal ground truth from any supported layout (see the module docstring).

    Raises:
        AttnvizError: the file does not exist.
        InputError: the file is not a supported layout, or a tube in it is broken (the message
            names the file, the video and the tube).
    """
    from attnviz.io.paths import pick_file

    p = pick_file(
        path, what="ground truth",
        names=("pyannot.pkl", "pyannot.json", "finalAnnots.mat", "gt_tubes.json"),
        patterns=("*.pkl", "*.mat", "*.zip"),
    )  # fmt: skip
    suffixes = [s.lower() for s in p.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".mat":
        return _from_mat(p)
    if ext == ".zip":
        return _from_yowo_zip(p)
    if ext in (".pkl", ".pickle"):
        data = safe_load(p)
    elif ext == ".json":
        try:
            data = json.loads(read_text(p))
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    else:
        raise InputError(
            f"{p}: unknown ground-truth format (expected .pkl, .json, .mat or .zip, gzip allowed)"
        )
    if not isinstance(data, Mapping):
        raise InputError(f"{p}: expected a mapping at the top level, got {type(data).__name__}")
    if "gttubes" in data:
        return _from_act(data, str(p))
    if "db" in data:
        classes = data.get("classes")
        return _from_pyannot_db(
            data["db"],
            [str(c) for c in classes] if classes is not None else None,
            data.get("trainvideos"),
            data.get("testvideos"),
            str(p),
        )
    if "images" in data and "annotations" in data:
        raise InputError(
            f"{p}: this is COCO ground truth, which has no tubes; read the pyannot, ACT, "
            ".mat or YOWO file it was written from (COCO results take it as {coco_gt})",
            params=("coco_gt",),
        )
    return _from_pyannot_db(data, None, None, None, str(p))


def write_spatial_gt(
    gt: SpatialGroundTruth, path: str | os.PathLike[str], fmt: str, *, split: str = "test"
) -> None:
    """Write ``gt`` as ``fmt`` (one of :data:`GT_FORMATS`), atomically.

    ``act-pkl`` holds float64 tubes (exact round trip; ACT's own files hold float32);
    ``yowo-zip`` and ``coco`` hold the videos of ``split`` only.
    """
    if fmt == "act-json":
        atomic_write_text(path, json.dumps(to_act(gt)))
    elif fmt == "act-pkl":
        data = to_act(gt)
        data["gttubes"] = {
            v: {int(k): [np.asarray(t, dtype=np.float64) for t in ts] for k, ts in per.items()}
            for v, per in data["gttubes"].items()
        }
        data["resolution"] = {v: tuple(r) for v, r in data["resolution"].items()}
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps(data, protocol=4))
    elif fmt == "pyannot-json":
        atomic_write_text(path, json.dumps(to_pyannot(gt)))
    elif fmt == "pyannot-pkl":
        atomic_write_bytes(path, pickle.dumps(to_pyannot(gt, arrays=True), protocol=4))
    elif fmt == "mat":
        atomic_write_bytes(path, _to_mat_bytes(gt))
    elif fmt == "yowo-zip":
        atomic_write_bytes(path, _to_yowo_zip_bytes(gt, split))
    elif fmt == "coco":
        atomic_write_text(path, json.dumps(to_coco(gt, split)))
    else:
        raise AttnvizError(
            f"unknown ground-truth format {fmt!r}: expected one of {', '.join(GT_FORMATS)}"
        )
