"""Temporal action detection mAP under the protocols that published THUMOS14 tables use.

Protocols (``protocol=``):

``thumos14`` (default)
    The official THUMOS14 evaluation kit, 2015 release (``TH14evalDet.m``). Per class and per
    video, detections are ranked by descending score (equal scores keep file order); the
    class's ground-truth instances, in annotation-file order, each take the still-free detection
    with the largest overlap (the best-ranked one among equals) if that overlap is strictly
    greater than the threshold. Overlap = intersection / (max end - min start) after ordering
    each interval's ends, 0 unless the intersection is positive. A detection left unmatched
    that overlaps (positively) an Ambiguous segment of its video is dropped (neither true nor
    false positive). The per-video lists are joined in sorted video-name order and stably sorted
    by score; AP = sum of the precision at each true positive / number of ground-truth
    instances. ``.mp4`` is removed from video names (every occurrence, as the kit's
    ``regexprep`` does).
``thumos14-2014``
    The original 2014 kit: the same matching, but on equal scores every true positive ranks
    before every false positive, and AP is the 11-point interpolated AP at MATLAB's
    ``0:0.1:1`` recall points; ``.mpeg`` is removed from video names.
``activitynet``
    ActivityNet's ``eval_detection.py``: per class, detections by descending score in results
    order (videos in order of first appearance, file order within a video); each detection tries
    the ground truths of its video in descending tIoU and takes the first one not yet matched,
    stopping at the first tIoU below the threshold (tIoU = intersection / union, segments as
    written); no Ambiguous handling; every-point interpolated AP. The reference sorts with
    numpy's unstable default sort, so the order of equal scores and of equal tIoUs there depends
    on the numpy version; attnviz breaks such ties deterministically: equal scores keep results
    order, equal tIoUs try the earlier ground truth first. A reversed segment whose length is
    minus a ground truth's gives ``0 / 0 = nan`` there, which sorts first and passes the
    threshold test: the detection takes that ground truth. attnviz reproduces this (it is the
    number the reference gives), counts such detections in ``EvalResult.extra
    ["nan_tiou_matches"]`` and warns. ``ties="reversed"`` (what ``eval-anet`` uses) runs the
    reference's own expressions, ``argsort()[::-1]``, with a stable sort instead: equal scores
    rank the later detection (results order) first and equal tIoUs try the later ground truth
    first, which is the order numpy 1.23 gives wherever it sorts by insertion (up to 16 items).

Thresholds are used as given; :func:`attnviz.evaluate.params.parse_thresholds` turns the
decimals a user writes (``0.3``) into the very doubles the official code compares with.

Detections on videos absent from the ground truth are false positives under every protocol
(a warning counts them). Classes without any ground-truth instance get AP 0, are left out of the
mean, and are named in a warning (the THUMOS kits stop with an assertion there; ActivityNet
only knows the classes of its ground truth). A class whose every detection is dropped as
Ambiguous gets AP 0 (the 2015 kit, run under Octave, stops with an indexing error when those
detections sit alone in their videos). APs are computed with the reference's own sequence of
floating-point operations; a sum that rounds a hair above 1 is clipped to 1.

Shape of the code: :func:`match` marks every detection of one class true positive, false
positive or ignored at all thresholds in one vectorised pass; :func:`accumulate` turns that into
AP; :func:`evaluate_thumos` does every class (sharing the work that does not depend on the
class). Both greedy matchings of the official code (ground truths in file order choosing
detections; detections in score order choosing ground truths) are serial dictatorships: the
agents, in priority order, each take their most preferred item still free. They are solved
here in a few vectorised rounds: an agent is given its favourite free item as soon as no
higher-priority agent still in the running lists that item at all. Nothing is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attnviz.evaluate.params import parse_thresholds
from attnviz.ops.ap import ap_11_point, ap_all_points
from attnviz.ops.join import equal_key_pairs
from attnviz.ops.segments import intersecting_pairs, segment_iou_pairs, thumos_overlap_pairs
from attnviz.types import EvalResult, TemporalDetections, TemporalGroundTruth

__all__ = [
    "DEFAULT_TIOU",
    "FP",
    "IGNORED",
    "PROTOCOLS",
    "TP",
    "ClassMatch",
    "ThumosParams",
    "accumulate",
    "evaluate_thumos",
    "match",
]

PROTOCOLS = ("thumos14", "thumos14-2014", "activitynet")
DEFAULT_TIOU = (0.1, 0.2, 0.3, 0.4, 0.5)

#: status of a detection at one threshold
FP, TP, IGNORED = 0, 1, 2


@dataclass(frozen=True)
class ThumosParams:
    """Constants of one protocol (never mutated by the evaluation).

    Attributes:
        protocol (str): ``thumos14``, ``thumos14-2014`` or ``activitynet``.
        tiou (tuple[float, ...]): thresholds, in the order asked for.
        strip (str): text removed from every detection's video name (``""``: none).
        ambiguous (bool): drop unmatched detections that overlap an Ambiguous segment.
        overlap (str): ``thumos`` (intersection over hull, intervals put in order) or ``iou``.
        strictly_greater (bool): a match needs overlap ``>`` threshold (else ``>=``).
        ap (str): ``precision_at_hits`` (2015 kit), ``11point`` (2014 kit) or ``all_points``.
        ties (str): ``activitynet`` only: ``results`` (equal scores keep results order, equal
            tIoUs try the earlier ground truth first) or ``reversed`` (the reference's
            ``argsort()[::-1]`` made stable: the later detection / ground truth first).
    """

    protocol: str = "thumos14"
    tiou: tuple[float, ...] = DEFAULT_TIOU
    strip: str = ".mp4"
    ambiguous: bool = True
    overlap: str = "thumos"
    strictly_greater: bool = True
    ap: str = "precision_at_hits"
    ties: str = "results"

    @staticmethod
    def for_protocol(
        protocol: str, tiou: Sequence[float] | str = DEFAULT_TIOU, ties: str = "results"
    ) -> ThumosParams:
        """The constants of a named protocol with thresholds ``tiou`` (floats or a string such
        as ``"0.1:0.7:0.1"``); ``ties`` as the attribute (``activitynet`` only)."""
        if ties not in ("results", "reversed"):
            raise ValueError(f"ties must be 'results' or 'reversed', got {ties!r}")
        if ties != "results" and protocol != "activitynet":
            raise ValueError(f"ties={ties!r} is an option of the activitynet protocol only")
        thr = parse_thresholds(tiou if isinstance(tiou, str) else list(tiou))
        if protocol == "thumos14":
            return ThumosParams(protocol, thr)
        if protocol == "thumos14-2014":
            return ThumosParams(protocol, thr, strip=".mpeg", ap="11point")
        if protocol == "activitynet":
            return ThumosParams(
                protocol,
                thr,
                strip="",
                ambiguous=False,
                overlap="iou",
                strictly_greater=False,
                ap="all_points",
                ties=ties,
            )
        raise ValueError(f"unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")


@dataclass
class ClassMatch:
    """Matching of one class's detections at every threshold.

    Attributes:
        label (int): the class index.
        det_index (ndarray[D] int64): indices into the detection arrays, in the protocol's final
            ranking (descending score; ties: ``thumos14`` / ``thumos14-2014`` by sorted video
            name then file order, ``activitynet`` by results order). The 2014 kit further puts
            true positives before false positives within equal scores when it computes AP.
        score (ndarray[D] float64): their scores.
        status (ndarray[T, D] int8): ``FP`` (0), ``TP`` (1) or ``IGNORED`` (2) at each
            threshold.
        npos (int): ground-truth instances of the class.
        nan_matches (int): detections matched through a ``nan`` tIoU (activitynet only).
    """

    label: int
    det_index: np.ndarray
    score: np.ndarray
    status: np.ndarray
    npos: int
    nan_matches: int = 0
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class _Prepared:
    """Integer-coded inputs shared by every class (internal).

    Video codes are ranks in the sorted list of every video name (ground truth and stripped
    detection names), the order in which the THUMOS kits join their per-video lists.
    """

    det_video: np.ndarray  # [N] int64
    det_label: np.ndarray  # [N] int64
    det_seg: np.ndarray  # [N, 2]
    det_score: np.ndarray  # [N]
    det_results: np.ndarray  # [N] int64, ActivityNet results order
    det_amb: np.ndarray  # [N] bool
    gt_video: np.ndarray  # [G] int64
    gt_label: np.ndarray  # [G] int64, GT sorted by label then file order
    gt_seg: np.ndarray  # [G, 2]
    gt_file: np.ndarray  # [G] int64, index into the original GT arrays
    n_videos: int
    unknown_videos: tuple[str, ...]
    n_unknown: int


def _strip_names(names: np.ndarray, suffix: str) -> np.ndarray:
    if not suffix:
        return names
    return np.asarray([str(n).replace(suffix, "") for n in names.tolist()], dtype=object)


def _prepare(gt: TemporalGroundTruth, dets: TemporalDetections, params: ThumosParams) -> _Prepared:
    k = len(gt.class_names)
    n = len(dets)
    if n and (dets.label.min() < 0 or dets.label.max() >= k):
        bad = int(np.flatnonzero((dets.label < 0) | (dets.label >= k))[0])
        raise ValueError(
            f"detection {bad} (line {int(dets.line[bad])}) has class index {int(dets.label[bad])}"
            f", outside the {k} classes of the ground truth"
        )
    # detection video names -> codes (factorize once, strip the few distinct names)
    det_codes, det_uniques = pd.factorize(pd.Series(dets.video, dtype=object), sort=False)
    det_names = _strip_names(np.asarray(det_uniques, dtype=object), params.strip)
    gt_codes, gt_uniques = pd.factorize(pd.Series(gt.video, dtype=object), sort=False)
    gt_names = np.asarray(gt_uniques, dtype=object)
    amb_names = list(gt.ambiguous) if params.ambiguous else []
    known = set(map(str, gt.videos)) | set(map(str, gt_names.tolist())) | set(gt.ambiguous)
    all_names = sorted(set(map(str, det_names.tolist())) | set(map(str, gt_names.tolist())))
    all_names = sorted(set(all_names) | set(map(str, amb_names)))
    rank = {name: i for i, name in enumerate(all_names)}
    det_map = np.asarray([rank[str(v)] for v in det_names.tolist()], dtype=np.int64)
    gt_map = np.asarray([rank[str(v)] for v in gt_names.tolist()], dtype=np.int64)
    det_video = det_map[det_codes] if n else np.zeros(0, np.int64)
    unknown = tuple(sorted(str(v) for v in set(det_names.tolist()) if str(v) not in known))
    n_unknown = 0
    if unknown:
        bad_codes = np.asarray([rank[v] for v in unknown], dtype=np.int64)
        n_unknown = int(np.isin(det_video, bad_codes).sum())
    det_seg = np.stack([dets.start, dets.end], axis=1).astype(np.float64).reshape(n, 2)
    # ActivityNet results order: videos by first appearance, file order within a video
    # (factorize numbers the names in order of first appearance; files grouped by video need
    # no sort)
    if n == 0 or (np.diff(det_codes) >= 0).all():
        det_results = np.arange(n, dtype=np.int64)
    else:
        det_results = np.empty(n, dtype=np.int64)
        det_results[np.argsort(det_codes, kind="stable")] = np.arange(n)
    # ambiguous: positive overlap with some Ambiguous segment of the detection's video
    det_amb = np.zeros(n, dtype=bool)
    if params.ambiguous and n and gt.ambiguous:
        av, aseg = [], []
        for video, segs in gt.ambiguous.items():
            s = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
            av.append(np.full(len(s), rank[str(video)], dtype=np.int64))
            aseg.append(s)
        if av:
            a_video = np.concatenate(av)
            a_seg = np.sort(np.concatenate(aseg), axis=1)
            lut = np.zeros(len(all_names), dtype=bool)
            lut[a_video] = True
            cand = np.flatnonzero(lut[det_video])
            d = det_seg[cand]
            lo, hi = np.minimum(d[:, 0], d[:, 1]), np.maximum(d[:, 0], d[:, 1])
            hit, _ = intersecting_pairs(det_video[cand], lo, hi, a_video, a_seg[:, 0], a_seg[:, 1])
            det_amb[cand[hit]] = True
    # ground truth by class, annotation-file order within a class
    g_order = np.argsort(np.asarray(gt.label, dtype=np.int64), kind="stable")
    gt_video = gt_map[gt_codes][g_order] if len(g_order) else np.zeros(0, np.int64)
    gt_seg = np.stack([gt.start, gt.end], axis=1).astype(np.float64).reshape(-1, 2)[g_order]
    return _Prepared(
        det_video=det_video,
        det_label=np.asarray(dets.label, dtype=np.int64),
        det_seg=det_seg,
        det_score=np.asarray(dets.score, dtype=np.float64),
        det_results=det_results,
        det_amb=det_amb,
        gt_video=gt_video,
        gt_label=np.asarray(gt.label, dtype=np.int64)[g_order],
        gt_seg=gt_seg,
        gt_file=g_order.astype(np.int64),
        n_videos=len(all_names),
        unknown_videos=unknown,
        n_unknown=n_unknown,
    )


# --------------------------------------------------------------------------- matching
def _serial_dictatorship(
    agent: np.ndarray, item: np.ndarray, n_agents: int, n_items: int, eligible: np.ndarray
) -> np.ndarray:
    """Greedy assignment: agents, in increasing id order, each take their most preferred item
    that no earlier agent took.

    Args:
        agent (ndarray[P] int64), item (ndarray[P] int64): candidate pairs, sorted by agent id
            and, within an agent, by the agent's preference. Agents that may compete for an item
            must have ids in their priority order (ids of agents that never share an item may
            be in any order).
        n_agents, n_items: sizes of the id spaces.
        eligible (ndarray[T, P] bool): which pairs count at each threshold.

    Returns:
        ndarray[T, P] bool: the pair is an assignment at that threshold.
    """
    t_count, p = eligible.shape
    won = np.zeros((t_count, p), dtype=bool)
    big = np.iinfo(np.int64).max
    for t in range(t_count):
        idx = np.flatnonzero(eligible[t])
        agent_done = np.zeros(n_agents, dtype=bool)
        item_taken = np.zeros(n_items, dtype=bool)
        while len(idx):
            ag = agent[idx]
            it = item[idx]
            favourite = np.ones(len(idx), dtype=bool)
            favourite[1:] = ag[1:] != ag[:-1]
            claim = np.full(n_items, big, dtype=np.int64)
            np.minimum.at(claim, it, ag)
            safe = favourite & (claim[it] == ag)
            w = idx[safe]
            won[t, w] = True
            agent_done[agent[w]] = True
            item_taken[item[w]] = True
            keep = ~(agent_done[ag] | item_taken[it])
            idx = idx[keep]
    return won


def _group_key(label: np.ndarray, video: np.ndarray, n_videos: int) -> np.ndarray:
    return label.astype(np.int64) * np.int64(n_videos + 1) + video.astype(np.int64)


def _dense_desc_rank(score: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each score in descending order, equal scores sharing a rank (``0`` = highest)."""
    n = len(score)
    if n == 0:
        return np.zeros(0, np.int64), 0
    o = np.argsort(-score, kind="stable")
    s = score[o]
    step = np.empty(n, dtype=np.int64)
    step[0] = 0
    step[1:] = s[1:] != s[:-1]
    rank = np.empty(n, dtype=np.int64)
    rank[o] = np.cumsum(step)
    return rank, int(rank[o[-1]]) + 1


