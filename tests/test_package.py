"""Package-level checks: the CLI lists its commands, layers keep their import rules, the
README's commands are the ones CI runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_library_errors_name_parameters_and_the_command_line_flags():
    from attnviz.cli._app import error_message
    from attnviz.errors import AttnvizError, ParameterError

    exc = ParameterError("video", "goes with one maps file: use {videos}", others=("videos",))
    assert str(exc) == "video goes with one maps file: use videos"
    assert error_message(exc) == "--video goes with one maps file: use --videos"
    exc = AttnvizError("a.csv: no video folder given ({root})", params=("root",))
    assert str(exc) == "a.csv: no video folder given (root)"
    assert error_message(exc) == "a.csv: no video folder given (--root)"
    assert error_message(ParameterError("evals", "names no file")) == "--eval names no file"
    assert error_message(AttnvizError("{root} is literal here")) == "{root} is literal here"


def test_no_library_message_names_a_flag():
    """Flags are the command line's words: what attnviz/ outside cli/ raises names parameters
    (a hint at another command, ``attnviz convert-gt --to coco``, may name that command's)."""
    import ast

    root = Path(__file__).resolve().parents[1] / "attnviz"
    found = []
    for path in root.rglob("*.py"):
        if "cli" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for c in ast.walk(node.exc):
                    text = c.value if isinstance(c, ast.Constant) else None
                    if isinstance(text, str) and re.search(r"(?<!attnviz )(?<![-\w])--[a-z]", text):
                        if not re.search(r"attnviz [a-z-]+ --[a-z]", text):
                            found.append(f"{path.relative_to(root)}:{c.lineno}: {text}")
    assert found == []


def test_runtime_dependencies_are_exactly_what_the_package_imports():
    """Every runtime dependency of pyproject.toml is imported by attnviz, and every third-party
    module attnviz imports is declared (test-only packages go in the test extra)."""
    import ast
    import re
    import sys

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    root = Path(__file__).resolve().parents[1]
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    module_of = {"opencv-python-headless": "cv2", "opencv-python": "cv2"}
    declared = {
        module_of.get(n, n.replace("-", "_"))
        for n in (re.split(r"[<>=!~ ;\[]", d)[0] for d in deps)
    }
    imported: set[str] = set()
    for path in (root / "attnviz").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {
        m
        for m in imported
        if m not in sys.stdlib_module_names and m not in ("attnviz", "__future__")
    }
    assert declared - third_party == set(), "declared but never imported"
    assert third_party - declared == set(), "imported but not declared"
