"""The decode threads of ``attnviz detect`` (``--workers``): the same frames and the same
warnings, video by video, as decoding in the main thread; a warning raised in a thread goes to
its own video, never to the screen or to another video; an unexpected error in a thread is
raised again in the main thread."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from attnviz.pipeline.detect import _Decoder


def _write(path: Path, n: int, fourcc: str = "MJPG", seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (64, 48))
    for _ in range(n):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[Path]:
    """Five short AVIs; the third is truncated (decodes partly, warns), the fourth is not a
    video (fails)."""
    root = tmp_path_factory.mktemp("decoder")
    paths = [_write(root / f"v{k}.avi", 12 + 3 * k, seed=k) for k in range(5)]
    blob = paths[2].read_bytes()
    paths[2].write_bytes(blob[: int(len(blob) * 0.6)])
    paths[3].write_bytes(b"not a video")
    return paths


def _drain(decoder: _Decoder, n: int) -> list:
    got = []
    for _ in range(n):
        meta, frames, warns = decoder.video()
        if meta is None:
            got.append(("fail", frames, list(warns)))
            continue
        pairs = list(frames)  # the warnings are known once the frames are drained
        got.append(([i for i, _ in pairs], [f.tobytes() for _, f in pairs], list(warns)))
    return got


@pytest.mark.parametrize("mode", [("uniform", 5), ("fps", 5.0)])
def test_threads_hand_over_what_the_main_thread_decodes(videos, mode):
    here = _Decoder(videos, mode, workers=0, chunk=3)
    expected = _drain(here, len(videos))
    here.close()
    for workers in (1, 2, 3):
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            decoder = _Decoder(videos, mode, workers=workers, chunk=3, depth=1)
            try:
                got = _drain(decoder, len(videos))
            finally:
                decoder.close()
        assert got == expected, workers
        assert shown == []  # nothing leaked past the videos' own lists
    assert any("v2.avi: decoding stopped" in w for w in expected[2][2])
    assert expected[3][0] == "fail" and "v3.avi" in expected[3][1]
    assert all(not e[2] for k, e in enumerate(expected) if k not in (2, 3))


def test_warnings_of_the_main_thread_pass_through_while_threads_decode(videos):
    decoder = _Decoder(videos, ("uniform", 5), workers=2)
    try:
        with pytest.warns(UserWarning, match="from the main thread"):
            warnings.warn("from the main thread", UserWarning, stacklevel=1)
        got = _drain(decoder, len(videos))
    finally:
        decoder.close()
    assert all("main thread" not in w for g in got for w in g[2])
    assert warnings.showwarning.__module__ == "warnings"  # close() put the handler back


def test_an_unexpected_error_in_a_thread_is_raised_in_the_main_thread(videos):
    decoder = _Decoder(videos[:2], ("uniform", 0), workers=2)  # sample_uniform: n must be >= 1
    threads = decoder.threads
    try:
        with pytest.raises(ValueError, match="n must be >= 1"):
            decoder.video()
    finally:
        decoder.close()
    assert len(threads) == 2 and not any(t.is_alive() for t in threads)
