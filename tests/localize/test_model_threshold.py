"""A model carries the threshold it was built for: the maps it makes carry it, every rule uses
it when none is given, an explicit threshold still wins, and maps without one keep the paper's
0.5."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attnviz.errors import AttnvizError
from attnviz.io.maps import load_attention, save_attention
from attnviz.localize import (
    PAPER_THRESHOLD,
    LocalizeParams,
    boxes_from_attention,
    localize,
    segments_from_attention,
    tubes_from_attention,
)
from attnviz.models import build_recognizer, load_checkpoint, save_checkpoint
from attnviz.models.checkpoint import localize_threshold
from attnviz.types import AttentionOutput


def _maps(threshold=None) -> AttentionOutput:
    """Faint masks (0.3 on a 2x2 block, 0.1 elsewhere): a box at 0.25, none at 0.5; an
    importance bump whose segment is wider at 0.25 than at 0.5."""
    t = 8
    mask = np.full((t, 4, 4), 0.1, dtype=np.float32)
    mask[:, 1:3, 1:3] = 0.3
    imp = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 0.6, 0.3, 0.0], dtype=np.float32)
    w = np.tile(imp / imp.sum(), (t, 1)).astype(np.float32)
    return AttentionOutput(
        frame_indices=np.arange(1, t + 1) * 2,
        timestamps=np.arange(t) * 0.5,
        frame_size=(40, 40),
        mask=mask,
        temporal=w,
        frame_importance=w.mean(axis=0),
        scores=np.array([0.9, 0.1], dtype=np.float32),
        class_names=("a", "b"),
        video="v",
        fps=4.0,
        threshold=threshold,
    )


def test_an_unset_threshold_is_the_maps_own_else_the_papers():
    assert LocalizeParams().threshold is None
    assert LocalizeParams().threshold_value == PAPER_THRESHOLD == 0.5
    assert LocalizeParams().for_output(_maps()).threshold == 0.5
    assert LocalizeParams().for_output(_maps(0.25)).threshold == 0.25
    assert LocalizeParams(threshold=0.7).for_output(_maps(0.25)).threshold == 0.7
    with pytest.raises(ValueError, match="threshold"):
        _maps(1.5)


def test_boxes_segments_and_tubes_follow_the_carried_threshold():
    own, plain = _maps(0.25), _maps()
    at = LocalizeParams(threshold=0.25)
    assert boxes_from_attention(own) == boxes_from_attention(plain, at)
    assert segments_from_attention(own) == segments_from_attention(plain, at)
    tubes = (tubes_from_attention(own), tubes_from_attention(plain, at))
    assert len(tubes[0]) == len(tubes[1]) == 1
    assert tubes[0][0].score == tubes[1][0].score
    np.testing.assert_array_equal(tubes[0][0].boxes, tubes[1][0].boxes)
    assert localize(own).boxes == localize(plain, at).boxes
    # the carried threshold changes the answer: nothing above 0.5 in these masks
    assert boxes_from_attention(plain) == []
    assert len(boxes_from_attention(own)) > 0
    assert segments_from_attention(own)[0].end - segments_from_attention(own)[0].start > (
        segments_from_attention(plain)[0].end - segments_from_attention(plain)[0].start
    )
    # an explicit threshold wins over the carried one
    assert boxes_from_attention(own, LocalizeParams(threshold=0.5)) == []


def test_maps_files_keep_the_threshold(tmp_path):
    save_attention(tmp_path / "a.npz", _maps(0.25))
    save_attention(tmp_path / "b.npz", _maps())
    assert load_attention(tmp_path / "a.npz").threshold == 0.25
    assert load_attention(tmp_path / "b.npz").threshold is None


def test_the_checkpoint_carries_the_threshold_to_the_model(tmp_path):
    m = build_recognizer("resnet18", 2, random_init=True, backbone_stage=1, hidden_channels=4,
                         kernel=1, spatial_widths=(4, 4), energy_dim=4, input_size=32)  # fmt: skip
    save_checkpoint(tmp_path / "plain.pt", m)
    save_checkpoint(tmp_path / "own.pt", m, extra={"meta": {"localize": {"threshold": 0.25}}})
    assert load_checkpoint(tmp_path / "plain.pt")[0].localize_threshold is None
    assert load_checkpoint(tmp_path / "own.pt")[0].localize_threshold == 0.25
    save_checkpoint(tmp_path / "bad.pt", m, extra={"meta": {"localize": {"threshold": 2.0}}})
    with pytest.raises(AttnvizError, match=r"bad\.pt: localize\.threshold"):
        load_checkpoint(tmp_path / "bad.pt")
    assert localize_threshold({"localize": {"threshold": 0.3}}) == 0.3
    assert localize_threshold({"localize": {}}) is None


def test_the_explain_pipeline_puts_the_models_threshold_on_its_maps(tmp_path):
    """``spatial-map`` without ``--threshold`` on a model built for 0.25 writes the boxes that
    an explicit ``--threshold 0.25`` writes, and its maps.npz carries 0.25."""
    import csv
    from pathlib import Path

    from attnviz.pipeline.explain import spatial_map

    torch.manual_seed(0)
    m = build_recognizer("resnet18", 2, random_init=True, backbone_stage=1, hidden_channels=4,
                         kernel=1, spatial_widths=(4, 4), energy_dim=4, input_size=32)  # fmt: skip
    video = Path(__file__).resolve().parents[2] / "assets" / "demo.mp4"
    m.localize_threshold = 0.25
    own = spatial_map(video, tmp_path / "own", model=m.eval(), frames=6, quiet=True, html=False)
    m.localize_threshold = None
    given = spatial_map(video, tmp_path / "given", model=m, frames=6, threshold=0.25, quiet=True,
                        html=False)  # fmt: skip
    assert own["boxes"] == given["boxes"]
    rows = [list(csv.reader(open(tmp_path / d / "boxes.csv"))) for d in ("own", "given")]
    assert rows[0] == rows[1]
    assert load_attention(tmp_path / "own" / "maps.npz").threshold == 0.25
    assert load_attention(tmp_path / "given" / "maps.npz").threshold is None
