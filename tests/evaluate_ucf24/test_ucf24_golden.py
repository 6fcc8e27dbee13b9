"""Golden numbers from the reference code itself (see ``data/README.md``): attnviz reads the
same detection files and must give every per-class AP to 1e-6 (pycocotools' to 1e-9)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ucf24_helpers import HERE, subset

from attnviz.evaluate.ucf24 import frame_map, video_map
from attnviz.io.detections import read_frame_detections, read_tubes
from attnviz.io.spatial_gt import read_spatial_gt

GOLDEN = json.loads((HERE / "golden.json").read_text())
CASES = [
    (case, key)
    for case in ("synthetic", "ucf", "jhmdb")
    for key in GOLDEN[case]["AP"]
]  # fmt: skip


@pytest.fixture(scope="module")
def synthetic_gt():
    return read_spatial_gt(HERE / "synthetic_gt.json")


@pytest.mark.parametrize("case, key", CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_golden(case, key, request):
    spec = GOLDEN[case]
    fixture = {"synthetic": "synthetic_gt", "ucf": "ucf_gt", "jhmdb": "jhmdb_gt"}[case]
    gt = subset(request.getfixturevalue(fixture), spec["videos"])
    which, protocol = key.split("/")
    path = HERE / spec["files"][which]
    ref = np.array([[np.nan if x is None else x for x in row] for row in spec["AP"][key]])
    if which.startswith("frames"):
        dets = read_frame_detections(path, gt)
        assert len(dets) == spec["counts"][which]
        r = frame_map(gt, dets, protocol=protocol, iou=spec["iou"])
    else:
        tubes = read_tubes(path, gt)
        assert len(tubes) == spec["counts"][which]
        r = video_map(gt, tubes, protocol=protocol, iou=spec["iou"])
    tol = 1e-9 if protocol == "coco" else 1e-6
    known = ~np.isnan(ref)
    assert known.any(axis=0).all()
    np.testing.assert_allclose(r.ap[known], ref[known], rtol=0, atol=tol)
    # the classes the reference leaves out (no ground truth) are out of attnviz's mean too
    mean = np.array([ref[known[:, j], j].mean() for j in range(ref.shape[1])])
    np.testing.assert_allclose(r.mAP, mean, rtol=0, atol=tol)
