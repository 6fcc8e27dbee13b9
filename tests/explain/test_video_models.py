"""Any video classifier explained: torchvision's Kinetics-400 models with random weights
(``--weights none``), weights read offline from a temporary torch hub cache, a user's module,
the paper's recognizer behind the same interface, 3D Grad-CAM against a step-by-step hook
reference, the time rule, the crop geometry and bad input."""

from __future__ import annotations

import os
import urllib.error
import warnings

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from attnviz.cli import main
from attnviz.errors import AttnvizError
from attnviz.explain.video_methods import (
    ShortClipWarning,
    VideoExplainer,
    _acts_grads,
    explain_clip,
    explain_video_model,
    gradcam_3d,
    steps_to_frames,
)
from attnviz.models.video_model import (
    ClipTransform,
    PaperVideoModel,
    UserVideoModel,
    load_video_model,
)

RNG = np.random.default_rng(0)


def clip(t=16, h=120, w=160, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def small(vm):
    """``vm`` on 16 frames at 56x56 (a quarter of r3d_18's 112x112 cost): T' = 2, 4x4 grid."""
    p = vm.preprocess
    vm.preprocess = ClipTransform(16, (64, 86), (56, 56), p.mean, p.std)
    return vm


@pytest.fixture(scope="module")
def r3d():
    torch.manual_seed(0)
    return small(load_video_model("r3d_18", weights="none"))


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


# --------------------------------------------------------------------------- rules
def test_time_rule_is_linear_at_frame_centres():
    steps = torch.tensor([0.0, 1.0])  # T' = 2 for T = 4: u = -0.25, 0.25, 0.75, 1.25
    assert steps_to_frames(steps, 4).tolist() == pytest.approx([0.0, 0.25, 0.75, 1.0])
    same = torch.rand(5, 2, 2)
    assert torch.equal(steps_to_frames(same, 5), same)
    one = torch.rand(1, 3, 3)
    assert torch.allclose(steps_to_frames(one, 4), one.expand(4, -1, -1))


def test_crop_geometry_puts_the_map_inside_the_crop():
    tf = ClipTransform(16, (128, 171), (112, 112), (0.5,) * 3, (0.5,) * 3)
    # 240x320 -> 128x171; crop rows 8..120, columns 30..142 (round(29.5) = 30)
    x1, y1, x2, y2 = tf.crop_box(240, 320)
    assert (x1, y1, x2, y2) == pytest.approx((30 * 320 / 171, 8 * 240 / 128,
                                              142 * 320 / 171, 120 * 240 / 128))  # fmt: skip
    full = tf.to_frame(torch.ones(2, 7, 7), 240, 320)
    hg, wg = tf.frame_grid((7, 7), 240, 320)
    assert full.shape == (2, hg, wg)
    ys = (np.arange(hg) + 0.5) * 240 / hg
    xs = (np.arange(wg) + 0.5) * 320 / wg
    inside = np.outer((ys > y1 + 10) & (ys < y2 - 10), (xs > x1 + 10) & (xs < x2 - 10))
    outside = np.outer((ys < y1 - 10) | (ys > y2 + 10), np.ones(wg, bool)) | np.outer(
        np.ones(hg, bool), (xs < x1 - 10) | (xs > x2 + 10)
    )
    assert np.allclose(full[0].numpy()[inside], 1.0) and np.allclose(full[0].numpy()[outside], 0)
    whole = ClipTransform(16, (128, 171), (112, 112), (0.5,) * 3, (0.5,) * 3, mode="resize")
    m = torch.rand(2, 7, 7)
    assert torch.equal(whole.to_frame(m, 240, 320), m)
    assert whole.crop_box(240, 320) == (0.0, 0.0, 320.0, 240.0)


def test_preprocessing_is_the_weights_own_transform():
    vm = load_video_model("r3d_18", weights="none")
    frames = clip(4)
    ref = torchvision.models.get_model_weights("r3d_18").DEFAULT.transforms()(
        torch.from_numpy(frames).permute(0, 3, 1, 2)
    )
    assert torch.allclose(vm.preprocess(frames), ref, atol=1e-6)
    assert vm.preprocess.clip_len == 16 and len(vm.class_names) == 400
    assert (vm.preprocess.resize, vm.preprocess.crop) == ((128, 171), (112, 112))


# --------------------------------------------------------------------------- methods
def _hook_reference(vm, x):
    """Grad-CAM step by step: forward and backward hooks on layer4, channel weights = the
    gradients averaged over T', h, w, weighted sum, ReLU."""
    store = {}
    layer = vm.module.layer4
    h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o.detach()))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
    try:
        logits = vm.module(x)
        k = int(logits[0].argmax())
        vm.module.zero_grad()
        logits[0, k].backward()
    finally:
        h1.remove()
        h2.remove()
    a, g = store["a"][0], store["g"][0]
    cam = torch.zeros(a.shape[1:])
    for c in range(a.shape[0]):
        cam += g[c].mean() * a[c]
    return torch.relu(cam), k


