"""Spatio-temporal ground truth (UCF101-24, JHMDB-21) in every layout the field uses, read into
one record, :class:`~attnviz.types.SpatialGroundTruth`, and written back out.

Readers (:func:`read_spatial_gt` picks by extension and content):

* ``pyannot.pkl`` (``{video: {"label", "numf", "annotations": [{"label", "sf", "ef",
  "boxes"}]}}``), ``pyannot_with_class_names.pkl`` (``{"db", "trainvideos", "classes"}``) and
  their JSON twin ``pyannot.json`` (adds ``"testvideos"``): the corrected UCF101-24 annotations.
  Tube frame ``k`` (0-based) is source frame ``sf + 1 + k``; a box ``[x, y, w, h]`` becomes
  ``x1 = x, y1 = y, x2 = x + w, y2 = y + h`` (cast to float first: boxes are stored as uint8).
  Pickles go through :mod:`attnviz.io.safe_pickle`.
* ``finalAnnots.mat`` (scipy): ``annot(1 x N)`` with ``name``, ``num_imgs`` and ``tubes`` (``sf``,
  ``ef`` 1-based inclusive, ``class`` 1-based, ``boxes`` ``[x y w h]``).
* the ACT layout (``labels``, ``gttubes``, ``nframes``, ``train_videos``, ``test_videos``,
  ``resolution``) as pickle or JSON.
* YOWO's per-frame text files ``<class>_<video>_<frame:05d>.txt`` (``<label 1-based> x1 y1 x2 y2``
  per line), read from the zip directly; line ``j`` of every frame belongs to tube ``j``.

The split of the pyannot files: ``testvideos`` where present, else the videos not in
``trainvideos``, else ``testlist01.txt`` beside the file.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from attnviz.errors import AttnvizError, InputError
from attnviz.io.atomic import atomic_path, atomic_write_text
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

GT_FORMATS = ("act-json", "act-pkl", "pyannot-json", "coco")


def _xywh_tube(sf0: int, boxes: Any, where: str) -> np.ndarray:
    """pyannot tube -> ``[n, 5]`` rows ``frame, x1, y1, x2, y2`` (frames ``sf0 + 1 + k``)."""
    b = np.asarray(boxes)
    if b.ndim != 2 or b.shape[1] != 4:
        raise InputError(f"{where}: boxes must be [n, 4] (x, y, w, h), got shape {b.shape}")
    b = b.astype(np.float64)  # before adding: uint8 boxes overflow
    out = np.empty((len(b), 5))
    out[:, 0] = sf0 + 1 + np.arange(len(b))
    out[:, 1] = b[:, 0]
    out[:, 2] = b[:, 1]
    out[:, 3] = b[:, 0] + b[:, 2]
    out[:, 4] = b[:, 1] + b[:, 3]
    return out


def _class_of(video: str) -> str:
    return video.split("/", 1)[0]


def _from_pyannot_db(db: Mapping, classes, train, test, source: str) -> SpatialGroundTruth:
    if classes is None:
        classes = sorted({_class_of(str(v)) for v in db})
    videos: dict[str, VideoAnnotation] = {}
    for video, entry in db.items():
        video = str(video)
        where = f'{source}, video "{video}"'
        try:
            label = int(entry["label"])
            numf = int(entry["numf"])
            anns = entry["annotations"]
        except (KeyError, TypeError, ValueError):
            raise InputError(f'{where}: expected "label", "numf" and "annotations"') from None
        tubes = []
        for j, ann in enumerate(anns):
            w = f"{where}, tube {j}"
            try:
                sf, ef, tl = int(ann["sf"]), int(ann["ef"]), int(ann["label"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f'{w}: expected "sf", "ef", "label" and "boxes"') from None
            arr = _xywh_tube(sf, ann["boxes"], w)
            if ef - sf != len(arr):
                raise InputError(f'{w}, field "ef": ef - sf = {ef - sf} but {len(arr)} boxes')
            tubes.append(GTTube(tl, arr))
        videos[video] = VideoAnnotation(label, numf, tuple(tubes), (240, 320))
    train = [str(v) for v in (train or []) if str(v) in videos]
    if test is None:
        listfile = Path(source).with_name("testlist01.txt")
        if train:
            test = [v for v in videos if v not in set(train)]
        elif listfile.is_file():
            test = [ln.strip() for ln in read_text(listfile).splitlines() if ln.strip()]
            train = [v for v in videos if v not in set(test)]
        else:
            test = []
    test = [str(v) for v in test if str(v) in videos]
    return SpatialGroundTruth(tuple(classes), videos, tuple(train), tuple(test), source)


def _from_act(data: Mapping, source: str) -> SpatialGroundTruth:
    try:
        labels = [str(x) for x in data["labels"]]
        gttubes = data["gttubes"]
        nframes = data["nframes"]
    except (KeyError, TypeError):
        raise InputError(f'{source}: ACT layout needs "labels", "gttubes" and "nframes"') from None
    res = data.get("resolution", {}) or {}
    videos: dict[str, VideoAnnotation] = {}
    for video, per_label in gttubes.items():
        video = str(video)
        tubes = []
        vlabel = -1
        for lab, tlist in per_label.items():
            lab = int(lab)
            vlabel = lab if vlabel < 0 else vlabel
            for j, t in enumerate(tlist):
                arr = np.asarray(t, dtype=np.float64)
                if arr.ndim != 2 or arr.shape[1] != 5:
                    raise InputError(
                        f'{source}, video "{video}", label {lab}, tube {j}: expected [n, 5] rows '
                        f"frame, x1, y1, x2, y2, got shape {arr.shape}"
                    )
                tubes.append(GTTube(lab, arr))
        if video not in nframes:
            raise InputError(f'{source}, video "{video}": missing from "nframes"')
        r = res.get(video)
        videos[video] = VideoAnnotation(
            vlabel, int(nframes[video]), tuple(tubes), tuple(int(x) for x in r) if r else None
        )
    for video in nframes:
        if str(video) not in videos:
            videos[str(video)] = VideoAnnotation(-1, int(nframes[video]), (), None)

    def _split(key: str) -> tuple[str, ...]:
        s = data.get(key) or [[]]
        first = s[0] if len(s) and isinstance(s[0], list | tuple) else s
        return tuple(str(v) for v in first)

    return SpatialGroundTruth(
        tuple(labels), videos, _split("train_videos"), _split("test_videos"), source
    )


def _from_mat(path: Path) -> SpatialGroundTruth:
    import scipy.io

    try:
        mat = scipy.io.loadmat(io.BytesIO(read_bytes(path)))
    except Exception as exc:
        raise InputError(f"{path}: not a readable .mat file ({exc})") from None
    if "annot" not in mat:
        raise InputError(f'{path}: no "annot" struct (expected finalAnnots.mat)')
    annot = mat["annot"][0]
    videos: dict[str, VideoAnnotation] = {}
    for i, e in enumerate(annot):
        name = str(e["name"][0])
        numf = int(np.asarray(e["num_imgs"]).ravel()[0])
        tubes = []
        for j, t in enumerate(np.asarray(e["tubes"]).ravel()):
            sf = int(np.asarray(t["sf"]).ravel()[0])
            ef = int(np.asarray(t["ef"]).ravel()[0])
            cls = int(np.asarray(t["class"]).ravel()[0])
            arr = _xywh_tube(sf - 1, t["boxes"], f"{path}, annot({i + 1}).tubes({j + 1})")
            if ef - sf + 1 != len(arr):
                raise InputError(f"{path}, annot({i + 1}).tubes({j + 1}): ef - sf + 1 != #boxes")
            tubes.append(GTTube(cls - 1, arr))
        label = tubes[0].label if tubes else -1
        videos[name] = VideoAnnotation(label, numf, tuple(tubes), (240, 320))
    return _from_pyannot_db_records(videos, str(path))


def _from_pyannot_db_records(videos: dict, source: str) -> SpatialGroundTruth:
    classes = sorted({_class_of(v) for v in videos})
    listfile = Path(source).with_name("testlist01.txt")
    test: list[str] = []
    if listfile.is_file():
        test = [ln.strip() for ln in read_text(listfile).splitlines() if ln.strip()]
    test = [v for v in test if v in videos]
    train = [v for v in videos if v not in set(test)]
    return SpatialGroundTruth(tuple(classes), videos, tuple(train), tuple(test), source)


_YOWO_NAME = re.compile(r"^(?:.*/)?(?P<stem>.+)_(?P<frame>\d{5})\.txt$")


def _from_yowo_zip(path: Path) -> SpatialGroundTruth:
    try:
        zf = zipfile.ZipFile(io.BytesIO(read_bytes(path)))
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a readable zip ({exc})") from None
    rows: dict[str, dict[int, list[tuple[int, list[float]]]]] = {}
    labels_seen: set[int] = set()
    for name in zf.namelist():
        m = _YOWO_NAME.match(name)
        if not m:
            continue
        stem, frame = m.group("stem"), int(m.group("frame"))
        for lineno, raw in enumerate(zf.read(name).decode("utf-8").splitlines(), 1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 5:
                raise InputError(f"{path}:{name}, line {lineno}: expected 'label x1 y1 x2 y2'")
            try:
                lab = int(float(parts[0]))
                box = [float(x) for x in parts[1:]]
            except ValueError:
                raise InputError(f"{path}:{name}, line {lineno}: not numbers") from None
            labels_seen.add(lab)
            rows.setdefault(stem, {}).setdefault(frame, []).append((lab, box))
    if not rows:
        raise InputError(f"{path}: no '<class>_<video>_<frame>.txt' files in the zip")
    classes = next(
        (c for c in (JHMDB21_CLASSES, UCF101_24_CLASSES) if max(labels_seen) <= len(c)),
        None,
    )
    if classes is None:
        raise InputError(f"{path}: labels up to {max(labels_seen)} fit no known class list")
    by_len = sorted(classes, key=len, reverse=True)
    videos: dict[str, VideoAnnotation] = {}
    for stem, frames in rows.items():
        cls = next((c for c in by_len if stem.startswith(c + "_")), None)
        if cls is None:
            raise InputError(f"{path}: file prefix {stem!r} names no known class")
        key = f"{cls}/{stem[len(cls) + 1 :]}"
        ntubes = max(len(v) for v in frames.values())
        tubes = []
        for j in range(ntubes):
            fr = sorted(f for f, v in frames.items() if len(v) > j)
            arr = np.asarray([[f, *frames[f][j][1]] for f in fr], dtype=np.float64)
            tubes.append(GTTube(frames[fr[0]][j][0] - 1, arr))
        videos[key] = VideoAnnotation(tubes[0].label, max(frames), tuple(tubes), (240, 320))
    test = tuple(sorted(videos))
    return SpatialGroundTruth(tuple(classes), videos, (), test, str(path))


def read_spatial_gt(path: str | os.PathLike[str]) -> SpatialGroundTruth:
    """Read spatio-temporal ground truth from any supported layout (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise AttnvizError(f"{p}: ground truth not found")
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
        raise InputError(f"{p}: unknown ground-truth format (.pkl, .json, .mat or .zip)")
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a mapping at the top level")
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
    return _from_pyannot_db(data, None, None, None, str(p))


# --------------------------------------------------------------------------- writers
def to_act(gt: SpatialGroundTruth) -> dict[str, Any]:
    """The ACT layout as JSON-able data (labels, gttubes, nframes, train/test_videos,
    resolution)."""
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


def coco_image_ids(gt: SpatialGroundTruth, split: str = "test") -> dict[tuple[str, int], int]:
    """``{(video, frame): image id}`` for every frame of the split's videos: videos in sorted
    order, frames ascending, ids from 1 (the order COCO evaluation sorts images in)."""
    ids: dict[tuple[str, int], int] = {}
    n = 0
    for video in sorted(gt.split(split)):
        for f in range(1, gt.videos[video].nframes + 1):
            n += 1
            ids[(video, f)] = n
    return ids


def to_coco(gt: SpatialGroundTruth, split: str = "test") -> dict[str, Any]:
    """COCO ground truth with every frame of the split's videos as an image (frames without a
    box included, so that detections there count as false positives). Boxes become
    ``[x1, y1, x2 - x1, y2 - y1]``; ``area = w * h``; category ids are label + 1."""
    ids = coco_image_ids(gt, split)
    images = []
    for (video, f), i in ids.items():
        res = gt.videos[video].resolution or (0, 0)
        images.append(
            {"id": i, "file_name": f"{video}/{f:05d}.jpg", "height": res[0], "width": res[1]}
        )
    anns = []
    for video in sorted(gt.split(split)):
        for t in gt.videos[video].tubes:
            for row in np.asarray(t.boxes):
                f = int(row[0])
                if (video, f) not in ids:
                    continue
                w, h = float(row[3] - row[1]), float(row[4] - row[2])
                anns.append(
                    {
                        "id": len(anns) + 1,
                        "image_id": ids[(video, f)],
                        "category_id": int(t.label) + 1,
                        "bbox": [float(row[1]), float(row[2]), w, h],
                        "area": w * h,
                        "iscrowd": 0,
                    }
                )
    cats = [{"id": k + 1, "name": n} for k, n in enumerate(gt.labels)]
    return {"images": images, "annotations": anns, "categories": cats}


def write_spatial_gt(
    gt: SpatialGroundTruth, path: str | os.PathLike[str], fmt: str, *, split: str = "test"
) -> None:
    """Write ``gt`` as ``act-json``, ``act-pkl``, ``pyannot-json`` or ``coco`` (atomically)."""
    if fmt == "act-json":
        atomic_write_text(path, json.dumps(to_act(gt)))
    elif fmt == "act-pkl":
        import pickle

        data = to_act(gt)
        data["gttubes"] = {
            v: {int(k): [np.asarray(t, dtype=np.float32) for t in ts] for k, ts in per.items()}
            for v, per in data["gttubes"].items()
        }
        data["resolution"] = {v: tuple(r) for v, r in data["resolution"].items()}
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps(data, protocol=2))
    elif fmt == "pyannot-json":
        db = {}
        for video, ann in gt.videos.items():
            tubes = []
            for t in ann.tubes:
                b = np.asarray(t.boxes)
                sf = int(b[0, 0]) - 1
                xywh = np.stack([b[:, 1], b[:, 2], b[:, 3] - b[:, 1], b[:, 4] - b[:, 2]], 1)
                tubes.append(
                    {"label": int(t.label), "sf": sf, "ef": sf + len(b), "boxes": xywh.tolist()}
                )
            db[video] = {"label": int(ann.label), "numf": int(ann.nframes), "annotations": tubes}
        out = {
            "classes": list(gt.labels),
            "trainvideos": list(gt.train_videos),
            "testvideos": list(gt.test_videos),
            "db": db,
        }
        atomic_write_text(path, json.dumps(out))
    elif fmt == "coco":
        atomic_write_text(path, json.dumps(to_coco(gt, split)))
    else:
        raise AttnvizError(f"unknown ground-truth format {fmt!r}: expected one of {GT_FORMATS}")
