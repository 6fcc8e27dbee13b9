"""The batched occlusion and integrated gradients against captum's (what attnviz computed
before it batched them itself) on a tiny random-init model: equal within 1e-5."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, Occlusion
from torch import nn

from attnviz.explain import IGExplainer, OcclusionExplainer, make_explainer, prepare_clip
from attnviz.explain.methods import map_batches


def _captum_occlusion(model, clip, window, spatial_window, batch=4):
    n, c, h, w = clip.features.shape
    occ = Occlusion(lambda v: torch.softmax(model.head(v).logits.float(), dim=1))
    x, base = clip.features[None], clip.baseline[None]
    kt, ks = min(window, n), min(spatial_window, n)
    with torch.no_grad():
        temporal = occ.attribute(
            x, sliding_window_shapes=(kt, c, h, w), strides=(1, c, h, w), baselines=base,
            target=clip.target, perturbations_per_eval=batch,
        )[0, :, 0, 0, 0]  # fmt: skip
        spatial = occ.attribute(
            x, sliding_window_shapes=(ks, c, 1, 1), strides=(ks, c, 1, 1), baselines=base,
            target=clip.target, perturbations_per_eval=batch,
        )[0, :, 0]  # fmt: skip
    return spatial, temporal


class _HeadOnly(nn.Module):
    """The same model seen through ``head`` alone (no per-frame split): the fallback path."""

    def __init__(self, model):
        super().__init__()
        self.inner = model

    def head(self, x):
        return self.inner.head(x)


@pytest.mark.parametrize(("window", "spatial_window", "batch"), [(1, 3, 5), (2, 4, 16)])
def test_occlusion_equals_captum(model, frames, window, spatial_window, batch):
    clip = prepare_clip(model, frames, target=1)
    ref_s, ref_t = _captum_occlusion(model, clip, window, spatial_window)
    assert ref_s.abs().max() > 0 and ref_t.abs().max() > 0
    ex = OcclusionExplainer(model, window=window, spatial_window=spatial_window, batch=batch)
    spatial, temporal = ex.attribute(clip)
    torch.testing.assert_close(spatial, ref_s, rtol=0, atol=1e-5)
    torch.testing.assert_close(temporal, ref_t, rtol=0, atol=1e-5)
    # the same through a model that only offers its whole head
    s2, t2 = OcclusionExplainer(
        _HeadOnly(model), window=window, spatial_window=spatial_window, batch=batch
    ).attribute(clip)
    torch.testing.assert_close(s2, ref_s, rtol=0, atol=1e-5)
    torch.testing.assert_close(t2, ref_t, rtol=0, atol=1e-5)
    if spatial_window == 4:  # 6 frames: blocks 0-3 and a shorter last one, 4-5
        assert torch.equal(spatial[4], spatial[5]) and not torch.equal(spatial[3], spatial[4])


def test_occlusion_maps_equal_captums(model, frames):
    clip = prepare_clip(model, frames)
    ref_s, _ = _captum_occlusion(model, clip, 1, 3)
    maps = make_explainer("occlusion", model, spatial_window=3)(clip)
    ref = ref_s.clamp(min=0)
    np.testing.assert_allclose(maps.mask, (ref / ref.max()).numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("batch", [3, 16])
def test_feature_ig_equals_captum(model, frames, batch):
    clip = prepare_clip(model, frames, target=2)
    ref = IntegratedGradients(lambda v: model.head(v).logits).attribute(
        clip.features[None], baselines=clip.baseline[None], target=2, n_steps=8,
        internal_batch_size=4,
    )[0].sum(dim=1)  # fmt: skip
    grid, imp = IGExplainer(model, steps=8, batch=batch).attribute(clip)
    assert ref.abs().max() > 0
    torch.testing.assert_close(grid, ref, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(imp, ref.sum(dim=(1, 2)), rtol=1e-5, atol=1e-9)


def test_ig_batches_are_sized_by_memory(model, frames, monkeypatch):
    from attnviz.explain import methods

    mib = 2**20
    assert methods.ig_chunks(32, 16, int(2.5 * mib), 24 * mib) == 8  # 9 fit: 4 batches of 8
    assert methods.ig_chunks(32, 16, int(2.5 * mib), None) == 16
    assert methods.ig_chunks(32, 4, 1, 24 * mib) == 4
    assert methods.ig_chunks(5, 16, 100 * mib, 24 * mib) == 1  # one clip over the limit
    clip = prepare_clip(model, frames, target=2)
    whole, _ = IGExplainer(model, steps=7, batch=16).attribute(clip)
    seen = []
    real = methods.ig_chunks
    monkeypatch.setattr(methods, "IG_CHUNK_BYTES", 2 * clip.features.numel() * 4)
    monkeypatch.setattr(methods, "ig_chunks", lambda *a: seen.append(real(*a)) or seen[-1])
    small, _ = IGExplainer(model, steps=7, batch=16).attribute(clip)
    assert seen == [2]  # 7 steps as 2 + 2 + 2 + 1
    torch.testing.assert_close(small, whole, rtol=1e-5, atol=1e-9)


def test_pixel_ig_equals_captum(model, frames):
    clip = prepare_clip(model, frames, keep_frames=True, target=0)
    attr = IntegratedGradients(lambda v: model(v).logits).attribute(
        clip.frames[None], baselines=clip.baseline_frames[None], target=0, n_steps=3,
        internal_batch_size=1,
    )[0]  # fmt: skip
    pix = attr.sum(dim=1, keepdim=True)
    h, w = clip.grid
    ref = torch.nn.functional.adaptive_avg_pool2d(pix, (h, w))[:, 0] * (
        pix.shape[-2] * pix.shape[-1] / float(h * w)
    )
    grid, _ = IGExplainer(model, steps=3, space="pixels", batch=16).attribute(clip)
    torch.testing.assert_close(grid, ref, rtol=1e-4, atol=1e-8)


def test_occlusion_on_the_straightforward_head_form(model, frames):
    """``fast=False`` mixes the masked features themselves: the spliced frames are expanded."""
    clip = prepare_clip(model, frames, target=3)
    ref_s, ref_t = _captum_occlusion(model, clip, 1, 4)
    model.fast = False
    try:
        spatial, temporal = OcclusionExplainer(model, spatial_window=4).attribute(clip)
    finally:
        model.fast = True
    torch.testing.assert_close(spatial, ref_s, rtol=0, atol=1e-5)
    torch.testing.assert_close(temporal, ref_t, rtol=0, atol=1e-5)


def test_gates_gradient_in_eval_mode_equals_autograds(model, frames):
    """In eval mode the gradient of the attention mix is one product (W^T G); the same
    gradient as autograd's sum of one outer product per step."""
    x = prepare_clip(model, frames).features[None].repeat(2, 1, 1, 1, 1)
    x = (x * torch.tensor([1.0, 0.5])[:, None, None, None, None]).requires_grad_(True)
    (g_eval,) = torch.autograd.grad(model.head(x).logits[:, 1].sum(), x)
    model.train()
    try:
        for m in model.modules():  # keep batch norm and dropout as in eval mode
            if isinstance(m, (nn.BatchNorm2d, nn.Dropout)):
                m.eval()
        (g_train,) = torch.autograd.grad(model.head(x).logits[:, 1].sum(), x)
    finally:
        model.eval()
    assert g_train.abs().max() > 0
    torch.testing.assert_close(g_eval, g_train, rtol=1e-5, atol=1e-10)


