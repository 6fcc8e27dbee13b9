"""The README's examples run as written (issue 22): every ``bash`` command and every ``python``
block, in a scratch folder that holds the repository's ``assets/`` and ``recipes/`` and, beside
it, ``../shared`` (the real annotations) when this checkout has it.

Not run, each for the reason printed with ``-rs``: ``pip install`` (the environment is already
installed) and the test command itself (this suite); commands whose input files are not in the
repository (``--pred run.txt`` of one's own detections, ``train.csv``, ``my_recipe.json``,
``runs/x/best.pt``: anything an input option names that does not exist when the command's turn
comes); ``torchrun`` (several processes); the long ones (the default model's recipe: 15 minutes,
covered by ``tests/test_default_model.py``; ``compare-explanations`` on 24 videos: 5 minutes).
The tiny recipe runs in the slow test.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

#: options whose value is an input that must exist for the command to run as written
INPUTS = ("--video", "--input", "--pred", "--data", "--val", "--root", "--recipe",
          "--checkpoint", "--maps", "--eval", "--gt", "--test")  # fmt: skip
#: commands run only by the slow test (substring -> why)
SLOW = {"recipes/tiny.json": "about 15 s of CPU"}
#: commands never run here (substring -> why): tests/test_default_model.py rebuilds the model
NEVER = {
    "recipes/default_model.json": "15 minutes; tests/test_default_model.py (slow) rebuilds it",
    "recipes/r3d18_synth.json": "9 minutes on 2 cores; tests/train covers the video_model recipe",
    "compare-explanations": "26 minutes on 2 CPU cores (tests/explain_methods cover it)",
    "synth --out synth2000": "the input of compare-explanations only",
}


def _blocks(lang: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _commands() -> list[str]:
    cmds = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" # ")[0].strip()
            if line and not line.startswith("#"):
                cmds += [c.strip() for c in line.split("&&")]
    return cmds


def _why_not(cmd: str, cwd: Path, slow: bool) -> str | None:
    args = shlex.split(cmd)
    if args[0] == "pip":
        return "installs the package (already installed here)"
    if args[:3] == ["python", "-m", "pytest"]:
        return "the test command itself"
    if args[0] == "torchrun":
        return "several processes (tests/train/test_engine_ddp.py covers DDP)"
    if args[0] != "attnviz":
        return f"not an attnviz command: {args[0]}"
    for key, why in NEVER.items():
        if key in cmd:
            return f"long ({why})"
    for key, why in SLOW.items():
        if key in cmd and not slow:
            return f"slow ({why})"
    for i, a in enumerate(args[:-1]):
        if a in INPUTS:
            value = args[i + 1].split("=", 1)[-1]
            if not (cwd / value).exists():
                return f"needs {value} (not in the repository)"
    return None


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    cwd = tmp_path / "repo"
    cwd.mkdir()
    for name in ("assets", "recipes"):
        (cwd / name).symlink_to(REPO / name)
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED)
    monkeypatch.chdir(cwd)
    return cwd


def _run_all(cwd: Path, slow: bool) -> tuple[list[str], list[str]]:
    from attnviz.cli import main

    ran, skipped = [], []
    for cmd in _commands():
        why = _why_not(cmd, cwd, slow)
        if why is not None:
            skipped.append(f"{cmd}: {why}")
            continue
        if slow and not any(k in cmd for k in SLOW):
            continue  # the default run covers it
        try:
            main(shlex.split(cmd)[1:])
            code = 0
        except SystemExit as exc:
            code = exc.code
        assert code in (0, None), f"README command failed ({code}): {cmd}"
        ran.append(cmd)
    return ran, skipped


def test_readme_commands_run_as_written(scratch, capsys):
    ran, skipped = _run_all(scratch, slow=False)
    assert ran[0] == "attnviz spatial-map --video assets/demo.mp4 --out out/"
    assert (scratch / "out" / "overlay.mp4").is_file()
    print("\n".join(["not run:"] + skipped))


def test_readme_python_blocks_run_as_written(scratch):
    blocks = _blocks("python")
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        if "../shared" in block and not SHARED.is_dir():
            pytest.skip("needs ../shared/data (the real annotations)")
        exec(compile(block, f"README.md python block {i + 1}", "exec"), {})  # noqa: S102
    assert (scratch / "model.pt").is_file() and (scratch / "demo_maps.npz").is_file()


@pytest.mark.slow
def test_readme_slow_commands_run_as_written(scratch):
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    ran, _ = _run_all(scratch, slow=True)
    assert any("recipes/tiny.json" in c for c in ran)