def test_gradcam_3d_equals_a_step_by_step_hook_reference(r3d):
    frames = clip()
    x = r3d.preprocess(frames)[None]
    ref, k = _hook_reference(r3d, x)
    a, g, _, k2 = _acts_grads(r3d, x, None)
    assert k2 == k and ref.shape == (2, 4, 4)
    assert torch.allclose(gradcam_3d(a, g), ref, atol=1e-5, rtol=0)
    maps = explain_clip(VideoExplainer(r3d, "gradcam"), frames)
    up = steps_to_frames(ref, 16)
    assert np.allclose(maps.mask, (up / up.max()).numpy(), atol=1e-5)


@pytest.mark.parametrize(("arch", "steps"), [("r3d_18", 2), ("mc3_18", 16), ("r2plus1d_18", 2)])
def test_3d_cnns_gradcam_grid_range_and_input_dependence(arch, steps, r3d):
    torch.manual_seed(0)
    vm = r3d if arch == "r3d_18" else small(load_video_model(arch, weights="none"))
    ex = VideoExplainer(vm, "gradcam")
    x = vm.preprocess(clip(seed=1))[None]
    a_, g_, _, _ = _acts_grads(vm, x, None)
    assert a_.shape[1:] == (steps, 4, 4)  # mc3_18 keeps time; the others divide it by 8
    a, b = ex(clip(seed=1)), ex(clip(seed=2))
    assert a.mask.shape == (16, 4, 4) and a.importance.shape == (16,)
    assert a.mask.min() >= 0 and a.mask.max() == pytest.approx(1.0)
    assert a.probs.shape == (400,) and abs(a.probs.sum() - 1) < 1e-4
    assert not np.allclose(a.mask, b.mask)
    cam = steps_to_frames(gradcam_3d(a_, g_), 16)  # the time rule
    assert np.allclose(a.mask, (cam / cam.max()).numpy(), atol=1e-5)
    if steps == 2:  # frames 0..3 take step 0's map, 12..15 step 1's
        assert np.allclose(a.mask[0], a.mask[3]) and np.allclose(a.mask[12], a.mask[15])


@pytest.mark.parametrize("method", ["gradcam++", "ig", "occlusion"])
def test_other_methods_on_r3d(method, r3d):
    ex = VideoExplainer(r3d, method, steps=2, batch=4, grid=(2, 2), temporal_window=4)
    a = ex(clip(seed=3))
    assert a.mask.shape == ((16, 2, 2) if method == "occlusion" else (16, 4, 4))
    assert a.mask.min() >= 0 and a.mask.max() <= 1 and a.importance.shape == (16,)
    assert np.isfinite(a.importance).all()


