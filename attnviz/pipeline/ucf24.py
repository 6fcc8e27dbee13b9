"""``attnviz eval-ucf24`` and ``attnviz convert-gt``: read, score, compare, convert."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from attnviz.errors import AttnvizError
from attnviz.evaluate.ucf24 import (
    DEFAULT_IOU,
    FRAME_PROTOCOLS,
    VIDEO_PROTOCOLS,
    frame_map,
    video_map,
)
from attnviz.io.detections import read_coco_results, read_frame_detections, read_tubes
from attnviz.io.spatial_gt import read_spatial_gt, write_spatial_gt
from attnviz.types import EvalResult

__all__ = ["PROTOCOL_NOTES", "convert_gt", "eval_ucf24"]

PROTOCOL_NOTES = {
    ("frame", "act"): "IoU with +1 pixels, best still-unmatched GT, IoU >= t, trapezoidal AP "
    "from (0, 1) on float32 precision/recall",
    ("frame", "voc"): "no +1, best GT of the frame even if taken (then a false positive), "
    "every-point interpolated AP, classes without GT left out",
    ("frame", "coco"): "no +1, top 100 per frame, best unmatched GT with IoU >= t (later GT on "
    "equal IoU), 101-point interpolated AP",
    ("video", "act"): "3D NMS at 0.3 first, +1 pixels, tubes sharing one frame overlap, "
    "trapezoidal AP",
    ("video", "voc"): "no NMS, tubes must share two frames, recall tp/(npos + 1e-5), "
    "every-point AP",
    ("video", "ucf24-matlab"): "per-video greedy with IoU > t (strict), detection [x y w h] + 1, "
    "positives only from videos in the file, float32 scores, every-point AP",
}


def eval_ucf24(
    gt: str | os.PathLike[str],
    pred: str | os.PathLike[str],
    *,
    metric: str = "frame",
    protocol: str = "act",
    iou: str | Sequence[float] = DEFAULT_IOU,
    split: str = "test",
    coco_gt: str | os.PathLike[str] | None = None,
    tube_nms: float | None = 0.3,
) -> EvalResult:
    """Score per-frame detections (``metric="frame"``; CSV or COCO results with ``coco_gt``)
    or tubes (``metric="video"``; tubes JSON) against spatial ground truth."""
    truth = read_spatial_gt(gt)
    if metric == "frame":
        if protocol not in FRAME_PROTOCOLS:
            raise AttnvizError(
                f"frame protocols are {', '.join(FRAME_PROTOCOLS)}, got {protocol!r}"
            )
        p = Path(pred)
        if p.suffix.lower() == ".json" or p.name.lower().endswith(".json.gz"):
            if coco_gt is None:
                raise AttnvizError(
                    f"{p}: COCO results need the COCO ground truth they refer to (--coco-gt, "
                    "written by attnviz convert-gt --to coco)"
                )
            dets = read_coco_results(p, coco_gt, truth)
        else:
            dets = read_frame_detections(p, truth)
        return frame_map(truth, dets, protocol=protocol, iou=iou, split=split)
    if metric == "video":
        if protocol not in VIDEO_PROTOCOLS:
            raise AttnvizError(
                f"video protocols are {', '.join(VIDEO_PROTOCOLS)}, got {protocol!r}"
            )
        tubes = read_tubes(pred, truth)
        return video_map(truth, tubes, protocol=protocol, iou=iou, split=split, tube_nms=tube_nms)
    raise AttnvizError(f"--metric must be frame or video, got {metric!r}")


def convert_gt(
    gt: str | os.PathLike[str], out: str | os.PathLike[str], *, to: str, split: str = "test"
) -> Path:
    """Read ground truth in any supported layout and write it as ``to``."""
    write_spatial_gt(read_spatial_gt(gt), out, to, split=split)
    return Path(out)