def _in_gt_groups(d_group: np.ndarray, g_group: np.ndarray) -> np.ndarray:
    """Indices of the detections whose (class, video) group has ground truth."""
    if len(g_group) == 0 or len(d_group) == 0:
        return np.zeros(0, np.int64)
    lut = np.zeros(int(max(d_group.max(), g_group.max())) + 1, dtype=bool)
    lut[g_group] = True
    return np.flatnonzero(lut[d_group])


def _match_thumos_kit(prep: _Prepared, dsel: np.ndarray, gsel: np.ndarray, thr: np.ndarray):
    """TP / FP / IGNORED of detections ``dsel`` against ground truth ``gsel`` (both ascending,
    restricted to the classes wanted), THUMOS kits. Returns ``status [T, len(dsel)]``."""
    t_count = len(thr)
    status = np.zeros((t_count, len(dsel)), dtype=np.int8)
    d_group = _group_key(prep.det_label[dsel], prep.det_video[dsel], prep.n_videos)
    g_group = _group_key(prep.gt_label[gsel], prep.gt_video[gsel], prep.n_videos)
    cand = _in_gt_groups(d_group, g_group)
    if len(cand):
        d_seg = prep.det_seg[dsel[cand]]
        g_seg = prep.gt_seg[gsel]
        d_lo, d_hi = np.minimum(d_seg[:, 0], d_seg[:, 1]), np.maximum(d_seg[:, 0], d_seg[:, 1])
        g_lo, g_hi = np.minimum(g_seg[:, 0], g_seg[:, 1]), np.maximum(g_seg[:, 0], g_seg[:, 1])
        ig, jc = intersecting_pairs(g_group, g_lo, g_hi, d_group[cand], d_lo, d_hi)
        ov = thumos_overlap_pairs(g_seg[ig], d_seg[jc])
        keep = ov > thr.min()
        ig, jd, ov = ig[keep], cand[jc[keep]], ov[keep]
        # agents: ground truths in file order (gsel is in class then file order); preference:
        # larger overlap, then the detection the kit ranks first in the video (higher score,
        # then earlier in the file: jd ascending is file order)
        o = np.lexsort((jd, -prep.det_score[dsel[jd]], -ov, ig))
        ig, jd, ov = ig[o], jd[o], ov[o]
        won = _serial_dictatorship(ig, jd, len(gsel), len(dsel), ov[None, :] > thr[:, None])
        for t in range(t_count):
            status[t, jd[won[t]]] = TP
    amb = prep.det_amb[dsel]
    if amb.any():
        status[(status == FP) & amb[None, :]] = IGNORED
    return status


