"""Hand-computed APs, one small case per rule of the three protocols.

Each case is small enough to work out on paper; the comment above each assertion gives the
arithmetic. ``k15`` = the THUMOS14 kit of 2015 (``thumos14``), ``k14`` = the 2014 kit
(``thumos14-2014``), ``anet`` = ActivityNet's ``eval_detection.py`` (``activitynet``).
"""

from __future__ import annotations

import numpy as np
import pytest
from thumos_helpers import make_dets, make_gt

from attnviz.evaluate.params import parse_thresholds
from attnviz.evaluate.thumos import (
    FP,
    IGNORED,
    PROTOCOLS,
    TP,
    ThumosParams,
    accumulate,
    evaluate_thumos,
    match,
)


def ap(gt, dets, protocol, tiou=(0.5,), cls=0):
    return evaluate_thumos(gt, dets, protocol=protocol, tiou=tiou).ap[cls]


def aps(gt, dets, tiou=(0.5,), cls=0):
    return {p: float(ap(gt, dets, p, tiou, cls)[0]) for p in PROTOCOLS}


def test_three_protocols_three_numbers():
    # GT A: v [0,10], v [10,20]; Ambiguous v [30,40]; npos 2.
    # d1 [0,10] .9 TP; d2 [30,35] .8 overlaps Ambiguous; d3 [50,52] .75 FP; d4 [12,20] .7 TP
    # (overlap 8/10 = .8 with [10,20]).
    gt = make_gt([("A", "v", 0, 10), ("A", "v", 10, 20)], ambiguous={"v": [(30, 40)]})
    dets = make_dets(
        [
            ("v", 0, 10, "A", 0.9),
            ("v", 30, 35, "A", 0.8),
            ("v", 50, 52, "A", 0.75),
            ("v", 12, 20, "A", 0.7),
        ]
    )
    got = aps(gt, dets)
    # k15: d2 dropped; ranked TP FP TP -> (1/1 + 2/3) / 2 = 5/6 (summed in the kit's order)
    assert got["thumos14"] == (1 + 2 / 3) / 2 == pytest.approx(5 / 6, abs=1e-15)
    # k14: same list; 11-point: recall .5 reached at precision 1 (points 0..0.5: 6 of them),
    # recall 1 at precision 2/3 (points 0.6..1: 5) -> (6 + 5 * 2/3) / 11 = 28/33
    assert got["thumos14-2014"] == pytest.approx(28 / 33, abs=1e-15)
    # anet: d2 is a false positive: TP FP FP TP; precision 1 .5 .33 .5 at recall .5 .5 .5 1;
    # envelope 1 up to recall .5, .5 up to 1 -> .5 * 1 + .5 * .5 = .75
    assert got["activitynet"] == pytest.approx(0.75, abs=1e-15)
    assert len(set(got.values())) == 3


def test_strictly_greater_vs_greater_or_equal():
    # GT [0,10], detection [0,5]: overlap 5/10 = .5 exactly under both definitions.
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("v", 0, 5, "A", 1.0)])
    # kits need overlap > .5: a false positive; ActivityNet needs tIoU >= .5: a hit
    assert aps(gt, dets) == {"thumos14": 0.0, "thumos14-2014": 0.0, "activitynet": 1.0}
    # at .4 everyone matches
    assert set(aps(gt, dets, tiou=(0.4,)).values()) == {1.0}


def test_threshold_hit_exactly_as_written_decimal():
    # GT [0,10], detection [0,3]: overlap 3/10 == 0.3 (the double nearest to 3/10).
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("v", 0, 3, "A", 1.0)])
    thr = parse_thresholds("0.1:0.3:0.1")
    assert thr[2] == 0.3 and 0.1 + 0.1 + 0.1 != 0.3
    r = evaluate_thumos(gt, dets, protocol="activitynet", tiou=thr)
    # tIoU 0.3 >= 0.3: a hit at every threshold (a sum of floats 0.30000000000000004 would miss)
    np.testing.assert_array_equal(r.ap[0], [1.0, 1.0, 1.0])
    r = evaluate_thumos(gt, dets, protocol="thumos14", tiou=thr)
    np.testing.assert_array_equal(r.ap[0], [1.0, 1.0, 0.0])


