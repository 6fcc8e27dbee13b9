"""Issue 22, point 9: a small public API at the top, an argument order that cannot be swapped
silently, a documented load_checkpoint, and an API reference that builds with warnings as
errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import attnviz
from attnviz.types import AttentionOutput, Segment

REPO = Path(__file__).resolve().parents[2]


def _out():
    return AttentionOutput(
        frame_indices=np.array([1, 11, 21, 31]),
        timestamps=np.array([0.0, 1.0, 2.0, 3.0]),
        frame_size=(90, 90),
        mask=np.full((4, 3, 3), 0.9, dtype=np.float32),
        temporal=np.full((4, 4), 0.25, dtype=np.float32),
        frame_importance=np.array([0.1, 0.8, 0.9, 0.1], dtype=np.float32),
        scores=np.array([0.1, 0.9], dtype=np.float32),
        class_names=("Walk", "Jump"),
        video="v1",
        fps=10.0,
    )


def test_top_level_api_explain_localize_evaluate(tmp_path):
    for name in ("explain_video", "localize", "evaluate", "build_recognizer", "save_checkpoint",
                 "load_checkpoint", "load_attention", "save_attention"):  # fmt: skip
        assert name in attnviz.__all__ and getattr(attnviz, name) is not None
    found = attnviz.localize(_out())
    assert [(s.start, s.end) for s in found.segments] == [(0.5, 2.5)]
    assert found.tubes
    assert len(attnviz.localize(_out(), frame_boxes="sampled").boxes) == 4
    # boxes interpolated on every frame between two sampled frames that both have one
    frames = sorted(b.frame for b in found.boxes)
    assert frames == list(range(frames[0], frames[-1] + 1)) and len(frames) > 4
    assert attnviz.localize(_out(), threshold=0.95).segments[0].start == 1.5
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"database": {"v1": {"subset": "test", "annotations": [
        {"segment": [0.5, 2.5], "label": "Jump"}]}}}))  # fmt: skip
    (tmp_path / "classes.txt").write_text("1 Walk\n2 Jump\n")
    result = attnviz.evaluate.thumos14(
        gt, found.segments, class_names=("Walk", "Jump"), classes=tmp_path / "classes.txt"
    )
    np.testing.assert_allclose(result.mAP, 1.0)
    assert isinstance(found.segments[0], Segment)


def test_explain_video_at_the_top():
    out = attnviz.explain_video(REPO / "assets" / "demo.mp4", frames=3, quiet=True)
    assert out.mask.shape[0] == 3 and len(out.class_names) == len(out.scores)


def test_save_checkpoint_refuses_torch_save_order(tmp_path):
    model = attnviz.build_recognizer("resnet18", 2, random_init=True, input_size=32,
                                     backbone_stage=1, hidden_channels=4, spatial_widths=(4, 2),
                                     energy_dim=4)  # fmt: skip
    with pytest.raises(TypeError, match="the path comes first"):
        attnviz.save_checkpoint(model, tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())
    attnviz.save_checkpoint(tmp_path / "m.pt", model)
    back, info = attnviz.load_checkpoint(tmp_path / "m.pt")
    assert set(info) == {"config", "class_names", "epoch", "extra", "optimizer"}
    doc = attnviz.load_checkpoint.__doc__
    assert all(k in doc for k in ("config", "class_names", "epoch", "extra", "optimizer"))


def test_api_reference_builds_strict(tmp_path):
    pytest.importorskip("mkdocstrings")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "explain_video" in page and "thumos14" in page and "load_checkpoint" in page