def _match_activitynet(
    prep: _Prepared, dsel: np.ndarray, gsel: np.ndarray, thr: np.ndarray, reversed_ties: bool
):
    """ActivityNet. Returns ``(status [T, len(dsel)], nan_matched [len(dsel)] bool)``."""
    t_count = len(thr)
    n = len(dsel)
    status = np.zeros((t_count, n), dtype=np.int8)
    nan_matched = np.zeros(n, dtype=bool)
    d_group = _group_key(prep.det_label[dsel], prep.det_video[dsel], prep.n_videos)
    g_group = _group_key(prep.gt_label[gsel], prep.gt_video[gsel], prep.n_videos)
    cand = _in_gt_groups(d_group, g_group)
    if len(cand) == 0:
        return status, nan_matched
    c_group = d_group[cand]
    d_seg = prep.det_seg[dsel[cand]]
    g_seg = prep.gt_seg[gsel]
    # candidate pairs: a positive intersection ...
    jc, ig = intersecting_pairs(
        c_group, d_seg[:, 0], d_seg[:, 1], g_group, g_seg[:, 0], g_seg[:, 1]
    )
    parts_c, parts_g = [jc], [ig]
    # ... a zero union (0 / 0 = nan: the detection's length is minus the ground truth's) ...
    d_len = d_seg[:, 1] - d_seg[:, 0]
    g_len = g_seg[:, 1] - g_seg[:, 0]
    rev = np.flatnonzero(d_len <= 0)
    if len(rev):
        pc, pg = _equal_key_pairs(c_group[rev], d_len[rev], g_group, -g_len)
        parts_c.append(rev[pc])
        parts_g.append(pg)
    g_rev = np.flatnonzero(g_len < 0)  # a reversed ground truth: a detection may mirror it
    if len(g_rev):
        pc, pg = _equal_key_pairs(c_group, d_len, g_group[g_rev], -g_len[g_rev])
        parts_c.append(pc)
        parts_g.append(g_rev[pg])
    # ... and, at a zero threshold, every pair of a video (tIoU 0 >= 0)
    if thr.min() <= 0:
        pc, pg = _equal_key_pairs(c_group, np.zeros(len(cand)), g_group, np.zeros(len(gsel)))
        parts_c.append(pc)
        parts_g.append(pg)
    jc = np.concatenate(parts_c)
    ig = np.concatenate(parts_g)
    if len(parts_c) > 1:
        flat = np.sort(jc * np.int64(len(gsel)) + ig)
        flat = flat[np.concatenate(([True], flat[1:] != flat[:-1]))] if len(flat) else flat
        jc, ig = flat // len(gsel), flat % len(gsel)
    iou = segment_iou_pairs(d_seg[jc], g_seg[ig])
    is_nan = np.isnan(iou)
    keep = is_nan | ~(iou < thr.min())
    jd, ig, iou, is_nan = cand[jc[keep]], ig[keep], iou[keep], is_nan[keep]
    # agents: detections by descending score, results order among equals; preference: nan
    # first, then larger tIoU, then the earlier ground truth
    seen = np.zeros(n, dtype=bool)
    seen[jd] = True
    agents = np.flatnonzero(seen)
    prio = np.zeros(n, dtype=np.int64)
    sign = -1 if reversed_ties else 1
    prio[
        agents[np.lexsort((sign * prep.det_results[dsel[agents]], -prep.det_score[dsel[agents]]))]
    ] = np.arange(len(agents))
    key = np.where(is_nan, np.inf, iou)
    o = np.lexsort((sign * ig, -key, prio[jd]))
    jd, ig, iou, is_nan = jd[o], ig[o], iou[o], is_nan[o]
    eligible = ~(iou[None, :] < thr[:, None])
    won = _serial_dictatorship(prio[jd], ig, len(agents), len(gsel), eligible)
    for t in range(t_count):
        status[t, jd[won[t]]] = TP
    nan_matched[jd[(won & is_nan[None, :]).any(axis=0)]] = True
    return status, nan_matched


