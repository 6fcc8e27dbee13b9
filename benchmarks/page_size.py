"""Size of the interactive pages: the demo video's, and a one-hour video's at 10 sampled frames
per second.

* demo: ``attnviz spatial-map --video assets/demo.mp4`` (default model, 25 uniform frames, a
  14 x 14 feature grid) into a temporary folder; sizes of ``index.html`` and ``video.webm``.
* one hour: an :class:`~attnviz.types.AttentionOutput` built from arrays (36000 sampled frames
  of a 30 fps 320 x 240 video, 14 x 14 masks, sliding windows of 25 every 12, one predicted box
  on every sampled frame, a segment every minute) and its page built in memory (no video is
  decoded; the page's video copy is the user's video re-encoded and is not part of the page).

Run: ``python benchmarks/page_size.py [--skip-demo]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def demo() -> None:
    from attnviz.pipeline.explain import spatial_map

    with tempfile.TemporaryDirectory() as tmp:
        spatial_map(ROOT / "assets" / "demo.mp4", tmp, quiet=True)
        page = Path(tmp) / "index.html"
        video = Path(tmp) / "video.webm"
        print(
            f"demo ({ROOT / 'assets' / 'demo.mp4'}): index.html {page.stat().st_size} bytes "
            f"({_mb(page.stat().st_size)}), video.webm {video.stat().st_size} bytes"
        )


def hour(grid: int = 14, sample_fps: float = 10.0, seconds: float = 3600.0) -> None:
    import numpy as np

    from attnviz.render.page import video_page_data, video_page_html
    from attnviz.types import AttentionOutput, Box, Segment

    t, n = int(seconds * sample_fps), 25
    starts = np.arange(0, t - n + 1, 12)
    rng = np.random.default_rng(0)
    out = AttentionOutput(
        frame_indices=np.arange(t) * 3 + 1,
        timestamps=np.arange(t) / sample_fps,
        frame_size=(240, 320),
        mask=rng.random((t, grid, grid), dtype=np.float32),
        temporal=np.full((len(starts), n, n), 1.0 / n, dtype=np.float32),
        frame_importance=rng.random(t, dtype=np.float32),
        scores=np.full(20, 1 / 20, dtype=np.float32),
        class_names=tuple(f"class_{i}" for i in range(20)),
        video="one_hour",
        fps=30.0,
        window_starts=starts,
    )
    boxes = [
        Box("one_hour", int(f), 3, 0.4123, 10.25, 20.5, 200.75, 230.125) for f in out.frame_indices
    ]
    segs = [Segment("one_hour", s, s + 30.0, 3, 0.5) for s in range(0, int(seconds), 60)]
    t0 = time.perf_counter()
    page = video_page_html(
        video_page_data(
            {"attention": out},
            importance={"attention": out.frame_importance},
            threshold=0.5,
            pred_boxes={"attention": boxes},
            pred_segments={"attention": segs},
            duration=seconds,
        )  # fmt: skip
    )
    size = len(page.encode("utf-8"))
    print(
        f"one hour at {sample_fps:g} fps ({t} sampled frames, {grid} x {grid} grid, one box a "
        f"frame): index.html {size} bytes ({_mb(size)}), built in "
        f"{time.perf_counter() - t0:.1f} s; maps alone {_mb(t * grid * grid * 4 // 3)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-demo", action="store_true", help="Only the one-hour page.")
    args = ap.parse_args()
    if not args.skip_demo:
        demo()
    hour()
    hour(grid=7)


if __name__ == "__main__":
    main()