def test_reversed_segments():
    gt = make_gt([("A", "v", 0, 10)])
    # [8, 2] reversed: the kits put it in order -> [2, 8], overlap 6/10 = .6 > .5 (hit);
    # ActivityNet takes it as written: intersection 0, union 10 - 6 = 4 -> tIoU 0 (miss)
    dets = make_dets([("v", 8, 2, "A", 1.0)])
    assert aps(gt, dets) == {"thumos14": 1.0, "thumos14-2014": 1.0, "activitynet": 0.0}
    # [30, 20]: far away, but its length is minus the ground truth's: ActivityNet computes
    # 0 / (10 - 10) = nan, sorts it first, and nan < .5 is False: a hit (warned, counted)
    dets = make_dets([("v", 30, 20, "A", 1.0)])
    assert aps(gt, dets) == {"thumos14": 0.0, "thumos14-2014": 0.0, "activitynet": 1.0}
    r = evaluate_thumos(gt, dets, protocol="activitynet", tiou=(0.5,))
    assert r.extra["nan_tiou_matches"] == 1
    assert any("nan tIoU" in w for w in r.warnings)
    # [10, 0]: the exact reverse: kits overlap 1 (hit); ActivityNet 0 / 0 = nan (hit as well)
    dets = make_dets([("v", 10, 0, "A", 1.0)])
    assert set(aps(gt, dets).values()) == {1.0}


def test_zero_length_segments_never_match():
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("v", 5, 5, "A", 1.0)])
    # intersection 0 -> overlap 0 (kits), tIoU 0 / 10 = 0 (ActivityNet)
    assert set(aps(gt, dets, tiou=(0.1,)).values()) == {0.0}


def test_greedy_order_ground_truths_vs_detections():
    # g1 [0,10], g2 [2,12]; d1 [0.5,10.5] score .9, d2 [0,10] score .8; threshold .7.
    # tIoU: d1-g1 9.5/10.5=.905, d1-g2 8.5/11.5=.739, d2-g1 1, d2-g2 8/12=.667
    gt = make_gt([("A", "v", 0, 10), ("A", "v", 2, 12)])
    dets = make_dets([("v", 0.5, 10.5, "A", 0.9), ("v", 0, 10, "A", 0.8)])
    got = aps(gt, dets, tiou=(0.7,))
    # kits: g1 (file order) takes its best, d2 (1.0); g2 takes d1 (.739 > .7): TP TP -> 1
    assert got["thumos14"] == 1.0
    # ActivityNet: d1 (best score) takes its best, g1; d2 finds g1 taken and g2 at .667 < .7:
    # TP FP, npos 2 -> .5 * 1 = .5
    assert got["activitynet"] == 0.5


def test_ground_truth_file_order_matters_to_the_kits():
    # g1 [0,10], g2 [4,14]; d1 [1,11] .9, d2 [0,6] .8; threshold .5.
    # overlaps: g1-d1 9/11=.818, g1-d2 6/10=.6, g2-d1 7/13=.538, g2-d2 2/14=.14
    dets = make_dets([("v", 1, 11, "A", 0.9), ("v", 0, 6, "A", 0.8)])
    first = make_gt([("A", "v", 0, 10), ("A", "v", 4, 14)])
    # g1 first takes d1 (.818); g2 has only d2 (.14): TP FP, npos 2 -> 1/2
    assert ap(first, dets, "thumos14")[0] == 0.5
    second = make_gt([("A", "v", 4, 14), ("A", "v", 0, 10)])
    # g2 first takes d1 (.538 > .5); g1 takes d2 (.6): TP TP -> 1
    assert ap(second, dets, "thumos14")[0] == 1.0


