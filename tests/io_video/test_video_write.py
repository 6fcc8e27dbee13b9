"""Writing videos: the codec follows the extension (or is named), files appear only when
complete."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from attnviz.errors import AttnvizError
from attnviz.io.video import probe
from attnviz.io.video_writer import open_video_writer, write_video


@pytest.fixture
def rgb(coded_frame):
    return lambda i, w=64, h=48: coded_frame(i, w, h)[..., ::-1].copy()


@pytest.mark.parametrize("name,codec", [("o.mp4", None), ("o.avi", None), ("x.avi", "XVID")])
def test_written_video_reads_back(tmp_path, rgb, read_code, name, codec):
    path = write_video(tmp_path / name, (rgb(i) for i in range(11)), fps=7.0, codec=codec)
    info = probe(path)
    assert (info.num_frames, info.width, info.height) == (11, 64, 48)
    assert info.fps == pytest.approx(7.0)
    cap = cv2.VideoCapture(str(path))
    codes = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        codes.append(read_code(bgr[..., ::-1]))
    assert codes == list(range(11))
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_nothing_is_left_when_writing_fails(tmp_path, rgb):
    dest = tmp_path / "o.mp4"
    with pytest.raises(ValueError, match="differs"):
        write_video(dest, [rgb(0), rgb(1, 32, 32)], fps=5)
    with pytest.raises(AttnvizError, match="no frame"):
        write_video(dest, [], fps=5)
    with pytest.raises(ValueError, match="uint8"):
        write_video(dest, [np.zeros((8, 8, 3), np.float32)], fps=5)
    with pytest.raises(RuntimeError), open_video_writer(dest, 5) as w:
        w.write(rgb(0))
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="four-character"):
        write_video(dest, [rgb(0)], fps=5, codec="h264x")
