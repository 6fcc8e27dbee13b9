"""Helpers of the THUMOS14 evaluator tests: small ground truths and detections in memory or on
disk, and the command line run in process."""

from __future__ import annotations

import contextlib
import gzip
import io
from pathlib import Path

import numpy as np

from attnviz.types import TemporalDetections, TemporalGroundTruth

HERE = Path(__file__).resolve().parent


def real_thumos14(dest: Path) -> Path:
    """The real THUMOS14 files in the layout of ``shared/data/thumos14``, from what a clone has:
    ``annotations_test/`` and ``annotations_val/`` from the ground truth that ships in the
    package (decompressed: the original bytes), and ``Class Index_Detection.txt``,
    ``thumos14_test_groundtruth.csv`` and ``thumos_gt.json`` from ``data/`` (see its
    ``SOURCES.md``). Returns ``dest``."""
    from attnviz.io.datasets import resolve_gt

    for name in ("thumos14", "thumos14-val"):
        src = resolve_gt(name).path
        (dest / src.name).mkdir(parents=True)
        for f in src.iterdir():
            data = f.read_bytes()
            (dest / src.name / f.name.removesuffix(".gz")).write_bytes(
                gzip.decompress(data) if f.suffix == ".gz" else data
            )
    for f in ("Class Index_Detection.txt", "thumos14_test_groundtruth.csv", "thumos_gt.json"):
        packed = HERE / "data" / f
        gz = packed.with_name(f + ".gz")
        (dest / f).write_bytes(
            gzip.decompress(gz.read_bytes()) if gz.exists() else packed.read_bytes()
        )
    return dest


def make_gt(
    rows: list[tuple[str, str, float, float]],
    classes: tuple[str, ...] = ("A", "B"),
    ambiguous: dict[str, list[tuple[float, float]]] | None = None,
) -> TemporalGroundTruth:
    """Ground truth from ``(class, video, start, end)`` rows (annotation order = row order)."""
    index = {c: k for k, c in enumerate(classes)}
    rows = sorted(rows, key=lambda r: index[r[0]])  # stable: file order within a class
    amb = {v: np.asarray(s, dtype=np.float64) for v, s in (ambiguous or {}).items()}
    return TemporalGroundTruth(
        class_names=tuple(classes),
        class_ids=tuple(range(1, len(classes) + 1)),
        video=np.asarray([r[1] for r in rows], dtype=object),
        start=np.asarray([r[2] for r in rows], dtype=np.float64),
        end=np.asarray([r[3] for r in rows], dtype=np.float64),
        label=np.asarray([index[r[0]] for r in rows], dtype=np.int64),
        ambiguous=amb,
        videos=tuple(sorted({r[1] for r in rows} | set(amb))),
    )


def make_dets(
    rows: list[tuple[str, float, float, str, float]], classes: tuple[str, ...] = ("A", "B")
) -> TemporalDetections:
    """Detections from ``(video, start, end, class, score)`` rows, in file order."""
    index = {c: k for k, c in enumerate(classes)}
    return TemporalDetections.from_arrays(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [index[r[3]] for r in rows],
        [r[4] for r in rows],
    )


def write_gt_folder(
    folder: Path,
    rows: list[tuple[str, str, float, float]],
    classes: tuple[str, ...] = ("A", "B"),
    ambiguous: list[tuple[str, float, float]] | None = None,
    subset: str = "test",
) -> Path:
    """Official per-class files ``<Class>_<subset>.txt`` (+ ``Ambiguous``) and ``classes.txt``
    (``id name``, ids 1..K); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for c in classes:
        lines = [f"{v}  {s} {e}\n" for k, v, s, e in rows if k == c]
        (folder / f"{c}_{subset}.txt").write_text("".join(lines))
    if ambiguous is not None:
        (folder / f"Ambiguous_{subset}.txt").write_text(
            "".join(f"{v}  {s} {e}\n" for v, s, e in ambiguous)
        )
    (folder / "classes.txt").write_text("".join(f"{k} {c}\n" for k, c in enumerate(classes, 1)))
    return folder


def run_cli(*args: str) -> tuple[int, str, str]:
    """``attnviz <args>`` in this process: ``(exit code, stdout, stderr)``."""
    from attnviz.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()
