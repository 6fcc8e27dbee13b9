"""maps.npz: the AttentionOutput round-trips; other models' files are checked field by field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from attnviz.errors import AttnvizError, InputError
from attnviz.io.maps import load_attention, save_attention
from attnviz.types import AttentionOutput


def _out(windows=False):
    rng = np.random.default_rng(1)
    t = 6
    if windows:
        temporal = rng.dirichlet(np.ones(4), size=(2, 4)).astype(np.float32)
        starts = np.array([0, 2])
    else:
        temporal, starts = rng.dirichlet(np.ones(t), size=t).astype(np.float32), None
    return AttentionOutput(
        frame_indices=np.array([1, 4, 7, 10, 13, 16]),
        timestamps=np.arange(t) * 0.3,
        frame_size=(48, 64),
        mask=rng.random((t, 7, 7)).astype(np.float32),
        temporal=temporal,
        frame_importance=rng.random(t).astype(np.float32),
        scores=np.array([0.25, 0.75], dtype=np.float32),
        class_names=("walk", "run"),
        video="clip",
        fps=np.float32(10.0),
        window_starts=starts,
    )


@pytest.mark.parametrize("windows", [False, True])
def test_round_trip(tmp_path, windows):
    out = _out(windows)
    save_attention(tmp_path / "maps.npz", out)
    back = load_attention(tmp_path / "maps.npz")
    for k in ("frame_indices", "timestamps", "mask", "temporal", "frame_importance", "scores"):
        np.testing.assert_array_equal(getattr(back, k), getattr(out, k))
    assert (back.frame_size, back.class_names, back.video, back.fps) == (
        (48, 64),
        ("walk", "run"),
        "clip",
        10.0,
    )
    if windows:
        np.testing.assert_array_equal(back.window_starts, [0, 2])
    else:
        assert back.window_starts is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps.npz"]


def _write(path, **arrays):
    base = _out()
    data = {
        k: getattr(base, k)
        for k in ("frame_indices", "timestamps", "mask", "temporal", "frame_importance", "scores")
    }
    data["meta"] = np.asarray(json.dumps({"frame_size": [48, 64], "class_names": ["a", "b"]}))
    data.update(arrays)
    data = {k: v for k, v in data.items() if v is not None}
    np.savez(path, **data)
    return path


@pytest.mark.parametrize(
    "change,field",
    [
        ({"temporal": None}, "missing arrays"),
        ({"mask": np.full((6, 7, 7), np.nan)}, '"mask" holds NaN'),
        ({"meta": np.asarray("{not json")}, '"meta"'),
        ({"frame_indices": np.array([0, 1, 2, 3, 4, 5])}, '"frame_indices"'),
        ({"scores": np.array([1.0])}, "inconsistent arrays"),
        ({"temporal": np.ones((5, 5))}, "inconsistent arrays"),
        ({"scores": np.array(["a", "b"])}, '"scores" must be numeric'),
        ({"scores": np.array([{}, {}], dtype=object)}, "not a readable .npz"),
    ],
)
def test_bad_maps_name_the_field(tmp_path, change, field):
    path = _write(tmp_path / "m.npz", **change)
    with pytest.raises(InputError) as err:
        load_attention(path)
    msg = str(err.value)
    assert field in msg and msg.startswith(f"{path}: ") and msg.count(str(path)) == 1


def test_missing_and_non_npz_files(tmp_path):
    with pytest.raises(AttnvizError, match="not found"):
        load_attention(tmp_path / "none.npz")
    (tmp_path / "x.npz").write_text("hello")
    with pytest.raises(InputError, match="not a readable"):
        load_attention(tmp_path / "x.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(InputError, match="single array"):
        load_attention(tmp_path / "one.npy")
