"""compare-explanations end to end on a tiny data folder with a tiny random-init model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from attnviz.errors import AttnvizError
from attnviz.pipeline.compare import compare_explanations, load_compare_data


def test_load_compare_data_reads_the_synth_layout(dataset):
    d = load_compare_data(dataset)
    assert list(d.videos) == ["vid0", "vid1", "vid2"]
    assert d.labels == {"vid0": "Red", "vid1": "Blue", "vid2": "Red"}
    assert d.temporal is not None and len(d.temporal) == 3
    assert d.spatial is not None and set(d.spatial.test_videos) == {"vid0", "vid1", "vid2"}
    small = load_compare_data(dataset, max_videos=2)
    assert list(small.videos) == ["vid0", "vid1"]
    assert len(small.temporal) == 2 and set(small.spatial.videos) == {"vid0", "vid1"}


def test_load_compare_data_errors(tmp_path, dataset):
    with pytest.raises(AttnvizError, match="data folder not found"):
        load_compare_data(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AttnvizError, match="no ground truth found"):
        load_compare_data(tmp_path / "empty")
    with pytest.raises(AttnvizError, match="max_videos"):
        load_compare_data(dataset, max_videos=0)


def test_compare_writes_every_output(dataset, checkpoint, tmp_path):
    out = tmp_path / "cmp"
    s = compare_explanations(
        dataset, out, checkpoint=checkpoint, frames=8, batch=8, ig_steps=4,
        occlusion_spatial_window=8, spatial_steps=4, random_orders=1, sanity_videos=1,
        quiet=True,
    )  # fmt: skip
    for f in ("table.csv", "table.md", "map.csv", "sweep.csv", "curves.csv", "curves.png",
              "sanity.csv", "sanity.png", "maps.png", "summary.json", "index.html",
              "videos/vid0/index.html", "videos/vid0/video.webm"):  # fmt: skip
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    page = (out / "videos" / "vid0" / "index.html").read_text()
    assert all(f'"name":"{m}"' in page for m in ("attention", "gradcam", "occlusion", "ig"))
    table = pd.read_csv(out / "table.csv")
    assert table["method"].tolist() == ["attention", "gradcam", "occlusion", "ig", "random order"]
    loc = table.set_index("method")
    for col in ("frame_mAP@0.3", "video_mAP@0.3", "temporal_mAP@0.3", "pointing", "energy_box",
                "energy_tube", "energy_segment", "deletion_frames", "insertion_cells",
                "rho_mask_all", "seconds_per_clip"):  # fmt: skip
        vals = loc.loc[["attention", "gradcam", "occlusion", "ig"], col]
        assert np.isfinite(vals).all(), col
    for col in ("pointing", "energy_box", "energy_tube", "energy_segment", "frame_mAP@0.3"):
        assert ((loc[col].dropna() >= 0) & (loc[col].dropna() <= 1)).all(), col
    assert np.isfinite(loc.loc["random order", "deletion_frames"])
    assert np.isnan(loc.loc["random order", "pointing"])
    # the attention mask does not depend on the classifier at all: rho 1 after re-initialising it
    assert loc.loc["attention", "rho_mask_top"] == pytest.approx(1.0)
    sweep = pd.read_csv(out / "sweep.csv")
    assert set(sweep["metric"]) == {"frame-mAP@0.3", "temporal mAP@0.3"}
    assert len(sweep) == 4 * 2 * 9
    maps = pd.read_csv(out / "map.csv")
    assert set(maps["metric"]) == {"frame-mAP", "video-mAP", "temporal mAP"}
    sanity = pd.read_csv(out / "sanity.csv")
    assert sanity["stage"].iloc[0] == "classifier" and len(sanity) == 4 * 9
    md = (out / "table.md").read_text()
    assert "| attention |" in md and "| random order |" in md and "**Faithfulness**" in md
    summary = json.loads((out / "summary.json").read_text())
    assert summary["info"]["videos"] == 3 and summary["info"]["clips"] == 3
    assert s["markdown"].strip() == md.strip()


def test_compare_scores_match_the_evaluators_on_saved_maps(dataset, checkpoint, tmp_path):
    """The table's temporal mAP is what eval-thumos gives on the same segments."""
    from attnviz.evaluate.thumos import evaluate_thumos
    from attnviz.io.maps import load_attention
    from attnviz.io.thumos import read_thumos_gt
    from attnviz.localize import segments_from_attention
    from attnviz.models import load_checkpoint, save_checkpoint
    from attnviz.types import TemporalDetections

    # without --frames the clip length is the one the model was trained with (checkpoint meta)
    model, _ = load_checkpoint(checkpoint)
    ckpt = save_checkpoint(tmp_path / "meta.pt", model, extra={"meta": {"frames": 7}})
    out = tmp_path / "cmp2"
    compare_explanations(
        dataset, out, checkpoint=ckpt, methods=["gradcam"], sanity_videos=0,
        spatial_steps=2, random_orders=1, save_maps=True, quiet=True,
    )  # fmt: skip
    outs = [load_attention(out / "maps" / "gradcam" / f"vid{i}.npz") for i in range(3)]
    assert all(o.num_frames == 7 for o in outs)
    segs = [s for o in outs for s in segments_from_attention(o)]
    gt = read_thumos_gt(dataset / "annotations", subset="test", classes=dataset / "classes.txt")
    dets = TemporalDetections.from_arrays(
        [s.video for s in segs], [s.start for s in segs], [s.end for s in segs],
        [s.label for s in segs], [s.score for s in segs],
    )  # fmt: skip
    ref = evaluate_thumos(gt, dets, tiou=(0.3,)).mAP[0]
    table = pd.read_csv(out / "table.csv").set_index("method")
    assert table.loc["gradcam", "temporal_mAP@0.3"] == pytest.approx(ref)
    assert not (out / "sanity.png").exists()


def test_compare_rejects_a_model_of_other_classes(dataset, tmp_path, tiny_model):
    from attnviz.models import save_checkpoint

    ckpt = save_checkpoint(tmp_path / "other.pt", tiny_model(classes=3))
    with pytest.raises(AttnvizError, match="share no name"):
        compare_explanations(dataset, tmp_path / "o", checkpoint=ckpt, quiet=True)
    assert not (tmp_path / "o" / "table.csv").exists()


def test_map_is_over_classes_present_in_the_compared_videos():
    from attnviz.pipeline.compare import _at
    from attnviz.types import EvalResult

    r = EvalResult(
        metric="frame", protocol="act", thresholds=(0.3, 0.5), class_names=("a", "b", "c"),
        ap=np.array([[1.0, 0.5], [0.0, 0.0], [0.5, 0.25]]), mAP=np.array([0.5, 0.25]),
        extra={"npos": {"a": 3, "b": 0, "c": 1}},
    )  # fmt: skip
    assert _at(r, 0.3) == pytest.approx(0.75) and _at(r, 0.5) == pytest.approx(0.375)
    assert np.isnan(_at(r, 0.1))
