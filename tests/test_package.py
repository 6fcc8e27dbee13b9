"""Package-level checks: the CLI lists its commands, layers keep their import rules, the
README's commands are the ones CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from attnviz.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block, "README.md must open with a bash block of two commands"
    lines = [ln for ln in block.group(1).strip().splitlines() if ln.strip()]
    assert len(lines) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert lines[1] in ci.splitlines()


def test_evaluate_and_ops_do_not_import_plotting_or_torch():
    code = (
        "import sys, attnviz.evaluate, attnviz.ops, attnviz.types;"
        "bad = [m for m in ('torch', 'cv2', 'matplotlib') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"evaluate/ops imported {out.stdout.strip()}"