SLOW = [
    ("s3d", 16, 8, False),  # random-init S3D's features are ~1e-9: Grad-CAM is 0 after ReLU
    ("mvit_v1_b", None, 2, True),
    ("mvit_v2_s", None, 2, True),
    ("swin3d_t", 16, 2, True),
    ("swin3d_s", 16, 2, True),
    ("swin3d_b", 16, 2, True),
]


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "clip_len", "shrink", "nonzero"), SLOW)
def test_heavy_models_gradcam(arch, clip_len, shrink, nonzero):
    torch.manual_seed(0)
    vm = load_video_model(arch, weights="none", clip_len=clip_len)
    t = vm.preprocess.clip_len
    ex = VideoExplainer(vm, "gradcam")
    a, b = ex(clip(t, 240, 320, seed=4)), ex(clip(t, 240, 320, seed=5))
    assert a.mask.shape == (t, 7, 7) and a.mask.min() >= 0 and a.mask.max() <= 1
    raw = []
    for seed in (4, 5):
        x = vm.preprocess(clip(t, 240, 320, seed=seed))[None]
        acts, grads, _, _ = _acts_grads(vm, x, None)
        assert acts.shape[1:] == (t // shrink, 7, 7)  # time divided by the network
        w = grads.mean(dim=(1, 2, 3))
        raw.append((w[:, None, None, None] * acts).sum(0))  # Grad-CAM before the ReLU
    assert not torch.allclose(raw[0], raw[1], rtol=1e-3, atol=0)
    if nonzero:
        assert a.mask.max() == pytest.approx(1.0) and not np.allclose(a.mask, b.mask)
    with pytest.raises(AttnvizError, match="rollout is not available"):
        VideoExplainer(vm, "rollout")


def test_whole_video_in_windows_gives_an_attention_output(r3d, make_video):
    video = make_video(n=30, width=80, height=60, fps=10.0)
    out = explain_video_model(video, VideoExplainer(r3d, "gradcam"), fps=10.0, stride=8,
                              quiet=True)  # fmt: skip
    assert out.num_frames == 30 and out.frame_size == (60, 80)
    assert out.window_starts.tolist() == [0, 8, 14]  # the last window ends on the last sample
    assert out.temporal.shape == (3, 16, 16) and np.allclose(out.temporal.sum(-1), 1, atol=1e-5)
    assert out.mask.shape[0] == 30 and out.mask.min() >= 0 and out.mask.max() <= 1
    assert out.mask.shape[1:] == r3d.preprocess.frame_grid((4, 4), 60, 80)


def test_short_video_is_padded_with_a_warning(r3d, make_video):
    video = make_video(n=6, width=64, height=48, fps=10.0)
    with pytest.warns(ShortClipWarning, match="fewer than r3d_18's clip of 16"):
        out = explain_video_model(video, VideoExplainer(r3d, "gradcam"), fps=10.0, quiet=True)
    assert out.num_frames == 6 and out.frame_indices.tolist() == [1, 2, 3, 4, 5, 6]
    assert out.temporal.shape == (1, 6, 6)


# --------------------------------------------------------------------------- weights
def _no_network(monkeypatch):
    def refuse(*a, **k):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


def test_kinetics_weights_read_offline_from_the_hub_cache(tmp_path, monkeypatch, make_video,
                                                          capsys):  # fmt: skip
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    _no_network(monkeypatch)
    entry = torchvision.models.get_model_weights("r3d_18").KINETICS400_V1
    folder = tmp_path / "th" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.manual_seed(3)
    state = torchvision.models.get_model("r3d_18", weights=None).state_dict()
    torch.save(state, folder / os.path.basename(entry.url))
    vm = load_video_model("r3d_18", weights="KINETICS400_V1")
    assert torch.equal(vm.module.fc.weight, state["fc.weight"])
    assert vm.class_names[:2] == ("abseiling", "air drumming")
    video = make_video(n=16, width=64, height=48)
    code, out, err = run(
        ["spatial-map", "--video", video, "--model", "r3d_18", "--weights", "KINETICS400_V1",
         "--out", tmp_path / "o", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    names = [ln.split(maxsplit=1)[1] for ln in out.splitlines()[1:]]
    assert len(names) == 5 and set(names) <= set(entry.meta["categories"])
    assert (tmp_path / "o" / "maps.npz").is_file() and (tmp_path / "o" / "boxes.csv").is_file()


def test_empty_cache_without_network_names_the_file_and_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    _no_network(monkeypatch)
    folder = tmp_path / "th" / "hub" / "checkpoints"
    with pytest.raises(AttnvizError) as exc:
        load_video_model("r2plus1d_18", weights="DEFAULT")
    msg = str(exc.value)
    assert "r2plus1d_18-91a641e6.pth" in msg and str(folder) in msg and "\n" not in msg
    code, out, err = run(["spatial-map", "--video", tmp_path / "none.mp4", "--model",
                          "r2plus1d_18", "--out", tmp_path / "o"], capsys)  # fmt: skip
    assert code != 0 and "r2plus1d_18-91a641e6.pth" in err and not (tmp_path / "o").exists()


def test_imagenet_backbone_by_torchvision_name_offline(tmp_path, monkeypatch):
    from attnviz.models import build_recognizer

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    _no_network(monkeypatch)
    with pytest.raises(AttnvizError, match="resnet18-f37072fd.pth"):
        build_recognizer("resnet18", 3, weights="IMAGENET1K_V1")
    folder = tmp_path / "th" / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1)
    state = torchvision.models.resnet18().state_dict()
    torch.save(state, folder / "resnet18-f37072fd.pth")
    model = build_recognizer("resnet18", 3, weights="IMAGENET1K_V1", spatial_widths=(16, 8),
                             hidden_channels=16, energy_dim=8)  # fmt: skip
    assert torch.equal(model.backbone[0].weight, state["conv1.weight"])


# --------------------------------------------------------------------------- bad input
def test_unknown_model_lists_the_known_ones():
    with pytest.raises(AttnvizError, match="r2plus1d_18.*swin3d_b"):
        load_video_model("resnet3d_99")


def test_weights_of_another_architecture_name_the_keys(tmp_path):
    path = tmp_path / "mc3.pth"
    torch.save(torchvision.models.get_model("mc3_18", weights=None).state_dict(), path)
    with pytest.raises(AttnvizError, match=r"mc3\.pth: weights do not fit r3d_18: keys .*shape"):
        load_video_model("r3d_18", weights=path)


def test_missing_target_layer_lists_candidates(r3d):
    with pytest.raises(AttnvizError, match="no layer named 'layer9'.*layer4"):
        load_video_model("r3d_18", weights="none", target_layer="layer9")


# --------------------------------------------------------------------------- user / paper
class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv3d(3, 4, 3, stride=(2, 4, 4), padding=1), nn.ReLU())
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(self.body(x).mean(dim=(2, 3, 4)))


def tiny_factory() -> nn.Module:
    torch.manual_seed(0)
    return TinyNet()


def test_user_factory_and_torchscript(tmp_path):
    vm = UserVideoModel(f"{__name__}:tiny_factory", target_layer="body")
    assert vm.class_names == ("0", "1", "2", "3", "4")
    a = VideoExplainer(vm, "gradcam")(clip(seed=6))
    assert a.mask.shape == (16, 28, 28) and 0 <= a.mask.min() and a.mask.max() <= 1
    b = VideoExplainer(vm, "gradcam")(clip(seed=8))
    assert not np.allclose(a.mask, b.mask)
    path = tmp_path / "tiny.pt"
    torch.jit.script(tiny_factory()).save(str(path))
    js = UserVideoModel(str(path))
    b = VideoExplainer(js, "occlusion", grid=(2, 2))(clip(seed=6))
    assert b.mask.shape == (16, 2, 2) and b.probs.shape == (5,)
    with pytest.raises(AttnvizError, match="not a TorchScript file"):
        (tmp_path / "junk.pt").write_bytes(b"junk")
        UserVideoModel(str(tmp_path / "junk.pt"))


def test_paper_model_behind_the_interface(small_model):
    vm = PaperVideoModel(small_model, clip_len=5)
    frames = clip(5, 48, 64, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = VideoExplainer(vm, "gradcam")(frames)
    assert a.mask.shape == (5, 2, 2) and a.probs.shape == (3,)
    with torch.no_grad():
        ref = small_model(vm.preprocess(frames).permute(1, 0, 2, 3)[None]).logits
    assert np.allclose(a.probs, torch.softmax(ref[0], 0).numpy(), atol=1e-5)


def test_temporal_map_with_a_user_factory_in_windows(make_video, tmp_path, capsys):
    video = make_video(n=40, width=64, height=48, fps=10.0)
    code, out, err = run(
        ["temporal-map", "--video", video, "--model", f"{__name__}:tiny_factory",
         "--target-layer", "body", "--fps", 10, "--stride", 8,
         "--out", tmp_path / "t", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    from attnviz.io.maps import load_attention

    res = load_attention(tmp_path / "t" / "maps.npz")
    assert res.num_frames == 40 and res.window_starts.tolist() == [0, 8, 16, 24]
    assert res.class_names == ("0", "1", "2", "3", "4") and (tmp_path / "t" / "run.txt").is_file()


def test_cli_bad_model_and_layer_are_one_line(make_video, tmp_path, capsys):
    video = make_video(n=8)
    code, out, err = run(["spatial-map", "--video", video, "--model", "r4d_99", "--out",
                          tmp_path / "o"], capsys)  # fmt: skip
    assert code != 0 and "r2plus1d_18" in err and len(err.strip().splitlines()) == 1
    base = ["spatial-map", "--video", video, "--model", "r3d_18", "--weights", "none", "--out",
            tmp_path / "o"]  # fmt: skip
    code, out, err = run([*base, "--target-layer", "layer9"], capsys)
    assert code != 0 and "layer4" in err and not (tmp_path / "o").exists()
    code, out, err = run([*base, "--method", "rollout"], capsys)
    assert code != 0 and "rollout is not available" in err
