"""Video lists with class labels: the official split files of the action datasets, and a plain CSV.

Every reader returns a :class:`VideoList`: items ``(key, path, label)`` and the class names.
``key`` is the video's name in the dataset (its path relative to the dataset root, without
extension: ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01``, ``video_validation_0000051``); it names
the video in the feature cache and in ground-truth files. ``path`` is the video file or the folder
of its JPEG frames under ``root`` (``None`` when no ``root`` is given: enough for cached features).

Readers:

* :func:`read_csv_list`: ``video,label`` (header optional; label = class name or 0-based index);
  the class list is ``classes`` (an ``id name`` file), else ``classes.txt`` / ``classInd.txt``
  beside the CSV, else the sorted label names.
* :func:`read_ucf101_split`: ``classInd.txt`` (``1 ApplyEyeMakeup``), ``trainlist0N.txt``
  (``ApplyEyeMakeup/v_..._c01.avi 1``, 1-based class id) and ``testlist0N.txt`` (path only; the
  class is the folder name).
* :func:`read_hmdb51_split`: ``<class>_test_split<N>.txt`` files (``video.avi 1``; 1 = train,
  2 = test, 0 = unused); classes in alphabetical order; videos under ``<class>/``.
* :func:`read_ucf24_list`: the UCF101-24 ground truth (any layout ``read_spatial_gt`` reads),
  its ``train`` or ``test`` videos with their labels.
* :func:`read_thumos_list`: THUMOS14's per-class annotation folder; the paper trains on the
  validation set and evaluates on the test set, and drops videos with more than one label
  (``multi_label="drop"``), except that every CliffDiving instance is also annotated as Diving,
  so a video labelled exactly {CliffDiving, Diving} is CliffDiving.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from attnviz.errors import AttnvizError, InputError
from attnviz.io.textfiles import read_text
from attnviz.io.video import VIDEO_SUFFIXES, find_video

__all__ = [
    "VideoItem",
    "VideoList",
    "looks_like_test_split",
    "read_class_names",
    "read_csv_list",
    "read_hmdb51_split",
    "read_thumos_list",
    "read_ucf24_list",
    "read_ucf101_split",
    "read_video_list",
    "resolve_video",
]


@dataclass(frozen=True)
class VideoItem:
    """One labelled video: dataset ``key``, ``path`` (file or frame folder, or ``None``) and
    0-based ``label``."""

    key: str
    path: Path | None
    label: int


@dataclass(frozen=True)
class VideoList:
    """Labelled videos of one split.

    Attributes:
        items (tuple[VideoItem, ...]): in file order.
        class_names (tuple[str, ...]): labels index into it.
        source (str): the file(s) the list came from.
        subset (str): ``train``, ``val``, ``test`` or ``""`` when unknown.
    """

    items: tuple[VideoItem, ...]
    class_names: tuple[str, ...]
    source: str = ""
    subset: str = ""

    def __len__(self) -> int:
        return len(self.items)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(it.key for it in self.items)

    @property
    def labels(self) -> tuple[int, ...]:
        return tuple(it.label for it in self.items)

    def subset_of(self, indices: Sequence[int], subset: str = "") -> VideoList:
        """The list restricted to ``indices``."""
        return VideoList(
            tuple(self.items[i] for i in indices), self.class_names, self.source, subset
        )


def _strip_ext(name: str) -> str:
    p = Path(name)
    return str(p.with_suffix("")) if p.suffix.lower() in VIDEO_SUFFIXES else name


def resolve_video(root: str | os.PathLike[str] | None, key: str, where: str) -> Path | None:
    """``root/key`` as a frame folder or video file, trying the usual extensions.

    Raises:
        AttnvizError: nothing by that name under ``root`` (the message names ``where``).
    """
    if root is None:
        return None
    base = Path(root)
    direct = base / key
    if direct.exists():
        return direct
    found = find_video(key, base, subfolders=("",))
    if found is not None:
        return found
    raise AttnvizError(f"{where}: video {key!r} not found under {base} (file or frame folder)")


def read_class_names(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Class names from an ``id name`` file (``classInd.txt``, ``classes.txt``, THUMOS14's
    ``Class Index_Detection.txt``), in file order; CRLF or LF."""
    names: list[str] = []
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 2:
            raise InputError(f"{path}, line {lineno}: expected 'id name', got {raw.strip()!r}")
        names.append(parts[1])
    if not names:
        raise InputError(f"{path}: empty class list")
    if len(set(names)) != len(names):
        raise InputError(f"{path}: duplicate class name")
    return tuple(names)


