"""AVA keyframe detection mAP, as ActivityNet's ``Evaluation/get_ava_performance.py`` computes it.

The rules (those of the official script and its ``ava/`` package, Pascal VOC metrics):

* Keyframes are keyed by video id and timestamp read as a decimal (``"%s,%.6f"``).
* Ground truth: rows whose action id is not in the label map are skipped, but every keyframe
  named in the file (also by a ``video,timestamp`` row, or by rows of other actions) is part of
  the evaluation. A keyframe in the optional exclusions file (older releases) is removed from
  the ground truth together with its detections.
* Detections: rows whose action id is not in the label map are skipped; of the rest, at most the
  50 highest-scoring per keyframe are kept, chosen as the official script's bounded heap of
  ``(score, action_id, y1, x1, y2, x2)`` tuples chooses them: a row enters when the keyframe
  holds fewer than 50 or when its score is strictly above the lowest kept score, and then
  evicts the smallest tuple (so among equal lowest scores the smallest action id, then the
  smallest coordinates, go first). Detections on keyframes absent from the ground truth are
  ignored; a detection on a ground-truth keyframe with no box of its class is a false positive.
  Boxes with ``y1 >= y2`` or ``x1 >= x2`` are dropped after that selection (neither true nor
  false positive).
* Matching, per keyframe and class, detections in the order the official reader lists them
  (descending score; equal scores in the order of its heap): a detection goes to the
  ground-truth box of highest IoU (the first among equal IoUs, in the reader's order); it is a
  true positive when that IoU is at least 0.5 and the box is still free, else a false positive
  (it does not fall back on another box).
* AP: the detections of a class, from every keyframe, ranked by descending score, every-point
  interpolated AP (VOC 2010+). The official code ranks with ``np.argsort(scores)[::-1]``,
  numpy's default (unstable) sort reversed, over the keyframes in order of their first
  detection in the file; attnviz runs the same expression with a stable sort: among equal
  scores, the later keyframe first, and within a keyframe the later detection first. numpy 1.23
  gives this very order on lists of up to 16 detections (it sorts those by insertion); on
  longer lists its order among equal scores is arbitrary.
* A class without ground truth has no AP (``nan``, ``null`` in JSON) and is left out of the
  mean; the mean is ``np.nanmean`` over the classes, as the official code takes it.

Shape of the code: :func:`select_detections` applies the reader's rules (label map, top 50,
keyframe order), :func:`match_keyframes` marks every kept detection true or false positive in
one vectorised pass, :func:`evaluate_ava` accumulates AP per class. Nothing is printed.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from attnviz.errors import InputError
from attnviz.ops.ap import ap_all_points
from attnviz.ops.join import equal_key_pairs
from attnviz.types import EvalResult, KeyframeBoxes

__all__ = [
    "AVAParams",
    "KeyframeMatch",
    "evaluate_ava",
    "match_keyframes",
    "select_detections",
]


@dataclass(frozen=True)
class AVAParams:
    """Constants of the AVA protocol (never mutated by the evaluation).

    Attributes:
        iou (float): a true positive needs IoU ``>=`` this (0.5).
        max_per_keyframe (int): detections kept per keyframe (50; 0 keeps all).
    """

    iou: float = 0.5
    max_per_keyframe: int = 50

    def __post_init__(self) -> None:
        if not 0.0 <= self.iou <= 1.0:
            raise ValueError(f"iou must be in [0, 1], got {self.iou}")
        if self.max_per_keyframe < 0:
            raise ValueError(f"max_per_keyframe must be >= 0, got {self.max_per_keyframe}")


@dataclass(frozen=True)
class KeyframeMatch:
    """Detections that take part in the evaluation, and their status.

    Attributes:
        det_index (ndarray[D] int64): rows of the detection file.
        label (ndarray[D] int64): action id.
        score (ndarray[D] float64): score.
        keyframe_order (ndarray[D] int64): rank of the keyframe in the official reader's order
            (first detection in the file).
        position (ndarray[D] int64): position within the keyframe in the reader's order.
        tp (ndarray[D] bool): true positive.
        npos (dict[int, int]): ground-truth boxes per action id of the label map.
        counts (dict[str, int]): ``skipped_label`` (ids outside the label map),
            ``over_limit`` (beyond the 50 per keyframe), ``unknown_keyframe`` (keyframes
            absent from the ground truth or excluded), ``invalid_box``.
    """

    det_index: np.ndarray
    label: np.ndarray
    score: np.ndarray
    keyframe_order: np.ndarray
    position: np.ndarray
    tp: np.ndarray
    npos: dict
    counts: dict


# --------------------------------------------------------------------------- reader's order
def _dense(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Ascending dense rank of each value and the number of distinct values."""
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), max(len(uniq), 1)