def test_ambiguous_drops_only_unmatched_positive_overlaps():
    gt = make_gt([("A", "v", 0, 10)], ambiguous={"v": [(8, 20)]})
    dets = make_dets(
        [
            ("v", 0, 10, "A", 0.9),  # TP although it overlaps the Ambiguous segment
            ("v", 12, 15, "A", 0.8),  # unmatched, inside Ambiguous: dropped
            ("v", 20, 25, "A", 0.7),  # touches Ambiguous at 20 only (zero length): FP
            ("v", 25, 20, "A", 0.6),  # reversed, touching as well: FP
        ]
    )
    params = ThumosParams.for_protocol("thumos14", (0.5,))
    m = match(gt, dets, 0, params)
    status = dict(zip(m.det_index.tolist(), m.status[0].tolist(), strict=True))
    assert status == {0: TP, 1: IGNORED, 2: FP, 3: FP}
    # k15: TP FP FP -> 1; k14 the same list; ActivityNet keeps d2: TP FP FP FP -> 1
    assert aps(gt, dets) == {"thumos14": 1.0, "thumos14-2014": 1.0, "activitynet": 1.0}
    # the order of what is kept: drop d1 (TP) by a lower score and see the dropped detection
    # change precision under ActivityNet only
    dets = make_dets([("v", 12, 15, "A", 0.9), ("v", 0, 10, "A", 0.8)])
    assert aps(gt, dets) == {"thumos14": 1.0, "thumos14-2014": 1.0, "activitynet": 0.5}


def test_equal_scores_kits_and_activitynet():
    # npos 1; line 1: a miss with score .5, line 2: the hit with score .5
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("v", 50, 52, "A", 0.5), ("v", 0, 10, "A", 0.5)])
    got = aps(gt, dets)
    # k15: equal scores keep file order: FP TP -> precision 1/2 at the hit
    assert got["thumos14"] == 0.5
    # k14: true positives rank first on equal scores: TP FP -> 11 points at precision 1
    assert got["thumos14-2014"] == 1.0
    # anet (attnviz: stable, results order): FP TP -> envelope .5 at recall 1
    assert got["activitynet"] == 0.5


def test_equal_scores_joined_in_sorted_video_order():
    # GT b [0,10], a [100,110]; line 1 hit in video b, line 2 miss in video a, equal scores.
    gt = make_gt([("A", "b", 0, 10), ("A", "a", 100, 110)])
    dets = make_dets([("b", 0, 10, "A", 0.5), ("a", 0, 5, "A", 0.5)])
    got = aps(gt, dets)
    # k15 joins per-video lists in sorted name order (a before b): FP TP -> (1/2) / 2
    assert got["thumos14"] == 0.25
    # k14: TP first -> recall .5 at precision 1: points 0..0.5 -> 6/11
    assert got["thumos14-2014"] == pytest.approx(6 / 11, abs=1e-15)
    # ActivityNet: results order (b first): TP FP -> .5 * 1
    assert got["activitynet"] == 0.5


def test_video_name_suffixes():
    gt = make_gt([("A", "v", 0, 10)])
    mp4 = make_dets([("v.mp4", 0, 10, "A", 1.0)])
    mpeg = make_dets([("v.mpeg", 0, 10, "A", 1.0)])
    # the 2015 kit strips .mp4, the 2014 kit .mpeg, ActivityNet nothing
    assert aps(gt, mp4) == {"thumos14": 1.0, "thumos14-2014": 0.0, "activitynet": 0.0}
    assert aps(gt, mpeg) == {"thumos14": 0.0, "thumos14-2014": 1.0, "activitynet": 0.0}
    r = evaluate_thumos(gt, mp4, protocol="activitynet", tiou=(0.5,))
    assert r.extra["unknown_videos"] == 1
    assert any("absent from the ground truth" in w for w in r.warnings)