def read_csv_list(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    classes: str | os.PathLike[str] | Sequence[str] | None = None,
    subset: str = "",
) -> VideoList:
    """A ``video,label`` CSV (see the module docstring)."""
    p = Path(path)
    rows = list(csv.reader(io.StringIO(read_text(p))))
    start = 0
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["video", "label"]:
        start = 1
    if classes is None:
        for name in ("classes.txt", "classInd.txt"):
            if (p.parent / name).is_file():
                classes = p.parent / name
                break
    entries: list[tuple[int, str, str]] = []
    for lineno, row in enumerate(rows[start:], start + 1):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 2:
            raise InputError(f"{p}, line {lineno}: expected 'video,label', got {','.join(row)!r}")
        video, label = row[0].strip(), row[1].strip()
        if not video:
            raise InputError(f'{p}, line {lineno}, field "video": empty')
        if not label:
            raise InputError(f'{p}, line {lineno}, field "label": empty')
        entries.append((lineno, video, label))
    if not entries:
        raise InputError(f"{p}: no video listed")
    if classes is None:
        names = tuple(sorted({lab for _, _, lab in entries if not _is_int(lab)}))
        if not names:
            k = max(int(lab) for _, _, lab in entries) + 1
            names = tuple(f"class_{i}" for i in range(k))
    elif isinstance(classes, str | os.PathLike):
        names = read_class_names(classes)
    else:
        names = tuple(str(c) for c in classes)
    index = {n: i for i, n in enumerate(names)}
    items = []
    seen: set[str] = set()
    for lineno, video, label in entries:
        if label in index:
            lab = index[label]
        elif _is_int(label) and 0 <= int(label) < len(names):
            lab = int(label)
        else:
            raise InputError(f'{p}, line {lineno}, field "label": unknown class {label!r}')
        key = _strip_ext(video)
        if key in seen:
            raise InputError(f'{p}, line {lineno}, field "video": {video!r} listed twice')
        seen.add(key)
        items.append(VideoItem(key, resolve_video(root, key, f"{p}, line {lineno}"), lab))
    return VideoList(tuple(items), names, str(p), subset or _subset_from_name(p.name))


def _is_int(text: str) -> bool:
    return re.fullmatch(r"\d+", text) is not None


def _subset_from_name(name: str) -> str:
    low = name.lower()
    if looks_like_test_split(name):
        return "test"
    if low.startswith("val") or "_val" in low or "validation" in low:
        return "val"
    if low.startswith("train") or "_train" in low:
        return "train"
    return ""


def looks_like_test_split(name: str) -> bool:
    """True for the file names of official test splits and of test CSVs: ``testlist0N.txt``,
    ``*_test_split<N>.txt``, ``test.csv``, ``*_test.csv``, ``<Class>_test.txt``."""
    low = Path(name).name.lower()
    return bool(
        re.match(r"testlist\d*\.txt$", low)
        or re.search(r"_test_split\d+\.txt$", low)
        or re.match(r"test[._-]", low)
        or re.search(r"[._-]test(list)?\d*\.(csv|txt)$", low)
    )