def test_the_package_runs_every_method_without_captum():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from attnviz.explain import explain_frames\n"
        "from attnviz.models import build_recognizer\n"
        "m = build_recognizer('resnet18', 3, weights=None, random_init=True, input_size=32,\n"
        "    hidden_channels=4, spatial_widths=(4, 4), energy_dim=4).eval()\n"
        "f = np.zeros((3, 32, 32, 3), np.uint8)\n"
        "explain_frames(m, f, ['attention', 'gradcam', 'occlusion', 'ig'],\n"
        "    options={'steps': 2, 'spatial_window': 3})\n"
        "assert 'captum' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "options",
    [{}, {"kernel": 1, "pool": "max", "scale_by_n": False}, {"temporal_attention": False}],
)
def test_spliced_clips_without_gradients_equal_the_whole_head(tiny_model, frames, options):
    """Occlusion's spliced clips run a channel-major recurrence of their own: the same
    logits and weights as the head on the clips written out in full."""
    model = tiny_model(3, **options)
    feats = prepare_clip(model, frames).features
    gen = torch.Generator().manual_seed(0)
    part_x = feats[None, 2:5] + torch.randn(3, 3, *feats.shape[1:], generator=gen)
    with torch.no_grad():
        full = model.frame_terms(feats[None])
        spliced = model.splice_terms(full, model.frame_terms(part_x), 2)
        got = model.head_from_terms(spliced)
        whole = torch.cat([feats[None, :2].expand(3, -1, -1, -1, -1), part_x,
                           feats[None, 5:].expand(3, -1, -1, -1, -1)], dim=1)  # fmt: skip
        ref = model.head(whole)
    torch.testing.assert_close(got.logits, ref.logits, rtol=0, atol=1e-5)
    torch.testing.assert_close(got.temporal, ref.temporal, rtol=0, atol=1e-6)
    torch.testing.assert_close(got.mask, ref.mask)


@pytest.mark.parametrize("options", [{}, {"fast": False}])
def test_frame_scorer_mixes_each_frames_terms_like_replaced_features(tiny_model, frames, options):
    from attnviz.explain.clip import head_probs, temporal_scorer

    model = tiny_model(**options)
    clip = prepare_clip(model, frames, target=1)
    keep = np.random.default_rng(0).random((21, clip.num_frames)) > 0.4
    keep[0] = True
    keep[1] = False
    got = temporal_scorer(model, clip, batch=4)(keep)
    k = torch.as_tensor(keep)
    x = torch.where(k[:, :, None, None, None], clip.features[None], clip.baseline[None])
    want = head_probs(model, x, batch=4)[:, 1].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert got[0] != got[1]


def test_batches_in_threads_give_the_maps_of_one_thread(model, frames):
    """With 2 intra-op threads the batches run in 2 Python threads of one intra-op thread each
    (:func:`map_batches`): the same maps, results in order, grad mode passed on, the thread
    count given back."""
    clip = prepare_clip(model, frames, target=1)
    occ = OcclusionExplainer(model, window=2, spatial_window=3, batch=3)
    ig = IGExplainer(model, steps=8, batch=2)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        ref = [occ.attribute(clip), ig.attribute(clip)]
        torch.set_num_threads(2)
        got = [occ.attribute(clip), ig.attribute(clip)]
        assert torch.get_num_threads() == 2
        seen: list[tuple[int, bool, int]] = []

        def job(i: int) -> int:
            seen.append((i, torch.is_grad_enabled(), torch.get_num_threads()))
            return i * i

        with torch.no_grad():
            assert list(map_batches(job, range(7), clip.features)) == [i * i for i in range(7)]
        assert sorted(seen) == [(i, False, 1) for i in range(7)]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    for (s1, t1), (s2, t2) in zip(ref, got, strict=True):
        torch.testing.assert_close(s2, s1, rtol=0, atol=1e-6)
        torch.testing.assert_close(t2, t1, rtol=0, atol=1e-6)