def test_unknown_videos_are_false_positives():
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("zzz", 0, 10, "A", 0.9), ("v", 0, 10, "A", 0.8)])
    # FP TP: k15 1/2; k14 11 points at precision 1/2; anet .5
    assert aps(gt, dets) == pytest.approx(
        {"thumos14": 0.5, "thumos14-2014": 0.5, "activitynet": 0.5}, abs=1e-15
    )


def test_classes_without_detections_or_ground_truth():
    gt = make_gt([("A", "v", 0, 10)], classes=("A", "B", "C"))
    dets = make_dets([("v", 0, 10, "A", 0.9), ("v", 0, 10, "C", 0.9)], classes=("A", "B", "C"))
    for p in PROTOCOLS:
        r = evaluate_thumos(gt, dets, protocol=p, tiou=(0.5,))
        # B and C have no ground truth: AP 0, left out of the mean (mAP = A's AP = 1)
        np.testing.assert_array_equal(r.ap[:, 0], [1.0, 0.0, 0.0])
        assert r.mAP[0] == 1.0
        assert any("no ground-truth instance" in w and "B, C" in w for w in r.warnings)
    gt = make_gt([("A", "v", 0, 10), ("B", "v", 0, 10)])
    dets = make_dets([("v", 0, 10, "A", 0.9)])
    for p in PROTOCOLS:
        r = evaluate_thumos(gt, dets, protocol=p, tiou=(0.5,))
        # B has ground truth but no detection: AP 0 and in the mean
        np.testing.assert_array_equal(r.ap[:, 0], [1.0, 0.0])
        assert r.mAP[0] == 0.5


def test_no_detection_at_all():
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([])
    for p in PROTOCOLS:
        r = evaluate_thumos(gt, dets, protocol=p)
        assert r.ap.shape == (2, 5) and not r.ap.any() and not r.mAP.any()
        assert any("no detection" in w for w in r.warnings)


def test_one_ground_truth_one_detection_each():
    # two detections on one instance: the better-scored one is the hit, the other a false
    # positive; the duplicate of the hit with equal score and equal overlap: the earlier line
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("v", 0, 10, "A", 0.5), ("v", 0, 10, "A", 0.5)])
    for p in PROTOCOLS:
        m = match(gt, dets, 0, ThumosParams.for_protocol(p, (0.5,)))
        status = dict(zip(m.det_index.tolist(), m.status[0].tolist(), strict=True))
        assert status == {0: TP, 1: FP}, p


def test_kit_picks_largest_overlap_then_best_rank():
    # one ground truth [0,10]; detections (file order): [0,6] .9 (overlap .6), [0,9] .1 (.9),
    # [1,10] .5 (.9): the largest overlap wins whatever its score; among the two at .9 the
    # better-ranked one (.5)
    gt = make_gt([("A", "v", 0, 10)])
    dets = make_dets([("v", 0, 6, "A", 0.9), ("v", 0, 9, "A", 0.1), ("v", 1, 10, "A", 0.5)])
    m = match(gt, dets, 0, ThumosParams.for_protocol("thumos14", (0.5,)))
    status = dict(zip(m.det_index.tolist(), m.status[0].tolist(), strict=True))
    assert status == {0: FP, 1: FP, 2: TP}
    # ranked .9 FP, .5 TP, .1 FP -> 1/2
    assert accumulate(m, ThumosParams.for_protocol("thumos14", (0.5,)))[0] == 0.5
    # ActivityNet: the .9 detection ([0,6], tIoU .6 >= .5) comes first and takes it
    assert ap(gt, dets, "activitynet")[0] == 1.0


