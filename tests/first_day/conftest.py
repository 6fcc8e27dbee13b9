"""Helpers for the first-day tests (issue 22): run a command through attnviz's entry point,
a small checkpoint and small videos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "assets" / "demo.mp4"


@pytest.fixture
def cli(capsys):
    """``cli(*args) -> (exit code, stdout, stderr)``."""
    from attnviz.cli import main

    def run(*args):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def demo(tmp_path):
    """A copy of the demo clip under ``name`` (``demo(name) -> Path``)."""

    def make(name="demo.mp4"):
        dest = tmp_path / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO, dest)
        return dest

    return make
