"""``--precision bf16`` on the ``--model`` path: every forward (and backward) pass of the video
model under bfloat16 autocast, as the paper model's path does; tested on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from attnviz.cli import main
from attnviz.errors import AttnvizError
from attnviz.explain.video_methods import VideoExplainer
from attnviz.models.video_model import UserVideoModel


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv3d(3, 4, 3, stride=(2, 8, 8), padding=1), nn.ReLU())
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.body(x).mean(dim=(2, 3, 4)))


def tiny() -> nn.Module:
    torch.manual_seed(0)
    return Tiny()


def frames(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 120, size=(16, 96, 128, 3), dtype=np.uint8)
    for t in range(16):
        out[t, 20:50, 10 + 4 * t : 40 + 4 * t] = (230, 50, 40)
    return out


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "ig", "occlusion"])
def test_bf16_runs_the_model_under_autocast(method):
    vm = UserVideoModel(f"{__name__}:tiny", target_layer="body")
    seen: list[torch.dtype] = []
    vm.module.body.register_forward_hook(lambda _m, _i, o: seen.append(o.dtype))
    opts = {"steps": 2, "grid": (2, 2)}
    a = VideoExplainer(vm, method, **opts)(frames())
    assert set(seen) == {torch.float32}
    seen.clear()
    b = VideoExplainer(vm, method, precision="bf16", **opts)(frames())
    assert seen and set(seen) == {torch.bfloat16}
    assert b.mask.dtype == np.float32 and b.mask.shape == a.mask.shape
    assert 0 <= b.mask.min() and b.mask.max() <= 1
    assert np.isclose(b.probs.sum(), 1, atol=1e-5)
    np.testing.assert_allclose(b.probs, a.probs, atol=0.02)
    assert b.target == a.target


def test_unknown_precision_is_refused():
    vm = UserVideoModel(f"{__name__}:tiny", target_layer="body")
    with pytest.raises(AttnvizError, match="precision must be fp32 or bf16, got 'fp16'"):
        VideoExplainer(vm, "gradcam", precision="fp16")


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    return exc.value.code, *capsys.readouterr()


def test_spatial_map_model_takes_precision(make_video, tmp_path, capsys):
    from attnviz.io.maps import load_attention

    video = make_video(n=20, width=128, height=96)
    masks = {}
    for precision in ("fp32", "bf16"):
        code, _, err = run(
            ["spatial-map", "--video", video, "--model", f"{__name__}:tiny", "--target-layer",
             "body", "--precision", precision, "--out", tmp_path / precision, "--no-html",
             "--quiet"],
            capsys,
        )  # fmt: skip
        assert code in (0, None), err
        masks[precision] = load_attention(tmp_path / precision / "maps.npz").mask
    # the option reaches the model: bfloat16 moves the maps a little, not their layout
    assert not np.array_equal(masks["fp32"], masks["bf16"])
    r = np.corrcoef(masks["fp32"].ravel(), masks["bf16"].ravel())[0, 1]
    assert r > 0.95
    code, _, err = run(
        ["spatial-map", "--video", video, "--model", f"{__name__}:tiny", "--target-layer",
         "body", "--precision", "fp16", "--out", tmp_path / "bad", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code != 0 and "fp32 or bf16" in err and len(err.strip().splitlines()) == 1