def _order(*columns: tuple[np.ndarray, int]) -> np.ndarray:
    """Indices sorting by ``columns`` (most significant first), each a non-negative integer
    array with its bound: one int64 key and one sort where it fits, else ``np.lexsort``. The
    callers' keys are distinct wherever their order matters, so the sort need not be stable."""
    total = 1
    for _, size in columns:
        total *= int(size)
    if total < 2**62:
        key = np.zeros(len(columns[0][0]), dtype=np.int64)
        for col, size in columns:
            key = key * np.int64(size) + col
        return np.argsort(key)
    return np.lexsort(tuple(col for col, _ in reversed(columns)))


def _heap_order(rows: list[tuple], capacity: int) -> list[int]:
    """Indices of ``rows`` (``(score, action, y1, x1, y2, x2)`` tuples in file order) that the
    official reader keeps, in the order it lists them: a heap bounded to ``capacity``
    (0: unbounded), then sorted by descending score (stable over the heap's array)."""
    heap: list[tuple] = []
    for t in rows:
        if capacity < 1 or len(heap) < capacity:
            heapq.heappush(heap, t)
        elif t[0] > heap[0][0]:
            heapq.heapreplace(heap, t)
    listed = sorted(heap, key=lambda t: -t[0])
    where: dict[tuple, list[int]] = defaultdict(list)
    for i, t in enumerate(rows):
        where[t].append(i)
    # equal tuples are interchangeable: hand them out in file order
    return [where[t].pop(0) for t in listed]


def _tuples(boxes: KeyframeBoxes, idx: np.ndarray) -> list[tuple]:
    b = boxes.box[idx]
    return list(
        zip(
            boxes.score[idx].tolist(),
            boxes.label[idx].tolist(),
            b[:, 1].tolist(),
            b[:, 0].tolist(),
            b[:, 3].tolist(),
            b[:, 2].tolist(),
            strict=True,
        )
    )


def _reader_order(
    boxes: KeyframeBoxes, rows: np.ndarray, key: np.ndarray, capacity: int
) -> tuple[np.ndarray, np.ndarray]:
    """The official reader on ``rows`` (indices, file order) of keyframe codes ``key``: which
    are kept (at most ``capacity`` per keyframe) and their position within the keyframe.

    Keyframes where equal scores can change the outcome (equal scores within a class, or at
    the cut of a full keyframe) are run through the reader's heap; the others are sorted.

    Returns:
        ``(kept [M] int64 indices into rows, position [M] int64)``.
    """
    n = len(rows)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    score = boxes.score[rows]
    label = boxes.label[rows]
    counts = np.bincount(key)
    # rows by keyframe, descending score (then class): the order of the sorted keyframes, and
    # neighbours show equal scores
    s_rank, n_s = _dense(-score)
    o = _order((key, len(counts)), (s_rank, n_s), (label, int(label.max()) + 1))
    ko, so, lo = key[o], score[o], label[o]
    same = (ko[1:] == ko[:-1]) & (so[1:] == so[:-1])
    # keyframes needing the heap: a (keyframe, class, score) seen twice, or a (keyframe, score)
    # seen twice in a keyframe that overflows
    dup_cls = same & (lo[1:] == lo[:-1])
    sim_key = np.zeros(len(counts), dtype=bool)
    sim_key[ko[1:][dup_cls]] = True
    if capacity >= 1:
        sim_key[ko[1:][same & (counts[ko[1:]] > capacity)]] = True
    if sim_key.any():
        o = o[~sim_key[ko]]
        ko = key[o]
    sim = sim_key[key]
    start = np.ones(len(o), dtype=bool)
    start[1:] = ko[1:] != ko[:-1]
    first = np.flatnonzero(start)
    rank = np.arange(len(o)) - np.repeat(first, np.diff(np.append(first, len(o))))
    keep = rank < capacity if capacity >= 1 else np.ones(len(o), dtype=bool)
    kept_parts = [o[keep]]
    pos_parts = [rank[keep]]
    # heap keyframes
    slow = np.flatnonzero(sim)
    if len(slow):
        so = slow[np.argsort(key[slow], kind="stable")]
        sk = key[so]
        bounds = np.flatnonzero(np.diff(sk)) + 1
        for grp in np.split(so, bounds):
            order = _heap_order(_tuples(boxes, rows[grp]), capacity)
            kept_parts.append(grp[order])
            pos_parts.append(np.arange(len(order), dtype=np.int64))
    return np.concatenate(kept_parts).astype(np.int64), np.concatenate(pos_parts).astype(np.int64)


