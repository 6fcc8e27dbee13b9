"""Every scoring command of the README's "Scoring like the papers do", run as written from a fresh
copy of the repository with nothing beside it (no ``../shared``, an empty data folder), with
small stand-ins for the user's prediction files."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Scoring like the papers do"
#: the README's prediction files -> small real detection files of the tests
STAND_INS = {
    "run.txt": "tests/evaluate_thumos/data/full_test.txt",
    "dets.csv": "tests/evaluate_ucf24/data/ucf_frames.csv.gz",
    "tubes.json": "tests/evaluate_ucf24/data/ucf_tubes.json.gz",
    "jhmdb_dets.csv": "tests/evaluate_ucf24/data/jhmdb_frames.csv.gz",
}


def readme_commands(text: str) -> list[list[str]]:
    """The commands of the first ``bash`` block after :data:`SECTION` (continuations joined,
    comments dropped)."""
    body = text[text.index(SECTION) :]
    block = body[
        body.index("```bash") + len("```bash") : body.index("```", body.index("```bash") + 7)
    ]
    block = block.replace("\\\n", " ")
    return [
        shlex.split(ln)
        for ln in block.splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]


def fresh_clone(dest: Path) -> Path:
    """What a clone of this checkout holds (tracked files and new files git does not ignore, as
    they are in the working tree), copied to ``dest``."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / rel)
    return dest


def test_readme_scoring_commands_run_from_a_clone(tmp_path):
    readme = (ROOT / "README.md").read_text()
    commands = readme_commands(readme)
    section = readme[readme.index(SECTION) :].split("\n## ", 1)[0]
    assert "shared" not in section
    assert len(commands) >= 6 and all(c[0] == "attnviz" for c in commands)
    clone = fresh_clone(tmp_path / "attnviz")
    assert not (tmp_path / "shared").exists()
    for cmd in commands:
        pred = cmd[cmd.index("--pred") + 1] if "--pred" in cmd else None
        if pred is not None:
            assert pred in STAND_INS, f"no stand-in for the README's {pred}"
            shutil.copyfile(clone / STAND_INS[pred], clone / pred)
    env = {
        **os.environ,
        "PYTHONPATH": str(clone),
        "ATTNVIZ_DATA": str(tmp_path / "data"),
        "OMP_NUM_THREADS": "1",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import attnviz; print(attnviz.__file__)"],
        cwd=clone, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert Path(where.strip()).is_relative_to(clone)
    for cmd in commands:
        r = subprocess.run(
            [sys.executable, "-m", "attnviz", *cmd[1:]],
            cwd=clone, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, f"{shlex.join(cmd)}\n{r.stderr}"
        assert "error" not in r.stderr.lower(), r.stderr
        if "--out" in cmd:
            assert (clone / cmd[cmd.index("--out") + 1]).stat().st_size > 0
        else:
            assert "mAP" in r.stdout, shlex.join(cmd)
