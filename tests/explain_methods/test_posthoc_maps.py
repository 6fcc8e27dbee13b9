"""Post-hoc maps on a tiny random-init model: equal to captum on the real layers, valid
AttentionOutputs for every method, exact occlusion drops, randomisation that touches only what
it should."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam, LayerIntegratedGradients

from attnviz.data.transforms import preprocess
from attnviz.errors import AttnvizError
from attnviz.explain import (
    METHODS,
    GradCAMExplainer,
    IGExplainer,
    OcclusionExplainer,
    blur_frames,
    cascading_randomization,
    explain_frames,
    make_explainer,
    parse_methods,
    prepare_clip,
    spatial_scorer,
    stage_modules,
    temporal_scorer,
)
from attnviz.localize import boxes_from_attention, segments_from_attention, tubes_from_attention


def test_gradcam_equals_captum_layer_gradcam_on_the_last_block(model, frames):
    clip = prepare_clip(model, frames, target=1)
    cam, imp = GradCAMExplainer(model).attribute(clip)
    x = preprocess(frames, model.input_size)[None]
    ref = LayerGradCam(lambda v: model(v).logits, model.backbone[-1][-1]).attribute(
        x, target=1, relu_attributions=True
    )[:, 0]
    assert ref.abs().max() > 0
    torch.testing.assert_close(cam, ref, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(imp, ref.sum(dim=(1, 2)))
    maps = GradCAMExplainer(model)(clip)
    np.testing.assert_allclose(maps.mask, (ref / ref.max()).detach().numpy(), rtol=1e-5, atol=1e-7)


def test_feature_ig_equals_layer_ig_on_the_last_block(model, frames):
    clip = prepare_clip(model, frames, target=2)
    grid, imp = IGExplainer(model, steps=8, batch=3).attribute(clip)
    x = preprocess(frames, model.input_size)
    lig = LayerIntegratedGradients(lambda v: model(v).logits, model.backbone[-1][-1])
    ref = lig.attribute(x[None], baselines=blur_frames(x)[None], target=2, n_steps=8)
    torch.testing.assert_close(grid, ref.sum(dim=1), rtol=1e-4, atol=1e-9)
    # completeness: the importances add up to the logit's change from the baseline clip
    with torch.no_grad():
        change = (
            model.head(clip.features[None]).logits[0, 2]
            - model.head(clip.baseline[None]).logits[0, 2]
        )
    fine, fine_imp = IGExplainer(model, steps=64).attribute(clip)
    assert float(fine_imp.sum()) == pytest.approx(float(change), rel=0.02, abs=1e-7)


def test_pixel_ig_is_pooled_onto_the_feature_grid(model, frames):
    clip = prepare_clip(model, frames, keep_frames=True)
    grid, imp = IGExplainer(model, steps=4, space="pixels").attribute(clip)
    assert grid.shape == (6, *clip.grid)
    assert torch.isfinite(grid).all() and grid.abs().sum() > 0
    with pytest.raises(AttnvizError, match="keep_frames"):
        IGExplainer(model, space="pixels").attribute(prepare_clip(model, frames))


def test_occlusion_drops_are_exact(model, frames):
    clip = prepare_clip(model, frames)
    spatial, temporal = OcclusionExplainer(model, spatial_window=3, batch=4).attribute(clip)
    score_t = temporal_scorer(model, clip)
    keep = ~np.eye(6, dtype=bool)  # row t: frame t removed
    drops = score_t(np.ones((1, 6), bool))[0] - score_t(keep)
    np.testing.assert_allclose(temporal.numpy(), drops, rtol=1e-4, atol=1e-7)
    # spatial: cell (1, 0) removed on frames 3..5 (the second block of 3)
    score_s = spatial_scorer(model, clip)
    k = np.ones((1, 6, 2, 2), bool)
    k[0, 3:6, 1, 0] = False
    drop = score_s(np.ones((1, 6, 2, 2), bool))[0] - score_s(k)[0]
    assert float(spatial[4, 1, 0]) == pytest.approx(drop, rel=1e-4, abs=1e-7)
    assert float(spatial[3, 1, 0]) == float(spatial[5, 1, 0])


def test_scorers_reach_both_ends(model, frames):
    clip = prepare_clip(model, frames, baseline="zero")
    score = temporal_scorer(model, clip)
    full, empty = score(np.array([[True] * 6, [False] * 6]))
    assert full == pytest.approx(float(clip.probs[clip.target]), rel=1e-5)
    with torch.no_grad():
        z = torch.softmax(model.head(torch.zeros_like(clip.features)[None]).logits, 1)[0]
    assert empty == pytest.approx(float(z[clip.target]), rel=1e-5)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_gives_a_valid_attention_output(model, frames, method, tmp_path):
    from attnviz.io.maps import load_attention, save_attention

    out = explain_frames(
        model, frames, [method], fps=10.0, frame_indices=np.arange(0, 12, 2), name="v",
        options={"steps": 4, "spatial_window": 3},
    )[method]  # fmt: skip
    assert out.mask.shape == (6, 2, 2) and out.mask.dtype == np.float32
    assert np.isfinite(out.mask).all() and out.mask.min() >= 0 and out.mask.max() <= 1
    assert np.isfinite(out.frame_importance).all()
    np.testing.assert_allclose(out.temporal.sum(axis=1), 1.0, rtol=1e-5)
    assert out.frame_indices.tolist() == [1, 3, 5, 7, 9, 11]
    np.testing.assert_allclose(out.timestamps, np.arange(0, 12, 2) / 10.0)
    assert out.frame_size == (48, 64) and out.scores.sum() == pytest.approx(1.0, rel=1e-5)
    if method != "attention":
        assert out.mask.max() == pytest.approx(1.0)  # divided by the clip's maximum
    boxes_from_attention(out)
    segments_from_attention(out)
    tubes_from_attention(out)
    back = load_attention(save_attention(tmp_path / "m.npz", out))
    np.testing.assert_array_equal(back.mask, out.mask)


def test_attention_method_is_the_models_own_output(model, frames):
    out = explain_frames(model, frames, ["attention"])["attention"]
    with torch.no_grad():
        ref = model(preprocess(frames, model.input_size)[None])
    np.testing.assert_allclose(out.mask, ref.mask[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.temporal, ref.temporal[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.frame_importance, ref.temporal[0].numpy().mean(0), rtol=1e-5)
    np.testing.assert_allclose(out.scores, torch.softmax(ref.logits, 1)[0].numpy(), rtol=1e-5)


def test_all_methods_share_scores_and_one_target(model, frames):
    outs = explain_frames(
        model, frames, ["gradcam", "occlusion"], target=3, options={"spatial_window": 6}
    )
    a, b = outs["gradcam"], outs["occlusion"]
    np.testing.assert_array_equal(a.scores, b.scores)


def test_bad_options_and_inputs(model, frames, tiny_model):
    with pytest.raises(AttnvizError, match="unknown explanation method 'cam'"):
        parse_methods("attention,cam")
    with pytest.raises(AttnvizError, match="repeated"):
        parse_methods("ig,ig")
    assert parse_methods(" Attention , ig ") == ["attention", "ig"]
    with pytest.raises(AttnvizError, match="baseline"):
        prepare_clip(model, frames, baseline="noise")
    with pytest.raises(AttnvizError, match="target class 9"):
        prepare_clip(model, frames, target=9)
    with pytest.raises(AttnvizError, match=r"\[n, 3, H, W\]"):
        prepare_clip(model, torch.zeros(6, 7, 2, 2))
    with pytest.raises(AttnvizError, match="space"):
        IGExplainer(model, space="voxels")
    feats_model = tiny_model(features_only=True)
    feats = torch.rand(5, 512, 2, 2)
    with pytest.raises(AttnvizError, match="blur baseline needs frames"):
        prepare_clip(feats_model, feats)
    clip = prepare_clip(feats_model, feats, baseline="mean")
    maps = make_explainer("gradcam", feats_model)(clip)
    assert maps.mask.shape == (5, 2, 2)


def test_cascading_randomization(model, frames):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_state = torch.get_rng_state()
    seen = []
    for stage, randomized in cascading_randomization(model, seed=3):
        seen.append(stage)
        if stage == "classifier":
            assert not torch.equal(randomized.classifier.weight, model.classifier.weight)
            assert torch.equal(randomized.spatial.body[0].weight, model.spatial.body[0].weight)
        if stage == "spatial_attention":
            assert not torch.equal(randomized.spatial.body[0].weight, model.spatial.body[0].weight)
            assert torch.equal(
                randomized.backbone[-1][-1].conv1.weight, model.backbone[-1][-1].conv1.weight
            )
            assert torch.count_nonzero(randomized.cell.bias) == 0
    assert seen[0] == "classifier" and seen[-1] == "backbone.stem" and len(seen) == 9
    assert torch.equal(torch.get_rng_state(), rng_state)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    # the same seed gives the same weights
    w1 = next(cascading_randomization(model, seed=5))[1].classifier.weight.clone()
    w2 = next(cascading_randomization(model, seed=5))[1].classifier.weight.clone()
    assert torch.equal(w1, w2)
    with pytest.raises(ValueError, match="unknown randomisation stage"):
        stage_modules(model, "head")
