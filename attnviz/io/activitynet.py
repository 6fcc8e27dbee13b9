"""ActivityNet-1.3 files: the ground-truth JSON (``activity_net.v1-3.min.json``) and the
results JSON of the detection challenge.

* ground truth: ``{"database": {video_id: {"subset": "validation", "annotations":
  [{"segment": [t0, t1], "label": name}, ...]}}, ...}``. The classes are the labels of the
  chosen subset's annotations, numbered in order of first appearance (as ``eval_detection.py``
  numbers them); the subset's name is matched exactly (``validation``, ``training``,
  ``testing``).
* results: ``{"results": {video_id: [{"segment": [t0, t1], "label": name, "score": x}, ...]}}``.
  A label that the subset's ground truth does not have is an error naming the label and the
  video (the official code stops with a ``KeyError``).

The official reader also drops the videos a web service lists as blocked; that service is gone
and attnviz reads no network: every video of the file counts. Every file may be
gzip-compressed; errors name the file, the video and the field.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from attnviz.errors import InputError
from attnviz.io.textfiles import read_text
from attnviz.io.thumos import _json_segment, read_detections
from attnviz.types import TemporalDetections, TemporalGroundTruth

__all__ = ["read_activitynet_gt", "read_activitynet_results", "write_activitynet_results"]


def _load(path: str | os.PathLike[str]) -> object:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None


def read_activitynet_gt(
    path: str | os.PathLike[str], subset: str = "validation"
) -> TemporalGroundTruth:
    """The instances of one subset of an ActivityNet ground-truth JSON.

    Returns:
        TemporalGroundTruth: classes in order of first appearance in the subset (ids
        ``0..K-1``), instances in file order, ``videos`` every video of the subset.
    """
    data = _load(path)
    db = data.get("database") if isinstance(data, dict) else None
    if not isinstance(db, dict):
        raise InputError(f'{path}: expected an object with a "database" mapping')
    index: dict[str, int] = {}
    vids, starts, ends, labels = [], [], [], []
    videos: list[str] = []
    subsets: set[str] = set()
    for video, entry in db.items():
        if not isinstance(entry, dict):
            raise InputError(f'{path}, video "{video}": expected an object')
        subsets.add(str(entry.get("subset")))
        if entry.get("subset") != subset:
            continue
        videos.append(str(video))
        anns = entry.get("annotations", [])
        if not isinstance(anns, list):
            raise InputError(f'{path}, video "{video}", field "annotations": expected a list')
        for j, ann in enumerate(anns):
            where = f'{path}, video "{video}", annotation {j}'
            if not isinstance(ann, dict):
                raise InputError(f"{where}: expected an object")
            s, e = _json_segment(ann, where)
            if "label" not in ann:
                raise InputError(f'{where}, field "label": missing')
            label = ann["label"]
            if not isinstance(label, str):
                raise InputError(f'{where}, field "label": expected a class name, got {label!r}')
            k = index.setdefault(label, len(index))
            vids.append(str(video))
            starts.append(s)
            ends.append(e)
            labels.append(k)
    if not videos:
        raise InputError(
            f"{path}: no video of subset {subset!r} (subsets in the file: "
            f"{', '.join(sorted(subsets)) or 'none'})"
        )
    if not index:
        raise InputError(f"{path}: the {subset!r} subset has no annotation")
    names = tuple(index)
    return TemporalGroundTruth(
        class_names=names,
        class_ids=tuple(range(len(names))),
        video=np.asarray(vids, dtype=object),
        start=np.asarray(starts, dtype=np.float64),
        end=np.asarray(ends, dtype=np.float64),
        label=np.asarray(labels, dtype=np.int64),
        ambiguous={},
        videos=tuple(videos),
        subset=subset,
        source=str(path),
    )


def read_activitynet_results(
    path: str | os.PathLike[str], class_names: tuple[str, ...] | list[str]
) -> TemporalDetections:
    """Detections of a results JSON, labels by class name (``class_names`` of the ground
    truth). Returns them in file order (``line``: the entry number)."""
    return read_detections(path, class_ids=(), class_names=tuple(class_names), fmt="json")


def write_activitynet_results(
    path: str | os.PathLike[str], dets: TemporalDetections, class_names: tuple[str, ...]
) -> None:
    """Write ``dets`` as a results JSON (videos in order of first appearance; atomically)."""
    from attnviz.io.atomic import atomic_write_text

    results: dict[str, list[dict]] = {}
    for v, s, e, k, sc in zip(
        dets.video.tolist(),
        dets.start.tolist(),
        dets.end.tolist(),
        dets.label.tolist(),
        dets.score.tolist(),
        strict=True,
    ):
        results.setdefault(str(v), []).append(
            {"label": class_names[int(k)], "score": sc, "segment": [s, e]}
        )
    data = {"version": "VERSION 1.3", "results": results, "external_data": {}}
    atomic_write_text(Path(path), json.dumps(data) + "\n")
