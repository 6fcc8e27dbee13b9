"""Issue 22, point 6: classes without ground truth are printed as not scored (with the reason),
not as 0.00 beside a mean that leaves them out; PR-curve legends say the same."""

from __future__ import annotations

import numpy as np

from attnviz.evaluate import thumos14
from attnviz.render.figures import plot_pr_curves
from attnviz.report import format_result
from attnviz.types import TemporalDetections


def _result(tmp_path):
    (tmp_path / "classes.txt").write_text("1 A\n2 B\n3 C\n")
    gt = tmp_path / "gt.json"
    gt.write_text('{"database": {"v": {"subset": "test", "annotations": '
                  '[{"segment": [1.0, 3.0], "label": "A"}]}}}')  # fmt: skip
    dets = TemporalDetections.from_arrays(["v", "v"], [1.0, 5.0], [3.0, 6.0], [0, 1], [0.9, 0.8])
    return thumos14(gt, dets, classes=tmp_path / "classes.txt", tiou=[0.5])


def test_per_class_table_says_not_scored(tmp_path):
    r = _result(tmp_path)
    assert r.not_scored == ("B", "C")
    np.testing.assert_allclose(r.mAP, [1.0])
    table = format_result(r, "table", per_class=True)
    rows = {ln.split("|")[0].strip(): ln for ln in table.splitlines()}
    assert "100.00" in rows["A"] and "not scored" in rows["B"] and "0.00" not in rows["B"]
    assert "2 of 3 classes have no ground truth" in table
    md = format_result(r, "markdown", per_class=True)
    assert "| B | not scored |" in md and "no ground truth" in md


def test_pr_legend_says_not_scored(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from attnviz.evaluate.thumos import evaluate_thumos
    from attnviz.io.thumos import read_thumos_gt
    from attnviz.pipeline.figures import pr_curves

    _result(tmp_path)  # writes the files
    gt = read_thumos_gt(tmp_path / "gt.json", classes=tmp_path / "classes.txt")
    dets = TemporalDetections.from_arrays(["v", "v"], [1.0, 5.0], [3.0, 6.0], [0, 1], [0.9, 0.8])
    r = evaluate_thumos(gt, dets, tiou=[0.5], keep_matches=True)
    curves = pr_curves(r, 0.5)
    fig, ax = plot_pr_curves(curves)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "B (not scored)" in labels and any(lbl.startswith("A (AP 100.0") for lbl in labels)
    assert not any("AP 0.0" in lbl for lbl in labels)
    plt.close(fig)
