"""The benchmarks by name: ground truth that ships inside attnviz, and where the rest goes.

Every command that takes ``--gt`` takes a path or one of these names (:func:`resolve_gt`):

* ``thumos14``: THUMOS14 test temporal annotations (the official per-class files of 20 classes
  and ``Ambiguous_test.txt``), with the class list and its UCF101 ids; ``thumos14-val``: the
  same for the validation subset.
* ``ucf101-24``: UCF101-24 corrected annotations (``pyannot.pkl``) with split 1
  (``testlist01.txt`` beside it; training = every other annotated video).
* ``jhmdb21``: JHMDB-21 split-1 test tubes (ACT-like JSON).
* ``activitynet-1.3`` (``activitynet/activity_net.v1-3.min.json``), ``ava-v2.1``
  (``ava/ava_val_v2.1.csv``; its label map ships) and ``ava-v2.2`` (``ava/ava_val_v2.2.csv`` and
  ``ava/ava_action_list_v2.2_for_activitynet_2019.pbtxt``) do not ship: they are read from the
  data folder, and where they are missing one line says which official file to put where.

Shipped files live in ``attnviz/resources/datasets/<folder>/`` with a ``SOURCES.md`` each
(provenance and licence); they are gzip-compressed and read in place by the usual readers.

The data folder is ``$ATTNVIZ_DATA`` where set, else ``attnviz/`` beside the torch hub cache:
``$TORCH_HOME/attnviz``, with ``TORCH_HOME`` defaulting to ``$XDG_CACHE_HOME/torch``
(``~/.cache/torch``), the folder that holds ``hub/`` (:func:`data_dir`; torch is not imported).

A name that is also an existing path is read as that path (a file of the user's is never
silently replaced by a packaged one).

A command that takes ``--gt`` resolves it once, at the edge, and passes on what it needs::

    ref = resolve_gt(gt)                  # a name or a path
    if ref.dataset is not None and ref.dataset.kind != "ava":
        ...                               # one line: this name is not AVA ground truth
    labelmap = labelmap or ref.classes    # the class list / label map that comes with a name
    read_it(ref.path, subset=ref.subset or subset)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from attnviz.errors import AttnvizError

__all__ = [
    "DATASETS",
    "Dataset",
    "GroundTruthRef",
    "data_dir",
    "dataset_counts",
    "get_dataset",
    "list_datasets",
    "resolve_gt",
]


@dataclass(frozen=True)
class Dataset:
    """One benchmark's ground truth by name.

    Attributes:
        name (str): what ``--gt`` takes (``thumos14``).
        kind (str): ``temporal`` (THUMOS14 readers), ``spatial`` (UCF101-24 / JHMDB-21 readers),
            ``activitynet`` or ``ava``.
        content (str): one line: what it holds.
        path (str): the ground truth, relative to the package's ``resources/datasets/`` when
            ``shipped``, else to the data folder (:func:`data_dir`).
        shipped (bool): inside the package.
        subset (str | None): the THUMOS14 subset the name stands for (``test`` / ``val``).
        split (str | None): the split its evaluation scores (``test``).
        classes (str | None): the class list / label map, relative to ``resources/`` when
            ``classes_shipped``, else to the data folder.
        classes_shipped (bool): the class list is inside the package.
        source (str): one line: where it comes from (details in its ``SOURCES.md``).
        official (str): for a file that does not ship, the official file and where to get it.
    """

    name: str
    kind: str
    content: str
    path: str
    shipped: bool
    subset: str | None = None
    split: str | None = None
    classes: str | None = None
    classes_shipped: bool = True
    source: str = ""
    official: str = ""


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "thumos14",
            "temporal",
            "THUMOS14 test segments, 20 classes + Ambiguous",
            "thumos14/annotations_test",
            True,
            subset="test",
            split="test",
            classes="thumos14_detection_classes.txt",
            source="THUMOS Challenge 2014 (makecent/mmtad @ 3057976)",
        ),
        Dataset(
            "thumos14-val",
            "temporal",
            "THUMOS14 validation segments, 20 classes + Ambiguous",
            "thumos14/annotations_val",
            True,
            subset="val",
            split="val",
            classes="thumos14_detection_classes.txt",
            source="THUMOS Challenge 2014 (makecent/mmtad @ 3057976)",
        ),
        Dataset(
            "ucf101-24",
            "spatial",
            "UCF101-24 corrected tubes, 24 classes, split 1",
            "ucf101_24/pyannot.pkl.gz",
            True,
            split="test",
            source="gurkirt/corrected-UCF101-Annots @ 5de776b",
        ),
        Dataset(
            "jhmdb21",
            "spatial",
            "JHMDB-21 test tubes, 21 classes, split 1",
            "jhmdb21/jhmdb21_test_gt.json.gz",
            True,
            split="test",
            source="wei-tim/YOWO @ 9d202c1 (as ACT-like JSON)",
        ),
        Dataset(
            "activitynet-1.3",
            "activitynet",
            "ActivityNet-1.3 segments, 200 classes",
            "activitynet/activity_net.v1-3.min.json",
            False,
            subset="validation",
            split="validation",
            source="ActivityNet 1.3 (activity-net.org)",
            official="activity_net.v1-3.min.json (the ActivityNet 1.3 annotations, from the "
            "ActivityNet download page)",
        ),
        Dataset(
            "ava-v2.1",
            "ava",
            "AVA v2.1 validation keyframes, 60 classes",
            "ava/ava_val_v2.1.csv",
            False,
            split="val",
            classes="datasets/ava/ava_action_list_v2.1_for_activitynet_2018.pbtxt",
            source="AVA v2.1 (research.google.com/ava, CC BY 4.0)",
            official="ava_val_v2.1.csv from the AVA v2.1 annotations (ava_v2.1.zip on the AVA "
            "download page)",
        ),
        Dataset(
            "ava-v2.2",
            "ava",
            "AVA v2.2 validation keyframes, 60 classes",
            "ava/ava_val_v2.2.csv",
            False,
            split="val",
            classes="ava/ava_action_list_v2.2_for_activitynet_2019.pbtxt",
            classes_shipped=False,
            source="AVA v2.2 (research.google.com/ava, CC BY 4.0)",
            official="ava_val_v2.2.csv and ava_action_list_v2.2_for_activitynet_2019.pbtxt "
            "from the AVA v2.2 annotations (ava_v2.2.zip on the AVA download page)",
        ),
    )
}


def data_dir() -> Path:
    """The folder for ground truth that cannot ship: ``$ATTNVIZ_DATA``, else ``attnviz``
    beside the torch hub cache (``$TORCH_HOME/attnviz``; ``TORCH_HOME`` defaults to
    ``$XDG_CACHE_HOME/torch``, i.e. ``~/.cache/torch``, as torch's own rule)."""
    env = os.environ.get("ATTNVIZ_DATA")
    if env:
        return Path(env).expanduser()
    torch_home = os.environ.get("TORCH_HOME")
    if not torch_home:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        torch_home = os.path.join(cache, "torch")
    return Path(torch_home).expanduser() / "attnviz"


def _package_dir() -> Path:
    return Path(str(resources.files("attnviz").joinpath("resources")))


def get_dataset(name: str) -> Dataset:
    """The :class:`Dataset` called ``name``.

    Raises:
        AttnvizError: no such name (the message lists the names).
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise AttnvizError(
            f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}"
        ) from None


@dataclass(frozen=True)
class GroundTruthRef:
    """A ground truth to read: a path, and what its name says about it.

    It is a path-like object (``os.fspath(ref)`` is ``ref.path``), so it goes wherever a path
    does.

    Attributes:
        path (Path): the file or folder.
        dataset (Dataset | None): the named benchmark, ``None`` for a plain path.
        subset (str | None): THUMOS14 subset (``test`` / ``val``) of a name, else ``None``.
        split (str | None): the split a name is scored on, else ``None``.
        classes (Path | None): the class list / label map that comes with a name, else ``None``.
    """

    path: Path
    dataset: Dataset | None = None
    subset: str | None = None
    split: str | None = None
    classes: Path | None = field(default=None)

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str | None:
        """The benchmark's name, ``None`` for a plain path."""
        return self.dataset.name if self.dataset is not None else None


def _locate(d: Dataset) -> tuple[Path, Path | None]:
    base = _package_dir()
    path = base / "datasets" / d.path if d.shipped else data_dir() / d.path
    classes = None
    if d.classes is not None:
        classes = base / d.classes if d.classes_shipped else data_dir() / d.classes
    return path, classes


def _missing(d: Dataset, path: Path, what: str = "ground truth") -> AttnvizError:
    return AttnvizError(
        f"{d.name}: {what} not found at {path}; put {d.official} in {path.parent} "
        "(the data folder is $ATTNVIZ_DATA, else attnviz/ beside the torch hub cache)"
    )


def resolve_gt(name_or_path: str | os.PathLike[str], *, must_exist: bool = True) -> GroundTruthRef:
    """The ground truth that ``name_or_path`` stands for.

    Args:
        name_or_path: a name of :data:`DATASETS` (``thumos14``, ``thumos14-val``, ``ucf101-24``,
            ``jhmdb21``, ``activitynet-1.3``, ``ava-v2.1``, ``ava-v2.2``) or a path. An existing
            path wins over a name; any other string is returned as a plain path (its reader
            reports a missing file), except a missing one-word name with no suffix, which is
            taken for a misspelt name.
        must_exist: fail on a missing name-like path, and on a name whose file does not ship
            and is not in the data folder.

    Returns:
        GroundTruthRef: ``path`` plus, for a name, the dataset, its subset, split and class list.

    Raises:
        AttnvizError: a name whose file does not ship and is not in the data folder (the one
            line says which official file to put where), or a misspelt name (the line lists
            the names).
    """
    text = os.fspath(name_or_path)
    if text not in DATASETS or Path(text).exists():
        p = Path(text)
        if must_exist and not p.exists() and len(p.parts) == 1 and not p.suffix:
            raise AttnvizError(
                f"{text}: ground truth not found, and not a name of attnviz datasets "
                f"({', '.join(DATASETS)})"
            )
        return GroundTruthRef(p)
    d = DATASETS[text]
    path, classes = _locate(d)
    if must_exist and not d.shipped:
        if not path.is_file():
            raise _missing(d, path)
        if classes is not None and not classes.is_file():
            raise _missing(d, classes, "label map")
    return GroundTruthRef(path, d, d.subset, d.split, classes)


def dataset_counts(name: str) -> dict[str, int | None]:
    """What a shipped dataset holds, counted from its files: ``videos`` (of its subset /
    split), ``instances`` (THUMOS14 class instances, or tubes), ``ambiguous`` (THUMOS14
    Ambiguous segments), ``boxes`` and ``frames`` (sum of the split's video lengths); ``None``
    where the layout has no such thing.

    Raises:
        AttnvizError: ``name`` unknown or its file does not ship.
    """
    d = get_dataset(name)
    if not d.shipped:
        raise AttnvizError(f"{name}: does not ship with attnviz, nothing to count")
    ref = resolve_gt(name)
    if d.kind == "temporal":
        from attnviz.io.thumos import read_thumos_gt

        gt = read_thumos_gt(ref.path, subset=d.subset or "test", classes=ref.classes)
        return {
            "videos": len(gt.videos),
            "instances": len(gt),
            "ambiguous": sum(len(v) for v in gt.ambiguous.values()),
            "boxes": None,
            "frames": None,
        }
    from attnviz.io.spatial_gt import read_spatial_gt

    sgt = read_spatial_gt(ref.path)
    vids = sgt.split(d.split or "test")
    anns = [sgt.videos[v] for v in vids]
    return {
        "videos": len(vids),
        "instances": sum(len(a.tubes) for a in anns),
        "ambiguous": None,
        "boxes": sum(len(t.boxes) for a in anns for t in a.tubes),
        "frames": sum(a.nframes for a in anns),
    }


def list_datasets(*, counts: bool = True) -> list[dict]:
    """One record per name of :data:`DATASETS`: ``name``, ``content``, ``ships`` (bool),
    ``path`` (where it is read from), ``present`` (bool), ``classes`` (the class list / label
    map or ``None``), the counts of :func:`dataset_counts` (``None`` for what does not ship or
    when ``counts`` is false) and ``source``; ``official`` says what to put at ``path`` for a
    file that does not ship."""
    rows = []
    for d in DATASETS.values():
        path, classes = _locate(d)
        row: dict = {
            "name": d.name,
            "content": d.content,
            "ships": d.shipped,
            "path": str(path),
            "present": path.exists(),
            "classes": str(classes) if classes is not None else None,
        }
        empty = dict.fromkeys(("videos", "instances", "ambiguous", "boxes", "frames"))
        row.update(dataset_counts(d.name) if counts and d.shipped else empty)
        row["source"] = d.source
        row["official"] = d.official
        rows.append(row)
    return rows
