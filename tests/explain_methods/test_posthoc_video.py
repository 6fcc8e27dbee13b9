"""Every method over a whole video: the explain command's sampling and windows, stitched."""

from __future__ import annotations

import numpy as np
import pytest

from attnviz.explain import explain_video_methods
from attnviz.io.video import window_indices, window_starts


def test_uniform_sampling_matches_the_explain_command(model, write_video, tmp_path):
    from attnviz.pipeline.explain import explain_video

    video = write_video(tmp_path / "u.avi", 30)
    outs = explain_video_methods(video, model, ["attention", "gradcam"], frames=8, quiet=True)
    ref = explain_video(video, model=model, frames=8, quiet=True)
    att = outs["attention"]
    np.testing.assert_array_equal(att.frame_indices, ref.frame_indices)
    np.testing.assert_allclose(att.timestamps, ref.timestamps)
    np.testing.assert_allclose(att.mask, ref.mask, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(att.frame_importance, ref.frame_importance, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(att.scores, ref.scores, rtol=1e-4, atol=1e-7)
    assert outs["gradcam"].window_starts is None and outs["gradcam"].temporal.shape == (8, 8)
    assert att.video == "u" and att.frame_size == (48, 64)


def test_sliding_windows_are_those_of_io_video_and_stitched_by_mean(model, write_video, tmp_path):
    video = write_video(tmp_path / "w.avi", 40, fps=10.0)
    seen = []

    def on_clip(clip, start, maps):
        seen.append((start, clip.num_frames, {k: v.mask.copy() for k, v in maps.items()}))

    timings = {}
    outs = explain_video_methods(
        video, model, ["attention", "occlusion"], fps=5.0, window=8, stride=5,
        on_clip=on_clip, timings=timings, quiet=True, options={"spatial_window": 8},
    )  # fmt: skip
    samples, windows = window_indices(40, 10.0, sample_fps=5.0, window=8, stride=5)
    starts = window_starts(len(samples), 8, 5)
    assert [s for s, _, _ in seen] == starts.tolist() == [0, 5, 10, 12]
    assert all(n == 8 for _, n, _ in seen)
    occ = outs["occlusion"]
    np.testing.assert_array_equal(occ.frame_indices, samples + 1)
    np.testing.assert_array_equal(occ.window_starts, starts)
    assert occ.temporal.shape == (4, 8, 8)
    # sample 11 is covered by the windows starting at 5 and 10 (positions 6 and 1)
    by_start = {s: m for s, _, m in seen}
    expect = (by_start[5]["occlusion"][6] + by_start[10]["occlusion"][1]) / 2
    np.testing.assert_allclose(occ.mask[11], expect, rtol=1e-6)
    # sample 13 by 10 (pos 3) and 12 (pos 1)
    expect = (by_start[10]["attention"][3] + by_start[12]["attention"][1]) / 2
    np.testing.assert_allclose(outs["attention"].mask[13], expect, rtol=1e-6)
    assert set(timings) == {"features", "attention", "occlusion"}
    assert all(v > 0 for v in timings.values())


def test_video_shorter_than_a_window(model, write_video, tmp_path):
    video = write_video(tmp_path / "s.avi", 6, fps=10.0)
    outs = explain_video_methods(
        video, model, ["gradcam"], fps=10.0, window=8, stride=4, quiet=True
    )
    out = outs["gradcam"]
    assert out.num_frames == 6 and out.window_starts.tolist() == [0]
    assert out.temporal.shape == (1, 6, 6)


def test_missing_video_is_one_clear_error(model, tmp_path):
    from attnviz.errors import AttnvizError

    with pytest.raises(AttnvizError, match="not found"):
        explain_video_methods(tmp_path / "none.mp4", model, ["attention"], quiet=True)


def test_windowed_attention_matches_the_explain_command(model, write_video, tmp_path):
    from attnviz.pipeline.explain import explain_video

    video = write_video(tmp_path / "x.avi", 40, fps=10.0)
    att = explain_video_methods(
        video, model, ["attention"], fps=5.0, window=8, stride=5, quiet=True
    )
    ref = explain_video(video, model=model, fps=5.0, window=8, stride=5, quiet=True)
    att = att["attention"]
    np.testing.assert_array_equal(att.frame_indices, ref.frame_indices)
    np.testing.assert_array_equal(att.window_starts, ref.window_starts)
    np.testing.assert_allclose(att.mask, ref.mask, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(att.frame_importance, ref.frame_importance, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(att.temporal, ref.temporal, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(att.scores, ref.scores, rtol=1e-4, atol=1e-7)
