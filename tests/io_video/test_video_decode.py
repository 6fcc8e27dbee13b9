"""Streamed decoding on videos the tests write: several codecs and sizes, odd frame counts,
truncated and broken files, header counts that lie, bounded memory, no seeking."""

from __future__ import annotations

import os
import tracemalloc
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from attnviz.errors import AttnvizError
from attnviz.io import video as V

CODECS = [("a.avi", "MJPG"), ("b.mp4", "mp4v"), ("c.avi", "XVID"), ("d.mkv", "VP80")]
SHAPES = [(64, 48, 1), (160, 120, 7), (97, 71, 13)]  # width, height, frames (odd size, odd n)


@pytest.mark.parametrize("name,fourcc", CODECS)
@pytest.mark.parametrize("width,height,n", SHAPES)
def test_every_frame_decodes_in_order(make_video, read_code, name, fourcc, width, height, n):
    path = make_video(name, fourcc, n, width, height)
    info = V.probe(path)
    assert info.num_frames == n
    assert info.fps == pytest.approx(10.0)
    assert abs(info.width - width) <= 1 and abs(info.height - height) <= 1  # codecs may crop odd
    frames = list(V.iter_frames(path))
    assert [i for i, _ in frames] == list(range(n))
    assert [read_code(f) for _, f in frames] == list(range(n))
    assert frames[0][1].dtype == np.uint8 and frames[0][1].shape == (info.height, info.width, 3)


def test_wanted_frames_with_repeats(make_video, read_code):
    path = make_video("r.mp4", "mp4v", 9)
    got = list(V.iter_frames(path, [0, 0, 4, 8, 8]))
    assert [i for i, _ in got] == [0, 0, 4, 8, 8]
    assert [read_code(f) for _, f in got] == [0, 0, 4, 8, 8]
    with pytest.raises(ValueError, match="ascending"):
        list(V.iter_frames(path, [3, 1]))
    assert read_code(V.read_frames(path, [5])[0]) == 5


def test_uniform_indices_are_segment_centres():
    assert V.uniform_indices(10, 5).tolist() == [1, 3, 5, 7, 9]
    assert V.uniform_indices(3, 5).tolist() == [0, 0, 1, 2, 2]  # repeats for short videos
    assert V.uniform_indices(100, 1).tolist() == [50]
    with pytest.raises(ValueError):
        V.uniform_indices(0, 5)


class _Spy:
    """Wraps cv2.VideoCapture: counts opens and refuses seeking."""

    opens = 0

    def __init__(self, *args):
        type(self).opens += 1
        self._cap = _REAL(*args)

    def set(self, *args):  # noqa: A003 - the cv2 name
        raise AssertionError("decoding must not seek")

    def __getattr__(self, name):
        return getattr(self._cap, name)


_REAL = cv2.VideoCapture


@pytest.fixture
def spy(monkeypatch):
    _Spy.opens = 0
    monkeypatch.setattr(cv2, "VideoCapture", _Spy)
    return _Spy


def test_uniform_sampling_one_pass_when_header_is_right(make_video, read_code, spy):
    path = make_video("u.avi", "MJPG", 23)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info, frames = V.sample_uniform(path, 5)
    assert spy.opens == 1
    assert info.num_frames == 23
    want = V.uniform_indices(23, 5).tolist()
    assert [i for i, _ in frames] == want
    assert [read_code(f) for _, f in frames] == want