def test_activitynet_equal_tious_take_the_earlier_ground_truth():
    # detection [5,15] is at tIoU 1/3 from both [0,10] and [10,20]: it takes the earlier one
    gt = make_gt([("A", "v", 0, 10), ("A", "v", 10, 20)])
    dets = make_dets([("v", 5, 15, "A", 0.9), ("v", 0, 10, "A", 0.8)])
    # threshold .3: d1 takes [0,10]; d2 ([0,10], tIoU 1) finds it taken, [10,20] at tIoU 0:
    # TP FP -> .5
    assert ap(gt, dets, "activitynet", (0.3,))[0] == 0.5


def test_eleven_point_recall_points_are_matlabs():
    # npos 10, hits at ranks 1..7 then misses: recall 0.7 exactly at precision 1; MATLAB's
    # 0:0.1:1 holds 0.7 as the double 0.7 (Octave's holds 0.7000000000000001, so Octave would
    # miss it): points 0..0.7 (8 of 11) at precision 1 -> 8/11
    rows = [("A", "v", 10.0 * i, 10.0 * i + 5) for i in range(10)]
    gt = make_gt(rows)
    dets = make_dets([("v", 10.0 * i, 10.0 * i + 5, "A", 1.0 - i / 100) for i in range(7)])
    assert ap(gt, dets, "thumos14-2014")[0] == pytest.approx(8 / 11, abs=1e-15)
    # and recall 0.3 = 3/10 is below MATLAB's 0.30000000000000004: 3 hits reach 3 points only
    dets = make_dets([("v", 10.0 * i, 10.0 * i + 5, "A", 1.0 - i / 100) for i in range(3)])
    assert ap(gt, dets, "thumos14-2014")[0] == pytest.approx(3 / 11, abs=1e-15)


def test_threshold_one_and_zero():
    gt = make_gt([("A", "v", 0, 10)])
    exact = make_dets([("v", 0, 10, "A", 1.0)])
    # overlap 1 is not > 1: the kits never match at 1.0; ActivityNet does (1 >= 1)
    assert aps(gt, exact, tiou=(1.0,)) == {
        "thumos14": 0.0,
        "thumos14-2014": 0.0,
        "activitynet": 1.0,
    }
    far = make_dets([("v", 20, 30, "A", 1.0)])
    # threshold 0: ActivityNet's tIoU 0 >= 0 matches anything in the video; the kits still
    # need a positive overlap
    assert aps(gt, far, tiou=(0.0,)) == {"thumos14": 0.0, "thumos14-2014": 0.0, "activitynet": 1.0}


def test_all_thresholds_in_one_pass_equal_one_at_a_time():
    gt = make_gt(
        [("A", "v", 0, 10), ("A", "v", 12, 20), ("B", "v", 0, 10), ("A", "w", 3, 9)],
        ambiguous={"v": [(30, 40)]},
    )
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(60):
        s = float(rng.uniform(-2, 35))
        rows.append(
            (
                str(rng.choice(["v", "w", "x"])),
                s,
                s + float(rng.uniform(-3, 12)),
                str(rng.choice(["A", "B"])),
                float(np.round(rng.random(), 1)),
            )
        )
    dets = make_dets(rows)
    thr = (0.1, 0.3, 0.5, 0.7)
    for p in PROTOCOLS:
        together = evaluate_thumos(gt, dets, protocol=p, tiou=thr).ap
        alone = np.stack(
            [evaluate_thumos(gt, dets, protocol=p, tiou=(t,)).ap[:, 0] for t in thr], axis=1
        )
        np.testing.assert_array_equal(together, alone)


def test_protocol_params():
    p = ThumosParams.for_protocol("activitynet", "0.1:0.5:0.1")
    assert p.tiou == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert (p.strip, p.ambiguous, p.overlap, p.strictly_greater, p.ap) == (
        "",
        False,
        "iou",
        False,
        "all_points",
    )
    assert ThumosParams.for_protocol("thumos14").strip == ".mp4"
    assert ThumosParams.for_protocol("thumos14-2014").ap == "11point"
    with pytest.raises(ValueError, match="unknown protocol"):
        ThumosParams.for_protocol("thumos15")
