"""Hand-computed cases for every rule where the frame-mAP and video-mAP protocols differ.

Each case is small enough to work out on paper; the comment above each assertion gives the
arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest
from ucf24_helpers import dets, make_gt, tube

from attnviz.evaluate.ucf24 import (
    accumulate,
    frame_map,
    frame_status,
    match_frames,
    tube_status,
    video_map,
)

V = "A/v1"
W = "A/v2"


def fmap(gt, d, protocol, iou):
    return frame_map(gt, d, protocol=protocol, iou=[iou])


# --------------------------------------------------------------------------- frame-mAP
def test_plus_one_pixel_convention():
    # GT [0, 0, 9, 9]; detection [0, 0, 4, 9].
    # +1 (act, voc): overlap 5 x 10 = 50, areas 100 and 50 -> IoU 50 / 100 = 0.5 -> TP at 0.5.
    # plain (coco): overlap 4 x 9 = 36, areas 81 and 36 -> IoU 36 / 81 = 0.444 -> FP at 0.5.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    d = dets([(V, 1, 0, 0.9, 0, 0, 4, 9)])
    assert fmap(gt, d, "act", 0.5).ap[0, 0] == pytest.approx(1.0, abs=1e-7)
    assert fmap(gt, d, "voc", 0.5).ap[0, 0] == 1.0
    assert fmap(gt, d, "coco", 0.5).ap[0, 0] == 0.0
    assert fmap(gt, d, "coco", 0.44).ap[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_taken_ground_truth_is_not_reassigned_under_voc():
    # Two GT boxes on one frame: G1 [0,0,9,9], G2 [4,0,13,9]. D1 = G1 (score .9); D2 [1,0,10,9]
    # (score .8) has +1 IoU 90/110 = 0.818 with G1 and 70/130 = 0.538 with G2.
    # act: D1 -> G1; D2 -> best still-free GT = G2, 0.538 >= 0.5: TP. AP 1.
    # voc: D2 takes the best GT of the frame, G1, already taken: FP. P = [1, .5], R = [.5, .5]
    #      -> every-point AP = 0.5 * 1 = 0.5.
    # coco (plain IoU): D2 vs G1 72/90 = 0.8 (taken), vs G2 54/108 = 0.5 >= 0.5: TP. AP 1.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]]), (0, 1, [[4, 0, 13, 9]])]})
    d = dets([(V, 1, 0, 0.9, 0, 0, 9, 9), (V, 1, 0, 0.8, 1, 0, 10, 9)])
    assert fmap(gt, d, "act", 0.5).ap[0, 0] == pytest.approx(1.0, abs=1e-7)
    assert fmap(gt, d, "voc", 0.5).ap[0, 0] == pytest.approx(0.5, abs=1e-15)
    assert fmap(gt, d, "coco", 0.5).ap[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_ap_rules_trapezoid_every_point_and_101_point():
    # Two frames with one GT each, ranked TP (frame 1), FP (frame 3, no GT there), TP (frame 2).
    # P = [1, 1/2, 2/3], R = [1/2, 1/2, 1].
    # act, trapezoid from (0, 1): 1/2 * (1 + 1)/2 + 0 + 1/2 * (1/2 + 2/3)/2 = 0.5 + 0.291667.
    # voc, every point: 1/2 * 1 + 1/2 * 2/3 = 0.833333.
    # coco: 51 recall points <= 0.5 at precision 1, 50 above at 2/3 (tp / (tp + fp + eps)).
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9], [0, 0, 9, 9]])]})
    d = dets([(V, 1, 0, 0.9, 0, 0, 9, 9), (V, 3, 0, 0.8, 0, 0, 9, 9), (V, 2, 0, 0.7, 0, 0, 9, 9)])
    eps = np.spacing(1)
    assert fmap(gt, d, "act", 0.5).ap[0, 0] == pytest.approx(0.5 + 7 / 24, abs=1e-7)
    assert fmap(gt, d, "voc", 0.5).ap[0, 0] == pytest.approx(0.5 + 1 / 3, abs=1e-15)
    coco = (51 * (1 / (1 + eps)) + 50 * (2 / (3 + eps))) / 101
    assert fmap(gt, d, "coco", 0.5).ap[0, 0] == pytest.approx(coco, abs=1e-15)


def test_equal_scores_order_by_protocol():
    # Equal scores, file order: an FP on frame 2, then the TP on frame 1.
    # act keeps file order: P = [0, 1/2], R = [0, 1] -> trapezoid (0 + 1/2)/2 = 0.25.
    # voc orders ties by image name (A_v1_00001 < A_v1_00002), coco by image id: TP first, AP 1.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    d = dets([(V, 2, 0, 0.5, 0, 0, 9, 9), (V, 1, 0, 0.5, 0, 0, 9, 9)])
    assert fmap(gt, d, "act", 0.5).ap[0, 0] == pytest.approx(0.25, abs=1e-7)
    assert fmap(gt, d, "voc", 0.5).ap[0, 0] == 1.0
    assert fmap(gt, d, "coco", 0.5).ap[0, 0] == pytest.approx(1.0, abs=1e-12)
    # the order act uses is the ranked order match_frames returns
    order, tp, npos = match_frames(gt, d, 0, [0.5], "act")
    assert order.tolist() == [0, 1] and tp.tolist() == [[False, True]] and npos == 1
    order, _, _ = match_frames(gt, d, 0, [0.5], "voc")
    assert order.tolist() == [1, 0]


def test_voc_boxes_apart_by_a_fraction_of_a_pixel_do_not_overlap():
    # GT [0,0,9,9], detection [9.5,0,19,9]: act counts pixel column 9 as shared, overlap
    # (10 - 9.5) * 10 = 5 over 100 + 95 - 5 = 190 -> 0.0263; voc: x1 9.5 > GT x2 9 -> IoU 0.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    d = dets([(V, 1, 0, 0.9, 9.5, 0, 19, 9)])
    assert fmap(gt, d, "act", 0.02).ap[0, 0] == pytest.approx(1.0, abs=1e-7)
    assert fmap(gt, d, "act", 0.03).ap[0, 0] == 0.0
    assert fmap(gt, d, "voc", 0.02).ap[0, 0] == 0.0


def test_coco_keeps_100_detections_per_frame_and_class():
    # 100 misplaced detections above the one that is right: act and voc rank the right one 101st
    # (act: trapezoid (0 + 1/101)/2 over recall 0 -> 1; voc: 1/101); coco never sees it: AP 0.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    rows = [(V, 1, 0, 1.0 - k * 1e-3, 100, 100, 120, 120) for k in range(100)]
    rows.append((V, 1, 0, 0.5, 0, 0, 9, 9))
    d = dets(rows)
    assert fmap(gt, d, "act", 0.5).ap[0, 0] == pytest.approx(0.5 / 101, abs=1e-7)
    assert fmap(gt, d, "voc", 0.5).ap[0, 0] == pytest.approx(1 / 101, abs=1e-15)
    assert fmap(gt, d, "coco", 0.5).ap[0, 0] == 0.0
    order, tp, _ = match_frames(gt, d, 0, [0.5], "coco")
    assert len(order) == 100 and not tp.any()
    assert frame_status(gt, d, protocol="coco", iou=[0.5])[0].sum() == 0


def test_coco_limit_applies_to_frames_without_ground_truth_too():
    # 150 detections on frame 2 (no ground truth there) above the right one on frame 1: COCO
    # keeps 100 of them, so the TP comes 101st: precision 1/101 at recall 1 on all 101 points.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    rows = [(V, 2, 0, 1.0 - k * 1e-3, 100, 100, 120, 120) for k in range(150)]
    rows.append((V, 1, 0, 0.5, 0, 0, 9, 9))
    coco = fmap(gt, dets(rows), "coco", 0.5).ap[0, 0]
    assert coco == pytest.approx(1 / (101 + np.spacing(1)), abs=1e-15)
    assert fmap(gt, dets(rows), "voc", 0.5).ap[0, 0] == pytest.approx(1 / 151, abs=1e-15)


def test_coco_takes_the_later_ground_truth_on_equal_iou():
    # G1 [0,0,9,9], G2 [10,0,19,9]; D1 [5,0,14,9] overlaps both equally (plain 36/126, +1 50/150);
    # D2 = G1 scores lower. At 0.25: act and voc give D1 the first GT, G1, so D2 (IoU 1 with G1,
    # 0 with G2) is an FP: AP 0.5. coco gives D1 the later GT, G2, and D2 gets G1: AP 1.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]]), (0, 1, [[10, 0, 19, 9]])]})
    d = dets([(V, 1, 0, 0.9, 5, 0, 14, 9), (V, 1, 0, 0.8, 0, 0, 9, 9)])
    assert fmap(gt, d, "act", 0.25).ap[0, 0] == pytest.approx(0.5, abs=1e-7)
    assert fmap(gt, d, "voc", 0.25).ap[0, 0] == pytest.approx(0.5, abs=1e-15)
    assert fmap(gt, d, "coco", 0.25).ap[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_threshold_is_inclusive_for_frames():
    # IoU exactly 0.5 (+1: 50 / 100) is a TP at 0.5 under act and voc; plain IoU exactly 0.5
    # ([0,0,10,10] vs [0,0,5,10]: 50 / 100) is a TP at 0.5 under coco.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    d = dets([(V, 1, 0, 0.9, 0, 0, 4, 9)])
    assert frame_status(gt, d, protocol="act", iou=[0.5]).tolist() == [[True]]
    gt2 = make_gt({V: [(0, 1, [[0, 0, 10, 10]])]})
    d2 = dets([(V, 1, 0, 0.9, 0, 0, 5, 10)])
    assert frame_status(gt2, d2, protocol="coco", iou=[0.5]).tolist() == [[True]]


def test_classes_without_ground_truth_in_the_mean():
    # Labels a, b, c; only class a has ground truth and it is found. act averages all labels:
    # (1 + 0 + 0) / 3; voc and coco average the classes that have ground truth: 1.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    d = dets([(V, 1, 0, 0.9, 0, 0, 9, 9), (V, 1, 1, 0.8, 0, 0, 9, 9)])
    act = fmap(gt, d, "act", 0.5)
    assert act.mAP[0] == pytest.approx(1 / 3, abs=1e-7)
    assert act.ap[1, 0] == 0.0 and any("no ground truth" in w for w in act.warnings)
    assert fmap(gt, d, "voc", 0.5).mAP[0] == 1.0
    assert fmap(gt, d, "coco", 0.5).mAP[0] == pytest.approx(1.0, abs=1e-12)


def test_detections_on_frames_without_ground_truth_are_false_positives():
    # One TP and one detection on a frame (5) that has no box: P = [1, 1/2], R = [1, 1].
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    d = dets([(V, 5, 0, 0.4, 0, 0, 9, 9), (V, 1, 0, 0.9, 0, 0, 9, 9)])
    for p in ("act", "voc", "coco"):
        order, tp, npos = match_frames(gt, d, 0, [0.5], p)
        assert order.tolist() == [1, 0] and tp.tolist() == [[True, False]] and npos == 1


def test_all_thresholds_in_one_pass_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    gt = make_gt({V: [(0, 1, [[10, 10, 40, 40]] * 8), (1, 3, [[50, 50, 90, 80]] * 5)]})
    rows = []
    for _ in range(60):
        f = int(rng.integers(1, 10))
        x, y = rng.uniform(0, 60, 2)
        rows.append((V, f, int(rng.integers(0, 2)), float(rng.random()), x, y, x + 30, y + 30))
    d = dets(rows)
    thr = [0.1, 0.3, 0.5, 0.7]
    for p in ("act", "voc", "coco"):
        together = frame_map(gt, d, protocol=p, iou=thr).ap
        apart = np.column_stack([frame_map(gt, d, protocol=p, iou=[t]).ap[:, 0] for t in thr])
        assert np.array_equal(together, apart)
        _, tp, n = match_frames(gt, d, 0, thr, p)
        assert np.array_equal(accumulate("frame", p, tp, n), together[0])


# --------------------------------------------------------------------------- video-mAP
def test_tubes_sharing_one_frame():
    # GT frames 1..5, detection frames 5..9 with the same box: act's iou3dt counts the shared
    # frame: 1/9 * 1 = 0.111 -> TP at 0.1; YOWO and the MATLAB code need two shared frames: 0.
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]] * 5)]})
    t = [tube(V, 0, 0.9, 5, ([0, 0, 9, 9], 5))]
    assert video_map(gt, t, protocol="act", iou=[0.1]).ap[0, 0] == pytest.approx(1.0, abs=1e-7)
    assert video_map(gt, t, protocol="voc", iou=[0.1]).ap[0, 0] == 0.0
    assert video_map(gt, t, protocol="ucf24-matlab", iou=[0.1]).ap[0, 0] == 0.0


def test_threshold_is_strict_only_in_the_matlab_code():
    # GT frames 1..4, detection frames 1..8, same boxes: temporal IoU 4/8, spatial 1 -> 0.5.
    # act and voc: 0.5 >= 0.5, TP; the MATLAB code needs IoU > 0.5: FP. For the MATLAB code
    # the detection is written as ROAD writes it (0-based: x - 1, y - 1, x2 - 2, y2 - 2), so
    # that its +1 gives back the GT rectangle.
    gt = make_gt({V: [(0, 1, [[10, 10, 29, 29]] * 4)]})
    t = [tube(V, 0, 0.9, 1, ([10, 10, 29, 29], 8))]
    t0 = [tube(V, 0, 0.9, 1, ([9, 9, 27, 27], 8))]
    assert tube_status(gt, t, protocol="act", iou=[0.5]).tolist() == [[True]]
    assert tube_status(gt, t, protocol="voc", iou=[0.5]).tolist() == [[True]]
    assert tube_status(gt, t0, protocol="ucf24-matlab", iou=[0.5]).tolist() == [[False]]
    assert tube_status(gt, t0, protocol="ucf24-matlab", iou=[0.49]).tolist() == [[True]]


def test_matlab_adds_one_to_the_detection_x_y_w_h():
    # GT [x y w h] = [10 10 4 4] (x2 = 14). The same box as a detection becomes [11 11 5 5]:
    # intersection 3 x 3 = 9, union 16 + 25 - 9 = 32 -> IoU 0.28125 (act: 1).
    gt = make_gt({V: [(0, 1, [[10, 10, 14, 14]] * 3)]})
    t = [tube(V, 0, 0.9, 1, ([10, 10, 14, 14], 3))]
    assert tube_status(gt, t, protocol="ucf24-matlab", iou=[0.28, 0.29]).tolist() == [
        [True],
        [False],
    ]
    assert tube_status(gt, t, protocol="act", iou=[0.99]).tolist() == [[True]]


def test_act_nms_removes_a_true_positive():
    # GT frames 1..10. D1 (0.9) is shifted: IoU 0.4 with GT and with D2 (> 0.3); D2 (0.8) = GT.
    # act: 3D NMS keeps D1 only -> FP at 0.5, AP 0. Without NMS (--tube-nms none): D1 FP, D2 TP
    # -> trapezoid (0 + 1/2)/2 = 0.25. voc (never NMS): every-point 1/2 * R_max,
    # R_max = 1 / (1 + 1e-5).
    box = [0, 0, 9, 9]
    gt = make_gt({V: [(0, 1, [box] * 10)]})
    shifted = [4, 0, 13, 9]  # +1 IoU with box: overlap 6 x 10 = 60, union 140 -> 0.43
    ts = [tube(V, 0, 0.9, 1, (shifted, 10)), tube(V, 0, 0.8, 1, (box, 10))]
    assert video_map(gt, ts, protocol="act", iou=[0.5]).ap[0, 0] == 0.0
    r = video_map(gt, ts, protocol="act", iou=[0.5], tube_nms=None)
    assert r.ap[0, 0] == pytest.approx(0.25, abs=1e-7)
    assert video_map(gt, ts, protocol="voc", iou=[0.5]).ap[0, 0] == pytest.approx(
        0.5 / (1 + 1e-5), abs=1e-7
    )
    assert tube_status(gt, ts, protocol="act", iou=[0.5]).tolist() == [[False, False]]


def test_yowo_recall_epsilon():
    # One perfect tube for one GT tube: act AP 1; YOWO recall 1 / (1 + 1e-5) (float32).
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]] * 4)]})
    t = [tube(V, 0, 0.9, 1, ([0, 0, 9, 9], 4))]
    assert video_map(gt, t, protocol="act", iou=[0.5]).ap[0, 0] == pytest.approx(1.0, abs=1e-7)
    yowo = float(np.float32(1 / (1 + 1e-5)))
    assert video_map(gt, t, protocol="voc", iou=[0.5]).ap[0, 0] == yowo


def test_matlab_ties_follow_single_precision_then_split_order():
    # Two videos in split order v1, v2; v1 has a GT tube of class 0, v2 one of class 1.
    # The file lists first an FP in v2 (score 0.5 + 1e-12) then the TP in v1 (score 0.5):
    # different doubles, equal singles. MATLAB sorts the single-precision scores stably over
    # videos in split order: TP first, P = [1, 1/2], R = [1, 1] -> AP 1. act ranks by the
    # double: FP first -> trapezoid (0 + 1/2)/2 = 0.25 (the v1 tube [-1,-1,7,7] is ROAD's
    # 0-based form of the GT box: MATLAB IoU 1, act IoU 64/117 = 0.547).
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]] * 4)], W: [(1, 1, [[0, 0, 9, 9]] * 4)]})
    ts = [tube(W, 0, 0.5 + 1e-12, 1, ([0, 0, 9, 9], 4)), tube(V, 0, 0.5, 1, ([-1, -1, 7, 7], 4))]
    assert video_map(gt, ts, protocol="ucf24-matlab", iou=[0.5]).ap[0, 0] == 1.0
    assert video_map(gt, ts, protocol="act", iou=[0.5]).ap[0, 0] == pytest.approx(0.25, abs=1e-7)


def test_video_positives_count_every_video_of_the_split():
    # Two GT tubes of class 0 in two videos; only v1 has a (perfect) detection: recall 1/2 under
    # every protocol, also the MATLAB code (its positives are the GT tubes of the whole test
    # list, not of the videos the detections cover).
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]] * 4)], W: [(0, 1, [[0, 0, 9, 9]] * 4)]})
    t = [tube(V, 0, 0.9, 1, ([0, 0, 9, 9], 4))]
    t0 = [tube(V, 0, 0.9, 1, ([-1, -1, 7, 7], 4))]
    assert video_map(gt, t, protocol="act", iou=[0.5]).ap[0, 0] == pytest.approx(0.5, abs=1e-7)
    assert video_map(gt, t0, protocol="ucf24-matlab", iou=[0.5]).ap[0, 0] == 0.5
    yowo = float(np.float32(1 / (2 + 1e-5)))  # YOWO: recall 1 / (npos + 1e-5)
    assert video_map(gt, t, protocol="voc", iou=[0.5]).ap[0, 0] == yowo


def test_video_classes_without_ground_truth_count_zero_in_every_mean():
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]] * 4)]})
    t = [tube(V, 0, 0.9, 1, ([0, 0, 9, 9], 4))]
    for p in ("act", "voc"):
        r = video_map(gt, t, protocol=p, iou=[0.5])
        assert r.mAP[0] == pytest.approx(r.ap[0, 0] / 3)


def test_empty_input_is_valid_and_warns():
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]])]})
    for p in ("act", "voc", "coco"):
        r = frame_map(gt, dets([]), protocol=p, iou=[0.5])
        assert r.ap.sum() == 0 and any("no detection" in w for w in r.warnings)
    for p in ("act", "voc", "ucf24-matlab"):
        r = video_map(gt, [], protocol=p, iou=[0.5])
        assert r.ap.sum() == 0 and any("no tube" in w for w in r.warnings)


def test_evaluator_imports_no_torch_cv2_matplotlib_and_prints_nothing(capsys):
    import subprocess
    import sys

    code = (
        "import sys, attnviz.evaluate.ucf24, attnviz.ops.boxes, attnviz.ops.tubes, "
        "attnviz.ops.ap;"
        "print(','.join(m for m in ('torch', 'cv2', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    gt = make_gt({V: [(0, 1, [[0, 0, 9, 9]] * 3)]})
    frame_map(gt, dets([(V, 1, 0, 0.9, 0, 0, 9, 9), (V, 9, 1, 0.5, 0, 0, 9, 9)]), protocol="voc")
    video_map(gt, [tube(V, 0, 0.9, 1, ([0, 0, 9, 9], 3))], protocol="act")
    assert capsys.readouterr() == ("", "")
