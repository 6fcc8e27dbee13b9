"""``attnviz synth``: the synthetic action dataset with known answers."""

from __future__ import annotations

from pathlib import Path

import typer

from attnviz.cli._app import app, info


@app.command("synth")
def synth_cmd(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    videos: int = typer.Option(..., "--videos", help="Number of videos."),
    seed: int = typer.Option(..., "--seed", help="Seed: the same seed gives the same videos."),
    splits: str = typer.Option(
        "train=0.8,val=0.2", "--splits", help="Split fractions, e.g. train=0.8,val=0.2 or test=1."
    ),
    codec: str = typer.Option("mp4", "--codec", help="mp4 (mp4v) or avi (MJPG)."),
    width: int = typer.Option(160, "--width", help="Frame width in pixels."),
    height: int = typer.Option(120, "--height", help="Frame height in pixels."),
    fps: float = typer.Option(25.0, "--fps", help="Frame rate."),
    workers: int = typer.Option(1, "--workers", help="Processes writing videos."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Write synthetic action videos with THUMOS14-style and UCF101-24-style ground truth."""
    from attnviz.data.synthetic import SynthConfig, generate_dataset

    config = SynthConfig(width=width, height=height, fps=fps, codec=codec)
    summary = generate_dataset(
        out, videos=videos, seed=seed, splits=splits, config=config, workers=workers, quiet=quiet
    )
    counts = ", ".join(f"{k}: {v}" for k, v in summary["splits"].items())
    info(f"wrote {summary['videos']} videos to {summary['out']} ({counts})", quiet)