# --------------------------------------------------------------------------- selection
def _keyframe_codes(gt: KeyframeBoxes, dets: KeyframeBoxes) -> tuple[np.ndarray, list[str]]:
    """Keyframe code of every row of ``gt`` then ``dets`` (equal official keys, equal codes),
    and the key of each code (``"video,%.6f"``). Keys are built only once per keyframe."""
    v_codes, v_uniq = pd.factorize(
        pd.Series(np.concatenate([gt.video, dets.video]), dtype=object), sort=False
    )
    t_codes, t_uniq = pd.factorize(np.concatenate([gt.timestamp, dets.timestamp]), sort=False)
    text = pd.Series(["%.6f" % t for t in np.asarray(t_uniq).tolist()], dtype=object)  # noqa: UP031
    tt_codes, tt_uniq = pd.factorize(text, sort=False)  # floats with one key text: one code
    n_t = max(len(tt_uniq), 1)
    pair = v_codes.astype(np.int64) * n_t + tt_codes[t_codes]
    codes, pairs = pd.factorize(pair, sort=False)
    v_names = np.asarray(v_uniq, dtype=object)
    t_names = np.asarray(tt_uniq, dtype=object)
    keys = [
        f"{v},{t}"
        for v, t in zip(v_names[pairs // n_t].tolist(), t_names[pairs % n_t].tolist(), strict=True)
    ]
    return codes.astype(np.int64), keys


@dataclass(frozen=True)
class _Selection:
    det: np.ndarray  # [D] rows of the detection file taking part
    det_key: np.ndarray  # [D] keyframe codes
    keyframe_order: np.ndarray  # [D]
    position: np.ndarray  # [D]
    gt: np.ndarray  # [G] rows of the ground-truth file taking part
    gt_key: np.ndarray  # [G]
    counts: dict


def select_detections(
    gt: KeyframeBoxes,
    dets: KeyframeBoxes,
    class_ids: Sequence[int],
    *,
    exclusions: frozenset[str] | set[str] | None = None,
    params: AVAParams | None = None,
) -> _Selection:
    """Apply the official reader's rules to both files (see the module docstring)."""
    params = params or AVAParams()
    ids = np.asarray(sorted(set(int(i) for i in class_ids)), dtype=np.int64)
    codes, uniq = _keyframe_codes(gt, dets)
    g_code, d_code = codes[: len(gt)], codes[len(gt) :]
    excluded = np.zeros(len(uniq), dtype=bool)
    if exclusions:
        excluded = np.asarray([k in exclusions for k in uniq], dtype=bool)
    included = np.zeros(len(uniq), dtype=bool)
    included[g_code] = True
    included &= ~excluded
    # ground truth
    g_rows = np.flatnonzero(np.isin(gt.label, ids) & ~excluded[g_code])
    gb = gt.box[g_rows]
    bad = (gb[:, 1] > gb[:, 3]) | (gb[:, 0] > gb[:, 2])
    if bad.any():
        r = int(g_rows[np.flatnonzero(bad)[0]])
        field = "y2" if gt.box[r, 1] > gt.box[r, 3] else "x2"
        raise InputError(
            f'{gt.source}, line {int(gt.line[r])}, field "{field}": the box ends before it '
            f"starts ({', '.join(repr(float(v)) for v in gt.box[r])})"
        )
    # detections: label map, then the reader's top 50 per keyframe
    white = np.isin(dets.label, ids)
    w_rows = np.flatnonzero(white)
    skipped = int(((dets.label >= 0) & ~white).sum())
    kept, position = _reader_order(dets, w_rows, d_code[w_rows], params.max_per_keyframe)
    over = len(w_rows) - len(kept)
    rows = w_rows[kept]
    # keyframe order: first appearance among the label map's rows
    first = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, d_code[w_rows], np.arange(len(w_rows)))
    k_rank = np.empty(len(uniq), dtype=np.int64)
    k_rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    rkey = d_code[rows]
    inc = included[rkey]
    unknown = int((~inc).sum())
    rows, position, rkey = rows[inc], position[inc], rkey[inc]
    b = dets.box[rows]
    valid = (b[:, 1] < b[:, 3]) & (b[:, 0] < b[:, 2])
    invalid = int((~valid).sum())
    rows, position, rkey = rows[valid], position[valid], rkey[valid]
    return _Selection(
        det=rows,
        det_key=rkey,
        keyframe_order=k_rank[rkey],
        position=position,
        gt=g_rows,
        gt_key=g_code[g_rows],
        counts={
            "skipped_label": skipped,
            "over_limit": int(over),
            "unknown_keyframe": unknown,
            "invalid_box": invalid,
            "keyframes": int(included.sum()),
        },
    )


# --------------------------------------------------------------------------- matching
def _iou_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of aligned ``x1, y1, x2, y2`` boxes with the official ``np_box_ops.iou`` operations
    (heights times widths; areas ``(y2 - y1) * (x2 - x1)``)."""
    h = np.maximum(0.0, np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]))
    w = np.maximum(0.0, np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]))
    inter = h * w
    area_a = (a[:, 3] - a[:, 1]) * (a[:, 2] - a[:, 0])
    area_b = (b[:, 3] - b[:, 1]) * (b[:, 2] - b[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / (area_a + area_b - inter)


def match_keyframes(
    gt: KeyframeBoxes,
    dets: KeyframeBoxes,
    class_ids: Sequence[int],
    *,
    exclusions: frozenset[str] | set[str] | None = None,
    params: AVAParams | None = None,
) -> KeyframeMatch:
    """Select the detections (:func:`select_detections`) and mark each true or false positive.

    Args:
        gt: ground-truth boxes (:func:`attnviz.io.ava.read_ava_boxes`).
        dets: detections, same layout (8th column: score).
        class_ids: the label map's action ids.
        exclusions: keyframe keys to leave out.
        params: protocol constants.

    Returns:
        KeyframeMatch.
    """
    params = params or AVAParams()
    sel = select_detections(gt, dets, class_ids, exclusions=exclusions, params=params)
    d_lab = dets.label[sel.det]
    g_lab = gt.label[sel.gt]
    width = np.int64(max(int(d_lab.max(initial=0)), int(g_lab.max(initial=0))) + 1)
    d_grp = sel.det_key.astype(np.int64) * width + d_lab
    g_grp = sel.gt_key.astype(np.int64) * width + g_lab
    # official order of the ground truth within a keyframe: file order unless a tie needs more
    g_pos = np.arange(len(sel.gt), dtype=np.int64)
    jd, jg = equal_key_pairs(d_grp, g_grp)
    iou = _iou_pairs(dets.box[sel.det[jd]], gt.box[sel.gt[jg]])
    n = len(sel.det)
    best = np.full(n, -np.inf)
    np.maximum.at(best, jd, iou)
    at_best = iou == best[jd]
    n_best = np.bincount(jd[at_best], minlength=n)
    tied = np.flatnonzero(n_best > 1)
    if len(tied):
        # equal IoUs: the first box in the official reader's order of that keyframe
        for k in np.unique(sel.det_key[tied]).tolist():
            rows_k = np.flatnonzero(sel.gt_key == k)
            order = _heap_order(_tuples(gt, sel.gt[rows_k]), 0)
            g_pos[rows_k[order]] = np.arange(len(rows_k))
    cand = np.flatnonzero(at_best)
    co = cand[np.lexsort((g_pos[jg[cand]], jd[cand]))]
    firstc = np.ones(len(co), dtype=bool)
    firstc[1:] = jd[co][1:] != jd[co][:-1]
    choice = co[firstc]  # one pair per detection that has a box of its class
    claim = choice[iou[choice] >= params.iou]
    det_c, gt_c = jd[claim], jg[claim]
    # each box goes to the first detection (reader's order in its keyframe) that claims it
    o = np.lexsort((sel.position[det_c], gt_c))
    gt_o = gt_c[o]
    win = np.ones(len(o), dtype=bool)
    win[1:] = gt_o[1:] != gt_o[:-1]
    tp = np.zeros(n, dtype=bool)
    tp[det_c[o[win]]] = True
    ids = sorted(set(int(i) for i in class_ids))
    npos_arr = np.bincount(g_lab, minlength=max(ids) + 1)
    return KeyframeMatch(
        det_index=sel.det,
        label=d_lab,
        score=dets.score[sel.det],
        keyframe_order=sel.keyframe_order,
        position=sel.position,
        tp=tp,
        npos={i: int(npos_arr[i]) for i in ids},
        counts=sel.counts,
    )


# --------------------------------------------------------------------------- AP
def _class_ap(hits: np.ndarray, npos: int) -> float:
    """All-point AP of one class's ranked true positives ``hits [D] bool``."""
    if len(hits) == 0:
        return 0.0
    tp = np.cumsum(hits).astype(float)
    fp = np.cumsum(~hits).astype(float)
    return ap_all_points(tp / npos, tp / (tp + fp))


def evaluate_ava(
    gt: KeyframeBoxes,
    dets: KeyframeBoxes,
    label_map: tuple[Sequence[int], Sequence[str]],
    *,
    exclusions: frozenset[str] | set[str] | None = None,
    params: AVAParams | None = None,
) -> EvalResult:
    """Frame-mAP at IoU 0.5 on AVA keyframes, per class of the label map.

    Args:
        gt: ground-truth boxes (:func:`attnviz.io.ava.read_ava_boxes`).
        dets: detections (same reader; 8th column the score).
        label_map: ``(ids, names)`` (:func:`attnviz.io.ava.read_label_map`).
        exclusions: keyframe keys to leave out (:func:`attnviz.io.ava.read_excluded_keyframes`).
        params: protocol constants (IoU 0.5, 50 detections per keyframe).

    Returns:
        EvalResult (metric ``keyframe``, protocol ``ava``) with ``ap [K, 1]`` in label-map
        order (``nan`` for a class without ground truth) and ``mAP [1]``; ``extra`` holds
        ``npos`` per class and the counts of skipped detections.
    """
    params = params or AVAParams()
    ids, names = tuple(int(i) for i in label_map[0]), tuple(str(n) for n in label_map[1])
    if not ids:
        raise InputError("the label map has no class")
    m = match_keyframes(gt, dets, ids, exclusions=exclusions, params=params)
    per_id = np.full(max(ids), np.nan)  # the official array: ids 1..max, nan without GT
    # per class, np.argsort(scores)[::-1] with a stable sort over the keyframes in the reader's
    # order: descending score, then the later keyframe, then the later position
    s_rank, n_s = _dense(-m.score)
    n_k = int(m.keyframe_order.max(initial=0)) + 1
    n_p = int(m.position.max(initial=0)) + 1
    order = _order(
        (m.label, max(ids) + 1),
        (s_rank, n_s),
        (n_k - 1 - m.keyframe_order, n_k),
        (n_p - 1 - m.position, n_p),
    )
    lab_sorted = m.label[order]
    hits_sorted = m.tp[order]
    sids = sorted(ids)
    bounds = np.searchsorted(lab_sorted, np.asarray([*sids, sids[-1] + 1]))
    for j, cid in enumerate(sids):
        npos = m.npos[cid]
        if npos == 0:
            continue
        per_id[cid - 1] = _class_ap(hits_sorted[bounds[j] : bounds[j + 1]], npos)
    with np.errstate(invalid="ignore"):
        m_ap = float(np.nanmean(per_id)) if np.isfinite(per_id).any() else float("nan")
    ap = np.asarray([[per_id[i - 1]] for i in ids], dtype=np.float64).reshape(len(ids), 1)
    warnings = []
    c = m.counts
    if c["skipped_label"]:
        warnings.append(f"{c['skipped_label']} detections with action ids outside the label map")
    if c["over_limit"]:
        warnings.append(
            f"{c['over_limit']} detections beyond the {params.max_per_keyframe} best of their "
            "keyframe left out"
        )
    if c["unknown_keyframe"]:
        warnings.append(
            f"{c['unknown_keyframe']} detections on keyframes absent from the ground truth "
            "(or excluded) ignored"
        )
    if c["invalid_box"]:
        warnings.append(f"{c['invalid_box']} detections with x1 >= x2 or y1 >= y2 dropped")
    missing = [n for i, n in zip(ids, names, strict=True) if m.npos[i] == 0]
    if missing:
        warnings.append(
            f"{len(missing)} classes have no ground-truth box and are left out of the mAP: "
            + ", ".join(missing)
        )
    return EvalResult(
        metric="keyframe",
        protocol="ava",
        thresholds=(float(params.iou),),
        class_names=names,
        ap=ap,
        mAP=np.asarray([m_ap]),
        params={"iou": params.iou, "max_per_keyframe": params.max_per_keyframe},
        warnings=tuple(warnings),
        extra={
            "npos": {n: m.npos[i] for i, n in zip(ids, names, strict=True)},
            "class_ids": list(ids),
            "num_detections": len(dets),
            **c,
        },
    )
