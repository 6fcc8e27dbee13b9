"""Evaluator speed: THUMOS14 (3 protocols x 7 thresholds, 200,000 detections) and UCF101-24
(frame-mAP on 500,000 detections x 6 thresholds, video-mAP on 10,000 tubes), each against a
straightforward per-detection loop of the same protocol measured in the same run.

AVA (700,000 detections) and ActivityNet-1.3 (120,000 x 10 thresholds): see
``eval_speed_ava_anet.py`` (the official scripts are measured when their paths are given there).

Run: ``python benchmarks/eval_speed.py [--only thumos|ucf24|ava|anet]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["thumos", "ucf24", "ava", "anet"], default=None)
    args = parser.parse_args()
    if args.only in (None, "thumos"):
        import eval_speed_thumos

        print("=== THUMOS14 temporal detection ===", flush=True)
        eval_speed_thumos.main()
    if args.only in (None, "ucf24"):
        import eval_speed_ucf24

        print("=== UCF101-24 frame-mAP and video-mAP ===", flush=True)
        eval_speed_ucf24.main()
    if args.only in (None, "ava", "anet"):
        import eval_speed_ava_anet

        print("=== AVA and ActivityNet-1.3 ===", flush=True)
        eval_speed_ava_anet.main(["--only", args.only] if args.only else [])


if __name__ == "__main__":
    main()