@pytest.mark.parametrize("claimed", [50, 3, -1])
def test_uniform_sampling_counts_what_decodes_not_the_header(
    make_video, read_code, spy, monkeypatch, claimed
):
    path = make_video("h.mp4", "mp4v", 23)
    monkeypatch.setattr(V, "_header_frames", lambda cap: claimed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        info, frames = V.sample_uniform(path, 5)
    assert spy.opens == 2  # the first pass counted, the second took the right frames
    assert info.num_frames == 23 and info.header_frames == claimed
    want = V.uniform_indices(23, 5).tolist()
    assert [read_code(f) for _, f in frames] == want
    short = [w for w in caught if issubclass(w.category, V.TruncatedVideoWarning)]
    assert bool(short) == (claimed > 23)
    if short:
        assert "after frame 23" in str(short[0].message) and "claims 50" in str(short[0].message)


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def test_truncated_file_keeps_what_decoded_and_warns(make_video, read_code):
    path = _truncate(make_video("t.avi", "MJPG", 30), 0.6)
    with pytest.warns(V.TruncatedVideoWarning, match=r"t\.avi: decoding stopped after frame \d+"):
        info = V.probe(path)
    assert 5 < info.num_frames < 30
    n = info.num_frames
    with pytest.warns(V.TruncatedVideoWarning, match=f"after frame {n} but the header claims 30"):
        info2, frames = V.sample_uniform(path, 4)
    assert info2.num_frames == n
    assert [read_code(f) for _, f in frames] == V.uniform_indices(n, 4).tolist()
    with pytest.warns(V.TruncatedVideoWarning, match="wanted up to frame 29"):
        got = list(V.iter_frames(path, [0, n - 1, 28]))
    assert [i for i, _ in got] == [0, n - 1]
    with pytest.warns(V.TruncatedVideoWarning):
        assert len(list(V.iter_sampled(path, 5.0))) == len(range(0, n, 2))


@pytest.mark.parametrize("kind", ["missing", "folder", "empty", "text", "truncated_mp4"])
def test_unusable_files_fail_with_one_clear_line(tmp_path, make_video, kind):
    path = tmp_path / "x.mp4"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not a video\n")
    elif kind == "truncated_mp4":  # the index (moov) is written last: nothing is usable
        path = _truncate(make_video("y.mp4", "mp4v", 30), 0.5)
    for call in (V.probe, lambda p: V.sample_uniform(p, 5), lambda p: list(V.iter_sampled(p, 2))):
        with pytest.raises(AttnvizError) as err:
            call(path)
        msg = str(err.value)
        assert str(path) in msg and "\n" not in msg


def test_fps_sampling_streams_the_frames_window_indices_predicts(make_video, read_code):
    path = make_video("f.avi", "MJPG", 31, fps=30.0)
    got = list(V.iter_sampled(path, 10.0))
    assert [i for i, _ in got] == list(range(0, 31, 3))
    assert [read_code(f) for _, f in got] == list(range(0, 31, 3))
    samples, _ = V.window_indices(31, 30.0, sample_fps=10.0, window=4, stride=2)
    assert samples.tolist() == list(range(0, 31, 3))
    # a rate that does not divide the video's: k * 2.5 rounded half up
    odd = [i for i, _ in V.iter_sampled(path, 12.0)]
    assert odd == V.window_indices(31, 30.0, sample_fps=12.0, window=4, stride=2)[0].tolist()
    assert odd[:6] == [0, 3, 5, 8, 10, 13]
    # at or above the video's rate: every frame once
    assert [i for i, _ in V.iter_sampled(path, 60.0)] == list(range(31))
    assert [i for i, _ in V.iter_sampled(path, 5.0, fps=10.0)] == list(range(0, 31, 2))


def test_window_starts_cover_every_sample_with_full_windows():
    assert V.window_starts(10, 25, 12).tolist() == [0]  # short video: one window of all
    assert V.window_starts(25, 25, 12).tolist() == [0]
    assert V.window_starts(26, 25, 12).tolist() == [0, 1]
    assert V.window_starts(49, 25, 12).tolist() == [0, 12, 24]
    assert V.window_starts(50, 25, 12).tolist() == [0, 12, 24, 25]
    assert V.window_starts(0, 25, 12).tolist() == []
    for t in range(1, 80):
        starts = V.window_starts(t, 25, 12)
        n = min(25, t)
        covered = np.zeros(t, dtype=int)
        for s in starts:
            covered[s : s + n] += 1
        assert covered.min() >= 1 and starts[-1] + n == t
    _, windows = V.window_indices(20, 10.0, sample_fps=10.0, window=25, stride=12)
    assert [w.tolist() for w in windows] == [list(range(20))]


def test_memory_stays_bounded_whatever_the_length(make_video):
    frame_bytes = 240 * 320 * 3
    path = make_video("long.avi", "MJPG", 200, 320, 240, fps=25.0)
    V.sample_uniform(path, 5)  # warm-up: the modules its first call imports are not frames
    tracemalloc.start()
    try:
        count = sum(1 for _ in V.iter_sampled(path, 100.0))  # every frame, none kept
        _, peak_stream = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        info, frames = V.sample_uniform(path, 5)
        _, peak_uniform = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200 and info.num_frames == 200 and len(frames) == 5
    assert peak_stream < 4 * frame_bytes
    assert peak_uniform < 9 * frame_bytes  # the 5 kept frames, a few in flight; not 200


def _sequential(path, n, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(V, "SEEK_MIN_FRAMES", 10**12)
        return V.sample_uniform(path, n)


class _SeekSpy:
    """Wraps cv2.VideoCapture and counts seeks and grabs of the decoding captures."""

    seeks = grabs = 0

    def __init__(self, *args):
        self._cap = _REAL(*args)
        self._raw = len(args) > 2  # the packet pass (raw mode) decodes nothing

    def set(self, *args):  # noqa: A003 - the cv2 name
        type(self).seeks += 1
        return self._cap.set(*args)

    def grab(self):
        type(self).grabs += 0 if self._raw else 1
        return self._cap.grab()

    def __getattr__(self, name):
        return getattr(self._cap, name)


@pytest.mark.parametrize("name,fourcc", [("s.avi", "MJPG"), ("s.mp4", "mp4v"), ("s.avi", "XVID")])
@pytest.mark.parametrize("n", [3, 5, 12])
def test_long_videos_are_sampled_by_seeking_to_the_same_frames(
    make_video, read_code, monkeypatch, name, fourcc, n
):
    path = make_video(name, fourcc, 400, 64, 48, fps=25.0)
    info_ref, ref = _sequential(path, n, monkeypatch)
    _SeekSpy.seeks = _SeekSpy.grabs = 0
    monkeypatch.setattr(cv2, "VideoCapture", _SeekSpy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info, got = V.sample_uniform(path, n)
    assert info == info_ref and info.num_frames == 400
    assert [i for i, _ in got] == [i for i, _ in ref] == V.uniform_indices(400, n).tolist()
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, ref, strict=True))
    assert [read_code(f) % 256 for _, f in got] == [i % 256 for i, _ in ref]
    if n <= 5:  # 12 samples are too close for mp4v's and XVID's keyframes (every 12 frames)
        assert _SeekSpy.seeks >= 1 and _SeekSpy.grabs < 400 * 3 // 4


def test_seek_plan_follows_the_keyframes():
    vtest = np.array([0, 250, 500, 750])  # opencv-doc's vtest.avi, 795 frames
    plan, decoded = V._seek_plan(vtest, V.uniform_indices(795, 25).tolist(), 795)
    assert not any(plan) and decoded == 795  # no keyframe far enough past the next frame
    plan, decoded = V._seek_plan(vtest, [100, 600], 795)
    assert plan == [False, True, True] and decoded == 101 + 101 + 45
    every = np.arange(1000)  # all keyframes (MJPG): seek when it skips >= SEEK_GAP frames
    plan, decoded = V._seek_plan(every, [10, 40, 500], 1000)
    assert plan == [False, False, True, True]
    assert decoded == 41 + 17 + 17


def test_runs_split_the_samples_so_the_busiest_capture_decodes_the_fewest():
    vtest = np.array([0, 250, 500, 750])
    idx = V.uniform_indices(795, 25).tolist()
    (run,) = V._split_runs(vtest, idx, 795, 1)
    assert run[:2] == (0, 25) and run[3] == 795  # one capture: the sequential plan
    a, b = V._split_runs(vtest, idx, 795, 2)
    assert (a[0], a[1], a[3]) == (0, 16, idx[15] + 1)  # frames 0..492 from the start
    assert (b[0], b[1], b[3]) == (16, 25, 795 - 500)  # a seek to 524 decodes from 500 on
    assert b[2][0] and not any(b[2][1:-1])  # the second run starts with a seek
    rng = np.random.default_rng(0)
    for _ in range(100):  # against every single cut
        header, gop, n = (
            int(rng.integers(130, 2000)),
            int(rng.integers(1, 400)),
            int(rng.integers(1, 40)),
        )
        keys, idx = np.arange(0, header, gop), V.uniform_indices(header, n).tolist()
        runs = V._split_runs(keys, idx, header, 2)
        best = min(
            [V._seek_plan(keys, idx, header)[1]]
            + [
                max(
                    V._seek_plan(keys, idx[:c], header, end=False)[1],
                    V._seek_plan(keys, idx[c:], header, start=None)[1],
                )
                for c in range(1, n)
            ]
        )
        assert max(r[3] for r in runs) == best
        assert [i for lo, hi, _, _ in runs for i in range(lo, hi)] == list(range(n))


class _OpenSpy(_SeekSpy):
    opened = 0

    def __init__(self, *args):
        super().__init__(*args)
        type(self).opened += 0 if self._raw else 1


@pytest.mark.parametrize("name,fourcc", [("s.avi", "MJPG"), ("s.mp4", "mp4v"), ("s.avi", "XVID")])
@pytest.mark.parametrize("gop", [None, 100])
def test_captures_in_parallel_give_the_frames_of_one(
    make_video, read_code, monkeypatch, name, fourcc, gop
):
    path = make_video(name, fourcc, 400, 64, 48, fps=25.0)
    if gop is not None:  # plan as if keyframes were rarer (a seek then lands later than needed)
        monkeypatch.setattr(V, "_keyframes", lambda p, h, f: np.arange(0, h, gop))
    _, ref = _sequential(path, 25, monkeypatch)
    monkeypatch.setattr(cv2, "VideoCapture", _OpenSpy)
    for threads in (1, 2, 3):
        monkeypatch.setattr(V, "DECODE_THREADS", threads)
        _OpenSpy.opened = 0
        steps: list[int] = []
        info, got = V.sample_uniform(path, 25, progress=steps.append)
        assert info.num_frames == 400 and sum(steps) == 400
        assert [i for i, _ in got] == [i for i, _ in ref]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, ref, strict=True))
        assert [read_code(f) for _, f in got] == [i % 256 for i, _ in ref]
        runs = V._split_runs(V._keyframes(path, 400, 25.0), [i for i, _ in ref], 400, threads)
        if max(r[3] for r in runs) <= 400 * 3 // 4:
            assert _OpenSpy.opened == len(runs)  # one capture per run
        else:
            assert _OpenSpy.opened == 2  # not worth seeking: read through (a second open)
        if gop == 100:  # 4 keyframes: one capture would read through, two split the work
            assert (len(runs) > 1 and _OpenSpy.opened == len(runs)) == (threads > 1)