def read_ucf101_split(
    folder: str | os.PathLike[str],
    *,
    split: int = 1,
    subset: str = "train",
    root: str | os.PathLike[str] | None = None,
) -> VideoList:
    """UCF101's official split ``split`` (1-3), ``subset`` ``train`` or ``test``."""
    base = Path(folder)
    if subset not in ("train", "test"):
        raise AttnvizError(f"UCF101 subset must be train or test, got {subset!r}")
    class_file = base / "classInd.txt"
    if not class_file.is_file():
        raise AttnvizError(f"{class_file}: UCF101 class list not found")
    ids: dict[int, str] = {}
    for lineno, raw in enumerate(read_text(class_file).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 2 or not _is_int(parts[0]):
            raise InputError(f"{class_file}, line {lineno}: expected 'id name', got {raw!r}")
        ids[int(parts[0])] = parts[1]
    names = tuple(ids[k] for k in sorted(ids))
    index = {n: i for i, n in enumerate(names)}
    id_to_label = {k: index[v] for k, v in ids.items()}
    list_file = base / f"{subset}list{split:02d}.txt"
    if not list_file.is_file():
        raise AttnvizError(f"{list_file}: UCF101 split file not found")
    items = []
    for lineno, raw in enumerate(read_text(list_file).splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        where = f"{list_file}, line {lineno}"
        video = parts[0]
        key = _strip_ext(video)
        folder_class = key.split("/", 1)[0] if "/" in key else None
        if len(parts) >= 2:
            if not _is_int(parts[1]) or int(parts[1]) not in id_to_label:
                raise InputError(f'{where}, field "class": unknown class id {parts[1]!r}')
            lab = id_to_label[int(parts[1])]
        elif folder_class in index:
            lab = index[folder_class]
        else:
            raise InputError(f"{where}: no class id and no known class folder in {video!r}")
        items.append(VideoItem(key, resolve_video(root, key, where), lab))
    if not items:
        raise InputError(f"{list_file}: no video listed")
    return VideoList(tuple(items), names, str(list_file), subset)


def read_hmdb51_split(
    folder: str | os.PathLike[str],
    *,
    split: int = 1,
    subset: str = "train",
    root: str | os.PathLike[str] | None = None,
) -> VideoList:
    """HMDB51's official split ``split`` (1-3): ``<class>_test_split<N>.txt`` files, ``subset``
    ``train`` (mark 1) or ``test`` (mark 2)."""
    base = Path(folder)
    marks = {"train": "1", "test": "2"}
    if subset not in marks:
        raise AttnvizError(f"HMDB51 subset must be train or test, got {subset!r}")
    pattern = re.compile(rf"^(?P<cls>.+)_test_split{split}\.txt$")
    files = sorted(
        (m.group("cls"), f) for f in base.iterdir() if (m := pattern.match(f.name)) is not None
    )
    if not files:
        raise AttnvizError(f"{base}: no '<class>_test_split{split}.txt' files")
    names = tuple(c for c, _ in files)
    items = []
    for lab, (cls, f) in enumerate(files):
        for lineno, raw in enumerate(read_text(f).splitlines(), 1):
            parts = raw.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise InputError(f"{f}, line {lineno}: expected 'video.avi 0|1|2', got {raw!r}")
            if parts[1] != marks[subset]:
                continue
            key = f"{cls}/{_strip_ext(parts[0])}"
            items.append(VideoItem(key, resolve_video(root, key, f"{f}, line {lineno}"), lab))
    return VideoList(tuple(items), names, str(base), subset)


def read_ucf24_list(
    gt,
    *,
    subset: str = "train",
    root: str | os.PathLike[str] | None = None,
) -> VideoList:
    """UCF101-24's ``train`` or ``test`` videos with their labels, from its ground truth (a file
    that :func:`attnviz.io.spatial_gt.read_spatial_gt` reads, or the record it returns)."""
    from attnviz.io.spatial_gt import read_spatial_gt
    from attnviz.types import SpatialGroundTruth

    truth = gt if isinstance(gt, SpatialGroundTruth) else read_spatial_gt(gt)
    gt = truth.source or "UCF101-24 ground truth"
    keys = truth.split(subset)
    items = []
    for key in keys:
        lab = truth.videos[key].label
        if not 0 <= lab < len(truth.labels):
            raise InputError(f'{gt}, video "{key}": no valid label ({lab})')
        items.append(VideoItem(key, resolve_video(root, key, f"{gt}, video {key!r}"), lab))
    if not items:
        raise InputError(f"{gt}: no video in subset {subset!r}")
    return VideoList(tuple(items), tuple(truth.labels), str(gt), subset)


def read_thumos_list(
    gt: str | os.PathLike[str],
    *,
    subset: str = "val",
    root: str | os.PathLike[str] | None = None,
    classes: str | os.PathLike[str] | None = None,
    multi_label: str = "drop",
) -> VideoList:
    """THUMOS14 videos with a video-level label from the temporal annotations (see the module
    docstring). ``multi_label``: ``drop`` (the paper) or ``first`` (the first class in the class
    list)."""
    from attnviz.io.thumos import read_thumos_gt

    if multi_label not in ("drop", "first"):
        raise AttnvizError(f"multi_label must be drop or first, got {multi_label!r}")
    truth = read_thumos_gt(gt, subset=subset, classes=classes)
    names = truth.class_names
    labels: dict[str, set[int]] = {}
    order: list[str] = []
    for video, lab in zip(truth.video.tolist(), truth.label.tolist(), strict=True):
        if video not in labels:
            labels[video] = set()
            order.append(video)
        labels[video].add(int(lab))
    items = []
    nested = (
        {names.index("CliffDiving"), names.index("Diving")}
        if ("CliffDiving" in names and "Diving" in names)
        else None
    )
    for video in sorted(order):
        labs = labels[video]
        if len(labs) > 1:
            if nested is not None and labs == nested:
                labs = {names.index("CliffDiving")}
            elif multi_label == "drop":
                continue
        lab = min(labs)
        items.append(VideoItem(video, resolve_video(root, video, f"{gt}, video {video!r}"), lab))
    return VideoList(tuple(items), tuple(names), str(gt), "test" if subset == "test" else "train")


def read_video_list(
    spec: str | os.PathLike[str],
    *,
    dataset: str = "csv",
    subset: str = "train",
    split: int = 1,
    root: str | os.PathLike[str] | None = None,
    classes: str | os.PathLike[str] | None = None,
) -> VideoList:
    """One entry point for every reader: ``dataset`` is ``csv`` (``spec`` the CSV), ``ucf101`` /
    ``hmdb51`` (``spec`` the folder of split files), ``ucf24`` (the ground-truth file) or
    ``thumos14`` (the annotation folder; ``subset`` ``val`` for training, ``test``)."""
    if dataset == "csv":
        from attnviz.io.paths import pick_file

        if Path(spec).is_dir():  # a folder written by attnviz synth: its <subset>.csv
            spec = pick_file(spec, what=f"{subset} list", names=(f"{subset}.csv",))
        return read_csv_list(spec, root=root, classes=classes)
    if dataset == "ucf101":
        return read_ucf101_split(spec, split=split, subset=subset, root=root)
    if dataset == "hmdb51":
        return read_hmdb51_split(spec, split=split, subset=subset, root=root)
    if dataset == "ucf24":
        return read_ucf24_list(spec, subset=subset, root=root)
    if dataset == "thumos14":
        return read_thumos_list(spec, subset=subset, root=root, classes=classes)
    raise AttnvizError(
        f"unknown dataset {dataset!r}: expected csv, ucf101, hmdb51, ucf24 or thumos14"
    )