def _equal_key_pairs(
    group_a: np.ndarray, value_a: np.ndarray, group_b: np.ndarray, value_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, j)`` with ``group_a[i] == group_b[j]`` and ``value_a[i] == value_b[j]``
    (``-0.0 == 0.0``)."""
    if len(group_a) == 0 or len(group_b) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = np.concatenate(
        [
            np.stack([group_a.astype(np.float64), value_a + 0.0], axis=1),
            np.stack([group_b.astype(np.float64), value_b + 0.0], axis=1),
        ]
    )
    _, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    return equal_key_pairs(inv[: len(group_a)], inv[len(group_a) :])


def _match_prepared(
    prep: _Prepared, params: ThumosParams, labels: Sequence[int]
) -> dict[int, ClassMatch]:
    thr = np.asarray(params.tiou, dtype=np.float64)
    labels = sorted({int(c) for c in labels})
    if labels == list(range(len(labels))) and (
        len(prep.det_label) == 0 or prep.det_label.max() < len(labels)
    ):
        dsel = np.arange(len(prep.det_label))
        gsel = np.arange(len(prep.gt_label))
    else:
        dsel = np.flatnonzero(np.isin(prep.det_label, labels))
        gsel = np.flatnonzero(np.isin(prep.gt_label, labels))
    nan_matched = np.zeros(len(dsel), dtype=bool)
    score = prep.det_score[dsel]
    srank, n_ranks = _dense_desc_rank(score)
    label = prep.det_label[dsel]
    if params.protocol == "activitynet":
        reversed_ties = params.ties == "reversed"
        status, nan_matched = _match_activitynet(prep, dsel, gsel, thr, reversed_ties)
        # final ranking: class, descending score, results order (or its reverse)
        minor, width = prep.det_results[dsel], np.int64(len(prep.det_results) + 1)
        if reversed_ties:
            minor = np.int64(len(prep.det_results)) - minor
    else:
        status = _match_thumos_kit(prep, dsel, gsel, thr)
        # final ranking: class, descending score, sorted video name, file order (stable sort)
        minor, width = prep.det_video[dsel], np.int64(prep.n_videos + 1)
    key = (label * np.int64(n_ranks + 1) + srank) * width + minor
    order = np.argsort(key, kind="stable")
    lab_sorted = label[order]
    npos = np.bincount(prep.gt_label[gsel], minlength=max(labels, default=-1) + 1)
    out: dict[int, ClassMatch] = {}
    bounds = np.searchsorted(lab_sorted, labels, side="left")
    ends = np.searchsorted(lab_sorted, labels, side="right")
    for c, b, e in zip(labels, bounds, ends, strict=True):
        o = order[b:e]
        out[c] = ClassMatch(
            label=c,
            det_index=dsel[o],
            score=score[o],
            status=np.ascontiguousarray(status[:, o]),
            npos=int(npos[c]) if c < len(npos) else 0,
            nan_matches=int(nan_matched[o].sum()),
        )
    return out


def match(
    gt: TemporalGroundTruth,
    dets: TemporalDetections,
    label: int,
    params: ThumosParams,
) -> ClassMatch:
    """Mark the detections of class ``label`` at every threshold of ``params``.

    Args:
        gt: ground truth (instances in annotation-file order).
        dets: detections, video names as written (``params.strip`` is applied here).
        label: class index into ``gt.class_names``.
        params: protocol constants (:meth:`ThumosParams.for_protocol`).

    Returns:
        ClassMatch of that class (detections in the protocol's final ranking).
    """
    return _match_prepared(_prepare(gt, dets, params), params, [label])[int(label)]


# --------------------------------------------------------------------------- accumulation
def accumulate(m: ClassMatch, params: ThumosParams) -> np.ndarray:
    """AP of one class at every threshold (``ndarray[T]``) from its :class:`ClassMatch`.

    Sums run in the reference's order, so values equal the reference's to the last bit or so;
    a sum that rounds above 1 (the 2014 kit adds ``1/11`` eleven times: ``1 + 2e-16``) is
    clipped to 1.

    ``precision_at_hits`` (2015 kit): sum, left to right, of the precision at each true
    positive (dropped detections removed), over ``npos``. ``11point`` (2014 kit): true
    positives first within equal scores, then the mean over MATLAB's ``0:0.1:1`` of the best
    precision at recall >= r. ``all_points``: area under the precision envelope. AP is 0 when
    the class has no ground truth or no detection.
    """
    return np.minimum(_accumulate(m, params), 1.0)


def _accumulate(m: ClassMatch, params: ThumosParams) -> np.ndarray:
    t_count = m.status.shape[0]
    out = np.zeros(t_count)
    d = m.status.shape[1]
    if m.npos == 0 or d == 0:
        return out
    if params.ap == "precision_at_hits":
        kept = m.status != IGNORED
        hits = m.status == TP
        kept_cum = np.cumsum(kept, axis=1, dtype=np.float64)
        tp_cum = np.cumsum(hits, axis=1, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = np.where(hits, tp_cum / kept_cum, 0.0)
        # left-to-right sum (adding zeros does not change a float sum)
        return np.cumsum(prec, axis=1)[:, -1] / m.npos
    if params.ap == "11point":
        # equal scores form blocks (score is in ranking order); within a block the 2014 kit
        # lists true positives first
        for i in range(t_count):
            st = m.status[i]
            keep = st != IGNORED
            hits = st[keep] == TP
            n = len(hits)
            if n == 0:
                continue
            sc = m.score[keep]
            start = np.ones(n, dtype=bool)
            start[1:] = sc[1:] != sc[:-1]
            first = np.flatnonzero(start)
            block = np.cumsum(start) - 1
            tp_before = np.concatenate(([0], np.cumsum(hits)))[first][block]
            tp_in = np.add.reduceat(hits.astype(np.int64), first)[block]
            pos_in = np.arange(n) - first[block]
            tp = (tp_before + np.minimum(pos_in + 1, tp_in)).astype(np.float64)
            prec = tp / np.arange(1, n + 1, dtype=np.float64)
            out[i] = ap_11_point(tp / m.npos, prec)
        return out
    for i in range(t_count):
        hits = m.status[i] == TP
        tp = np.cumsum(hits, dtype=np.float64)
        fp = np.cumsum(~hits, dtype=np.float64)
        out[i] = ap_all_points(tp / m.npos, tp / (tp + fp))
    return out


# --------------------------------------------------------------------------- all classes
def evaluate_thumos(
    gt: TemporalGroundTruth,
    dets: TemporalDetections,
    *,
    protocol: str = "thumos14",
    tiou: Sequence[float] | str = DEFAULT_TIOU,
    keep_matches: bool = False,
    ties: str = "results",
) -> EvalResult:
    """Temporal detection AP per class and threshold under ``protocol``.

    Args:
        gt: the ground truth (:func:`attnviz.io.thumos.read_thumos_gt`).
        dets: detections (:func:`attnviz.io.thumos.read_detections`); labels index
            ``gt.class_names``.
        protocol: ``thumos14``, ``thumos14-2014`` or ``activitynet``.
        tiou: thresholds (floats, or a string such as ``"0.1:0.5:0.1"``).
        keep_matches: store each class's :class:`ClassMatch` in ``extra["matches"]``
            (``{class_name: ClassMatch}``, for ``--compare`` and PR curves).
        ties: ``activitynet`` only: ``results`` or ``reversed`` (:class:`ThumosParams`).

    Returns:
        EvalResult with ``ap [K, T]`` and ``mAP [T]`` (mean over the classes that have ground
        truth); ``extra`` has ``npos`` per class, the number of detections, of detections on
        unknown videos, and of ``nan`` tIoU matches.
    """
    params = ThumosParams.for_protocol(protocol, tiou, ties=ties)
    prep = _prepare(gt, dets, params)
    warnings: list[str] = []
    if prep.unknown_videos:
        warnings.append(
            f"{prep.n_unknown} detections on {len(prep.unknown_videos)} videos absent from the "
            f"ground truth (e.g. {prep.unknown_videos[0]!r}) count as false positives"
        )
    if len(dets) == 0:
        warnings.append("the prediction file holds no detection: every AP is 0")
    if params.ambiguous and not gt.ambiguous:
        warnings.append(
            "the ground truth has no Ambiguous segments (no Ambiguous file, or a JSON / CSV "
            f"without them): {params.protocol} drops no detection"
        )
    k = len(gt.class_names)
    matches = _match_prepared(prep, params, range(k))
    ap = np.zeros((k, len(params.tiou)))
    npos = np.zeros(k, dtype=np.int64)
    nan_total = 0
    for c in range(k):
        m = matches[c]
        npos[c] = m.npos
        ap[c] = accumulate(m, params)
        nan_total += m.nan_matches
    evaluated = npos > 0
    if not evaluated.all():
        missing = [gt.class_names[c] for c in np.flatnonzero(~evaluated)]
        warnings.append(
            f"{len(missing)} classes have no ground-truth instance and are left out of the mAP: "
            + ", ".join(missing)
        )
    if nan_total:
        warnings.append(
            f"{nan_total} reversed detections matched a ground truth through a nan tIoU "
            "(0/0; as the ActivityNet reference does)"
        )
    m_ap = ap[evaluated].mean(axis=0) if evaluated.any() else np.zeros(len(params.tiou))
    extra: dict = {
        "npos": {gt.class_names[c]: int(npos[c]) for c in range(k)},
        # classes without ground truth: AP 0 in ``ap`` but left out of the mAP
        "not_scored": [gt.class_names[c] for c in range(k) if not evaluated[c]],
        "num_detections": len(dets),
        "unknown_videos": len(prep.unknown_videos),
        "unknown_detections": prep.n_unknown,
        "nan_tiou_matches": nan_total,
    }
    if keep_matches:
        extra["matches"] = {gt.class_names[c]: matches[c] for c in range(k)}
    return EvalResult(
        metric="temporal",
        protocol=params.protocol,
        thresholds=params.tiou,
        class_names=gt.class_names,
        ap=ap,
        mAP=m_ap,
        params={
            "strip": params.strip,
            "ambiguous": params.ambiguous,
            "overlap": params.overlap,
            "strictly_greater": params.strictly_greater,
            "ap": params.ap,
            "subset": gt.subset,
        },
        warnings=tuple(warnings),
        extra=extra,
    )