def test_seeking_falls_back_to_reading_through(make_video, read_code, monkeypatch):
    path = make_video("f.avi", "XVID", 300, 64, 48, fps=25.0)
    assert V._keyframes(path, 300, 25.0) is not None
    assert V._keyframes(path, 301, 25.0) is None  # a packet count other than the header's
    assert V._keyframes(path, 300, 30.0) is None  # timestamps that are not k / fps
    # a header that claims more frames than there are: the packet count, or else the end
    # check, refuses to seek; the frames are read through
    monkeypatch.setattr(V, "_header_frames", lambda cap: 320)
    for keys in (V._keyframes, lambda p, h, f: np.arange(0, h, 12)):
        monkeypatch.setattr(V, "_keyframes", keys)
        with pytest.warns(V.TruncatedVideoWarning, match="after frame 300 but the header claims"):
            info, got = V.sample_uniform(path, 4)
        assert info.num_frames == 300
        assert [read_code(f) for _, f in got] == [i % 256 for i in V.uniform_indices(300, 4)]
    # a truncated long file: what decodes, as before
    short = _truncate(make_video("g.avi", "MJPG", 300, 64, 48, fps=25.0), 0.5)
    monkeypatch.undo()
    with pytest.warns(V.TruncatedVideoWarning, match="but the header claims 300"):
        info, got = V.sample_uniform(short, 4)
    assert 100 < info.num_frames < 300
    assert [read_code(f) for _, f in got] == [
        i % 256 for i in V.uniform_indices(info.num_frames, 4)
    ]


#: opencv-doc's example videos (``apt-get install opencv-doc``, or ``ATTNVIZ_OPENCV_DOC`` naming
#: the folder of an extracted package): vtest.avi, Megamind.avi, Megamind_bugy.avi, tree.avi.
OPENCV_DOC = Path(os.environ.get("ATTNVIZ_OPENCV_DOC", "/usr/share/doc/opencv-doc/examples/data"))


@pytest.mark.skipif(not OPENCV_DOC.is_dir(), reason="opencv-doc's example videos not installed")
@pytest.mark.parametrize("n", [3, 5, 25])
def test_opencv_doc_clips_give_the_same_frames(monkeypatch, n):
    clips = sorted(OPENCV_DOC.glob("*.avi"))
    assert clips
    for path in clips:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", V.TruncatedVideoWarning)
            info_ref, ref = _sequential(path, n, monkeypatch)
            info, got = V.sample_uniform(path, n)
        assert info == info_ref, path
        assert [i for i, _ in got] == [i for i, _ in ref], path
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, ref, strict=True)), path
