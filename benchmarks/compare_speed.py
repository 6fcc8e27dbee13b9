"""``attnviz compare-explanations`` on the README's 24 videos, timed as a user runs it, against
the model alone on the same clips, measured in the same run.

The command: ``attnviz compare-explanations --data synth2000 --max-videos 24 --out DIR`` (every
method, the deletion / insertion curves, the sanity check on 4 videos, the figures and the
pages; the default model), run as a fresh process so that start-up counts. The data: the
README's ``attnviz synth --out synth2000 --videos 48 --seed 2000 --splits test=1``, made here in
a temporary folder unless ``--data`` names one.

Reference: the model alone on the same 24 clips, each decoded (25 uniform frames), preprocessed
and passed forward once, in this process with the model already loaded. The ratio says how
many forward passes the whole comparison costs. Target (issue 18): the comparison in at most
5 minutes of wall time on 2 cores. The per-method seconds per clip come from the command's own
``summary.json``.

Run: ``python benchmarks/compare_speed.py [--data synth2000] [--max-videos 24]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "attnviz", *args]


def model_alone(data: Path, videos: int) -> float:
    """Seconds to decode, preprocess and pass forward the first clip of ``videos`` videos."""
    import numpy as np
    import torch

    from attnviz.data import preprocess
    from attnviz.io.video import sample_uniform
    from attnviz.pipeline.explain import load_model

    model, _ = load_model(None, "cpu")
    paths = sorted((data / "videos").iterdir())[:videos]
    _, got = sample_uniform(paths[0], 25)  # warm-up
    with torch.inference_mode():
        model(preprocess(np.stack([f for _, f in got]), model.input_size)[None])
    t = time.perf_counter()
    with torch.inference_mode():
        for p in paths:
            _, got = sample_uniform(p, 25)
            x = preprocess(np.stack([f for _, f in got]), model.input_size)
            model(x[None])
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="the synth2000 folder (default: made here)")
    parser.add_argument("--max-videos", type=int, default=24)
    args = parser.parse_args()

    import torch

    work = Path(tempfile.mkdtemp(prefix="attnviz-bench-compare-"))
    data = Path(args.data) if args.data else work / "synth2000"
    if not args.data:
        subprocess.run(
            _cli("synth", "--out", str(data), "--videos", "48", "--seed", "2000", "--splits",
                 "test=1", "--quiet"),
            check=True,
        )  # fmt: skip
    ref = model_alone(data, args.max_videos)
    out = work / "compare"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    subprocess.run(
        _cli("compare-explanations", "--data", str(data), "--max-videos", str(args.max_videos),
             "--out", str(out), "--quiet"),
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - t
    summary = json.loads((out / "summary.json").read_text())
    print(f"{args.max_videos} videos of {data.name}; torch threads {torch.get_num_threads()}; "
          f"{os.cpu_count()} CPUs visible; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"model alone (decode, preprocess, forward) on the {args.max_videos} clips: {ref:.2f} s")
    print(f"compare-explanations end to end (a fresh process): {wall:.1f} s = {wall / 60:.2f} min "
          f"= {wall / ref:.0f}x the model alone (target <= 5 min)")  # fmt: skip
    for method, row in summary["table"].items():
        if row.get("seconds_per_clip") is not None:
            print(f"    {method:12s} {row['seconds_per_clip']:.3f} s per clip")


if __name__ == "__main__":
    main()
