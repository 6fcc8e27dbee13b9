"""MultiSports frame-AP and video-AP, equal to the official ``evaluate_multisports.py``.

The official script (MCG-NJU/MultiSports) is ACT's evaluation changed to Pascal VOC's area. Its
rules, each kept here:

==========================  =====================================================================
rule                        what the official script does
==========================  =====================================================================
videos                      ``test_videos[0]`` of the ground truth; frame detections name a
                            video by its 0-based position in that list (the CSV variant by name)
labels left out             ``aerobic kick jump``, ``aerobic off axis jump``, ``aerobic butterfly
                            jump``, ``aerobic balance turn``, ``basketball save``, ``basketball
                            jump ball`` (:data:`EXCLUDED_LABELS`): not scored, not in the mean
labels without ground       skipped (no AP, not in the mean); a label's ground truth counts only
truth                       in the test videos
frame matching              per label, detections by descending score; each takes the ground-truth
                            box of its video and frame with the highest IoU (the first among
                            equals), *taken or not*: a true positive if that IoU >= the threshold
                            and the box is still free, else a false positive
video matching              the same with tubes of the detection's video and the spatio-temporal
                            IoU; detections on videos outside the test list are false positives
box IoU                     ``x2 - x1`` widths, no +1 (:func:`~attnviz.ops.boxes.iou_voc_nan`;
                            two zero-area boxes give ``0 / 0 = NaN``, which ``argmax`` picks and no
                            threshold passes)
tube IoU                    mean per-frame IoU over the temporal intersection times
                            ``(t_max - t_min) / (max end - min start)``, no +1 either
                            (:func:`~attnviz.ops.tubes.tube_iou_pairs`, ``multisports``)
AP                          VOC every-point area (:func:`~attnviz.ops.ap.ap_all_points`); mAP: the
                            mean over the scored labels
thresholds                  frame 0.5, video 0.2 and 0.5 (:data:`DEFAULT_IOU`); a range
                            ``start:stop:step`` is ``start + step * i`` in binary floating point,
                            as ``videoAP_all`` builds ``0.05:0.45:0.05``, ``0.1:0.9:0.1`` and
                            ``0.5:0.95:0.05`` (so 0.3 there is ``0.30000000000000004``, and
                            neither ``np.arange`` nor ``np.linspace`` gives the same doubles)
==========================  =====================================================================

Equal scores: the official script ranks with numpy's default (unstable) ``argsort`` of
``-score``; its order among equal scores depends on numpy's quicksort (for up to 16 detections of
a label it is the file order, beyond that it is not). attnviz ranks with a stable sort: equal
scores keep file order (row order of the frame-detection file; list order of a label's tubes).

Number types: box and tube IoUs are computed in the types of the arrays they come from, as
numpy computes the official expressions (a float32 detection box's area is a float32; the IoU of
two float32 tubes is a float32): keep float32 boxes and tubes float32 in the records passed here
(the readers of :mod:`attnviz.io.multisports` and :func:`attnviz.pipeline.multisports` do).

AP values are fractions in [0, 1] (the official script prints percentages). Matching is
:func:`match` (every label and every threshold in one vectorised pass), AP is
:func:`accumulate`; :func:`evaluate` does both. Nothing is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np

from attnviz.errors import InputError
from attnviz.ops.ap import ap_all_points, precision_recall
from attnviz.ops.boxes import iou_voc_nan
from attnviz.ops.tubes import _Packed, tube_iou_pairs
from attnviz.types import EvalResult, FrameDetections, SpatialGroundTruth, Tube

__all__ = [
    "DEFAULT_IOU",
    "EXCLUDED_LABELS",
    "NAMED_RANGES",
    "Matches",
    "MultiSportsParams",
    "accumulate",
    "evaluate",
    "match",
    "parse_iou",
]

EXCLUDED_LABELS = (
    "aerobic kick jump",
    "aerobic off axis jump",
    "aerobic butterfly jump",
    "aerobic balance turn",
    "basketball save",
    "basketball jump ball",
)
DEFAULT_IOU = {"frame": (0.5,), "video": (0.2, 0.5)}
#: The three ranges ``videoAP_all`` averages, as written on the command line.
NAMED_RANGES = ("0.05:0.45:0.05", "0.1:0.9:0.1", "0.5:0.95:0.05")
METRICS = ("frame", "video")


def _range(part: str, spec: str) -> list[float]:
    pieces = part.split(":")
    if len(pieces) != 3:
        raise InputError(f"threshold range {part!r}: expected start:stop:step, e.g. 0.1:0.9:0.1")
    try:
        start, stop, step = (Decimal(p.strip()) for p in pieces)
    except InvalidOperation:
        raise InputError(f"threshold list {spec!r}: {part!r} is not start:stop:step") from None
    if not (start.is_finite() and stop.is_finite() and step.is_finite()) or step <= 0:
        raise InputError(f"threshold range {part!r}: step must be a positive number")
    n = int((stop - start) / step) + 1 if stop >= start else 0
    a, d = float(pieces[0]), float(pieces[2])
    return [a + d * i for i in range(n)]  # videoAP_all's ``start + step * i``


def parse_iou(spec: str | float | Sequence[float]) -> tuple[float, ...]:
    """Thresholds as the official script builds them: ``"0.2,0.5"`` (each the nearest double, as
    ``argparse``'s ``type=float``), ``"0.05:0.45:0.05"`` (``start + step * i`` for the decimal
    count of steps, as ``videoAP_all``), or a sequence of numbers.

    Raises:
        InputError: an empty list, a value that is not a number, or one outside (0, 1].
    """
    if isinstance(spec, int | float):
        out = [float(spec)]
    elif isinstance(spec, str):
        text = spec.strip()
        out = []
        for part in text.split(",") if text else []:
            if ":" in part:
                out += _range(part.strip(), text)
                continue
            try:
                out.append(float(part))
            except ValueError:
                raise InputError(
                    f"threshold list {text!r}: {part.strip()!r} is not a number"
                ) from None
    else:
        out = [float(v) for v in spec]
    if not out:
        raise InputError(f"threshold list {spec!r} is empty")
    for v in out:
        if not 0.0 < v <= 1.0:
            raise InputError(f"threshold {v!r} is outside (0, 1]")
    return tuple(out)


@dataclass(frozen=True)
class MultiSportsParams:
    """Protocol constants of one evaluation (never mutated).

    Attributes:
        metric: ``frame`` or ``video``.
        iou (tuple[float, ...]): thresholds, in the order asked for (a string is parsed by
            :func:`parse_iou`).
        excluded (tuple[str, ...]): label names the official script does not score.
    """

    metric: str = "frame"
    iou: tuple[float, ...] = DEFAULT_IOU["frame"]
    excluded: tuple[str, ...] = EXCLUDED_LABELS

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric must be frame or video, got {self.metric!r}")
        iou = self.iou if isinstance(self.iou, str) else list(self.iou)
        object.__setattr__(self, "iou", parse_iou(iou))

    @staticmethod
    def for_metric(metric: str, iou: str | Sequence[float] | None = None) -> MultiSportsParams:
        """Parameters of ``metric`` with the official default thresholds unless ``iou``."""
        if metric not in METRICS:
            raise ValueError(f"metric must be frame or video, got {metric!r}")
        thr = DEFAULT_IOU[metric] if iou is None else parse_iou(iou)
        return MultiSportsParams(metric, tuple(thr))


@dataclass(frozen=True)
class Matches:
    """What :func:`match` found, in ranked order.

    Attributes:
        labels (tuple[int, ...]): the ``K`` scored labels (ground-truth indices).
        npos (ndarray[K] int): ground-truth boxes (frame) or tubes (video) of each label in the
            test videos.
        bounds (ndarray[K + 1] int): label ``k``'s detections are ``order[bounds[k]:bounds[k+1]]``.
        order (ndarray[D] int): indices into the detections, by label, then descending score,
            then file order.
        tp (ndarray[T, D] bool): true positive at each threshold (every other detection in
            ``order`` is a false positive).
        iou (ndarray[D] float): IoU with the ground truth each detection points at (``-inf``
            where its video / frame has none of its label; ``NaN`` as the reference's ``0 / 0``).
        notes (dict): ``excluded`` and ``no_ground_truth`` label names, and
            ``outside_test_videos``: detections on videos that are not in the test list.
    """

    labels: tuple[int, ...]
    npos: np.ndarray
    bounds: np.ndarray
    order: np.ndarray
    tp: np.ndarray
    iou: np.ndarray
    notes: dict = field(default_factory=dict)


def _scored(gt: SpatialGroundTruth, params: MultiSportsParams, gt_label: np.ndarray):
    """Scored labels, their ground-truth counts, and the excluded / empty label names."""
    counts = np.bincount(gt_label, minlength=len(gt.labels)) if len(gt_label) else None
    counts = counts if counts is not None else np.zeros(len(gt.labels), dtype=np.int64)
    excluded, empty, scored = [], [], []
    for k, name in enumerate(gt.labels):
        if name in params.excluded:
            excluded.append(name)
        elif counts[k] == 0:
            empty.append(name)
        else:
            scored.append(k)
    return tuple(scored), counts[list(scored)], {"excluded": excluded, "no_ground_truth": empty}


def _test_positions(gt: SpatialGroundTruth) -> dict[str, int]:
    videos = gt.test_videos
    pos = {v: i for i, v in enumerate(videos)}
    if len(pos) != len(videos):
        raise InputError(f"{gt.source}: test_videos lists a video twice")
    return pos


def _first_taker(slot: np.ndarray, val: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """``tp [T, D]`` for detections in ranked order that each point at one ground-truth
    ``slot`` (-1: none) with IoU ``val``: at threshold ``t`` a detection is a true positive iff
    ``val >= t`` and no earlier detection pointing at the same slot had ``val >= t`` (that one
    took it). All thresholds at once, no loop over detections."""
    t, d = len(thr), len(slot)
    tp = np.zeros((t, d), dtype=bool)
    idx = np.flatnonzero((slot >= 0) & ~np.isnan(val))
    if len(idx) == 0:
        return tp
    s, v = slot[idx], val[idx]
    o = np.lexsort((idx, s))  # by slot, then rank
    idx, s, v = idx[o], s[o], v[o]
    uniq, code = np.unique(v, return_inverse=True)
    big = np.int64(len(uniq) + 1)
    key = s.astype(np.int64) * big + code.reshape(-1) + 1
    run = np.maximum.accumulate(key)
    first = np.r_[True, s[1:] != s[:-1]]
    prev = np.where(first, -1, np.r_[-1, run[:-1]] - s * big - 1)
    prev_max = np.where(prev >= 0, uniq[np.maximum(prev, 0)], -np.inf)
    tp[:, idx] = (v[None, :] >= thr[:, None]) & (prev_max[None, :] < thr[:, None])
    return tp


def _rank(label: np.ndarray, score: np.ndarray, scored: Sequence[int]):
    """Detections of the scored labels by label (in ``scored`` order), descending score, file
    order; and the bounds of each label."""
    pos = np.full(int(max(label.max(initial=-1), max(scored, default=-1))) + 2, -1, np.int64)
    pos[list(scored)] = np.arange(len(scored))
    lk = pos[label] if len(label) else np.zeros(0, np.int64)
    keep = np.flatnonzero(lk >= 0)
    order = keep[np.lexsort((keep, -score[keep], lk[keep]))]
    bounds = np.searchsorted(lk[order], np.arange(len(scored) + 1))
    return order, bounds


def _argmax_groups(iou: np.ndarray) -> np.ndarray:
    """``np.argmax`` per row (the first maximum; the first NaN if any, as numpy picks it)."""
    return np.argmax(iou, axis=1) if iou.shape[1] else np.zeros(len(iou), dtype=np.int64)


def _group(gt_key: np.ndarray, det_key: np.ndarray):
    """Ground truth grouped by key (annotation order inside), padded ``slot [G, gmax]`` (-1),
    and each detection's group (-1 when no ground truth has its key)."""
    srt = np.argsort(gt_key, kind="stable")
    gk = gt_key[srt]
    ukeys, start, count = np.unique(gk, return_index=True, return_counts=True)
    gmax = int(count.max()) if len(count) else 1
    slot = np.full((len(ukeys), gmax), -1, dtype=np.int64)
    if len(ukeys):
        within = np.arange(len(gk)) - np.repeat(start, count)
        slot[np.repeat(np.arange(len(ukeys)), count), within] = srt
    p = np.searchsorted(ukeys, det_key)
    pc = np.minimum(p, max(len(ukeys) - 1, 0))
    hit = (p < len(ukeys)) & (ukeys[pc] == det_key) if len(ukeys) else np.zeros(len(det_key), bool)
    return slot, np.where(hit, pc, -1)


def _pointed(slot: np.ndarray, group: np.ndarray, pair_iou) -> tuple[np.ndarray, np.ndarray]:
    """For each detection: the ground truth it points at (argmax over its group) and the IoU."""
    d = len(group)
    target = np.full(d, -1, dtype=np.int64)
    val = np.full(d, -np.inf)
    has = np.flatnonzero(group >= 0)
    if len(has) == 0:
        return target, val
    gi = slot[group[has]]  # [H, gmax]
    r, c = np.nonzero(gi >= 0)
    iou = np.full(gi.shape, -np.inf)
    iou[r, c] = pair_iou(gi[r, c], has[r])
    am = _argmax_groups(iou)
    target[has] = gi[np.arange(len(has)), am]
    val[has] = iou[np.arange(len(has)), am]
    return target, val


def _frame_match(gt: SpatialGroundTruth, dets: FrameDetections, params: MultiSportsParams):
    pos = _test_positions(gt)
    boxes, keys, labels = [], [], []
    fmax = int(dets.frame.max(initial=0))
    for v in gt.test_videos:
        for t in gt.videos[v].tubes:
            fmax = max(fmax, int(np.asarray(t.boxes)[:, 0].max(initial=0)))
    stride = np.int64(fmax + 1)
    nv = np.int64(len(gt.test_videos) + 1)
    for v in gt.test_videos:
        for t in gt.videos[v].tubes:
            b = np.asarray(t.boxes, dtype=np.float64).reshape(-1, 5)
            labels.append(np.full(len(b), t.label, dtype=np.int64))
            keys.append((t.label * nv + pos[v]) * stride + b[:, 0].astype(np.int64))
            boxes.append(b[:, 1:5])
    gt_label = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    gt_key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    gt_box = np.concatenate(boxes) if boxes else np.zeros((0, 4))
    scored, npos, notes = _scored(gt, params, gt_label)
    order, bounds = _rank(dets.label, dets.score, scored)
    dpos = np.fromiter((pos.get(str(v), -1) for v in dets.video), np.int64, len(dets))
    notes["outside_test_videos"] = int((dpos[order] < 0).sum())
    lab = dets.label[order]
    det_key = np.where(dpos[order] >= 0, (lab * nv + dpos[order]) * stride + dets.frame[order], -1)
    slot, group = _group(gt_key, det_key)
    det_box = dets.boxes[order]

    def pair_iou(g: np.ndarray, d: np.ndarray) -> np.ndarray:
        return iou_voc_nan(gt_box[g], det_box[d])

    target, val = _pointed(slot, group, pair_iou)
    return scored, npos, bounds, order, target, val, notes


def _video_match(gt: SpatialGroundTruth, tubes: Sequence[Tube], params: MultiSportsParams):
    pos = _test_positions(gt)
    nv = np.int64(len(gt.test_videos) + 1)
    g_tubes, g_key, g_label = [], [], []
    for v in gt.test_videos:
        for t in gt.videos[v].tubes:
            g_tubes.append(np.asarray(t.boxes).reshape(-1, 5))  # float32 stays float32
            g_key.append(t.label * nv + pos[v])
            g_label.append(t.label)
    gt_label = np.asarray(g_label, dtype=np.int64)
    scored, npos, notes = _scored(gt, params, gt_label)
    label = np.fromiter((int(t.label) for t in tubes), np.int64, len(tubes))
    score = np.fromiter((float(t.score) for t in tubes), np.float64, len(tubes))
    order, bounds = _rank(label, score, scored)
    dpos = np.fromiter((pos.get(tubes[i].video, -1) for i in order), np.int64, len(order))
    notes["outside_test_videos"] = int((dpos < 0).sum())
    det_key = np.where(dpos >= 0, label[order] * nv + dpos, -1)
    slot, group = _group(np.asarray(g_key, dtype=np.int64), det_key)
    gpack = _Packed(g_tubes)
    dpack = _Packed([np.asarray(tubes[i].boxes)[:, :5] for i in order])

    def pair_iou(g: np.ndarray, d: np.ndarray) -> np.ndarray:
        return tube_iou_pairs(gpack, dpack, g, d, "multisports")

    target, val = _pointed(slot, group, pair_iou)
    return scored, npos, bounds, order, target, val, notes


def match(
    gt: SpatialGroundTruth,
    dets: FrameDetections | Sequence[Tube],
    params: MultiSportsParams,
) -> Matches:
    """Rank and match the detections of every scored label at every threshold.

    Args:
        gt: the ground truth (its ``test_videos`` in the file's order).
        dets: frame detections (``metric="frame"``; ``video`` names, 1-based ``frame``, boxes
            ``x1, y1, x2, y2``) or tubes (``metric="video"``; ``boxes [n, 5]`` consecutive
            frames).
        params: metric and thresholds.

    Returns:
        :class:`Matches`.
    """
    thr = np.asarray(params.iou, dtype=np.float64)
    if params.metric == "frame":
        scored, npos, bounds, order, target, val, notes = _frame_match(gt, dets, params)
    else:
        tubes = list(dets)
        scored, npos, bounds, order, target, val, notes = _video_match(gt, tubes, params)
    tp = _first_taker(target, val, thr)
    return Matches(scored, npos, bounds, order, tp, val, notes)


def accumulate(tp: np.ndarray, npos: int) -> np.ndarray:
    """VOC every-point AP of one label at each threshold, as ``pr_to_ap_voc``.

    Args:
        tp (ndarray[T, D] bool): true positives in ranked order (the rest false positives).
        npos (int): ground-truth instances of the label (> 0).

    Returns:
        ndarray[T] float64 in [0, 1].
    """
    tp = np.asarray(tp, dtype=bool)
    prec, rec = precision_recall(tp.T, ~tp.T, npos)
    return np.array([ap_all_points(rec[:, i], prec[:, i]) for i in range(tp.shape[0])])


def evaluate(
    gt: SpatialGroundTruth,
    dets: FrameDetections | Sequence[Tube],
    params: MultiSportsParams,
) -> EvalResult:
    """Frame-AP or video-AP of every scored label and their mean, as the official script.

    Returns:
        :class:`~attnviz.types.EvalResult` (protocol ``multisports``): ``class_names`` only the
        scored labels, ``ap [K, T]``, ``mAP [T]``; ``extra`` names the labels left out
        (``excluded``, ``no_ground_truth``) and counts ``npos`` / ``detections`` per label.

    Raises:
        InputError: no label has ground truth in the test videos (the official mean is NaN).
    """
    m = match(gt, dets, params)
    if not m.labels:
        raise InputError(
            f"{gt.source}: no scored label has ground truth in the test videos (the official "
            "script's mean would be NaN)"
        )
    ap = np.zeros((len(m.labels), len(params.iou)))
    for k in range(len(m.labels)):
        lo, hi = int(m.bounds[k]), int(m.bounds[k + 1])
        ap[k] = accumulate(m.tp[:, lo:hi], int(m.npos[k]))
    names = tuple(gt.labels[k] for k in m.labels)
    warnings = []
    if m.notes.get("outside_test_videos"):
        warnings.append(
            f"{m.notes['outside_test_videos']} detections are on videos outside the test list: "
            "false positives, as in the official script"
        )
    return EvalResult(
        metric=params.metric,
        protocol="multisports",
        thresholds=tuple(params.iou),
        class_names=names,
        ap=ap,
        mAP=ap.mean(axis=0),
        params={"protocol": "multisports", "excluded_labels": list(params.excluded)},
        warnings=tuple(warnings),
        extra={
            "excluded": list(m.notes["excluded"]),
            "no_ground_truth": list(m.notes["no_ground_truth"]),
            "npos": {n: int(c) for n, c in zip(names, m.npos, strict=True)},
            "detections": {n: int(m.bounds[k + 1] - m.bounds[k]) for k, n in enumerate(names)},
        },
    )
