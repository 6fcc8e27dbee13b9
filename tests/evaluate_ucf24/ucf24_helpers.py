"""Helpers for the UCF101-24 evaluator tests (a uniquely named module, imported by the tests)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from attnviz.types import FrameDetections, GTTube, SpatialGroundTruth, Tube, VideoAnnotation

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
UCF = DATA / "ucf101_24"
JHMDB = DATA / "jhmdb21"
HERE = Path(__file__).resolve().parent / "data"


def need(path: Path) -> Path:
    """``path``, or skip the test when the shared data is not there (only for the layouts that
    do not ship in the package: the tests read the packaged ground truth otherwise)."""
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    return path


def subset(gt: SpatialGroundTruth, videos) -> SpatialGroundTruth:
    """The same ground truth with ``videos`` as its test split (in the given order)."""
    return dataclasses.replace(gt, test_videos=tuple(videos))


def make_gt(videos: dict, labels=("a", "b", "c"), nframes: int = 10) -> SpatialGroundTruth:
    """A small ground truth: ``{video: [(label, first frame, [[x1, y1, x2, y2], ...]), ...]}``
    (one box per frame from ``first frame`` on); every video is in the test split."""
    out = {}
    for v, tubes in videos.items():
        ts = []
        for lab, f0, boxes in tubes:
            b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
            fr = np.arange(f0, f0 + len(b), dtype=np.float64)[:, None]
            ts.append(GTTube(lab, np.hstack([fr, b])))
        out[v] = VideoAnnotation(ts[0].label if ts else -1, nframes, tuple(ts), (240, 320))
    return SpatialGroundTruth(tuple(labels), out, (), tuple(videos), "hand-made")


def dets(rows) -> FrameDetections:
    """Frame detections from rows ``(video, frame, label, score, x1, y1, x2, y2)``."""
    rows = list(rows)
    return FrameDetections.from_arrays(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        np.array([r[4:8] for r in rows], dtype=np.float64).reshape(-1, 4),
    )


def tube(video: str, label: int, score: float, f0: int, boxes) -> Tube:
    """A detected tube from ``f0`` on, one box per frame (or one box repeated ``boxes[1]``
    times when ``boxes`` is ``(box, n)``)."""
    if isinstance(boxes, tuple):
        box, n = boxes
        boxes = [box] * n
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    fr = np.arange(f0, f0 + len(b), dtype=np.float64)[:, None]
    return Tube(video, label, score, np.hstack([fr, b]))
