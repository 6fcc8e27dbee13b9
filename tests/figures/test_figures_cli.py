"""``attnviz figures`` and ``attnviz report`` through the real entry point (errors included)."""

from __future__ import annotations

import json

import pytest
from figures_helpers import make_output, make_result

from attnviz.cli import main
from attnviz.io.maps import save_attention


def _run(argv, capsys) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_figures_command_writes_png_and_pdf(tmp_path, capsys):
    save_attention(tmp_path / "maps.npz", make_output("vid_a"))
    out = tmp_path / "figs"
    code, _, err = _run(
        ["figures", "--maps", str(tmp_path / "maps.npz"), "--out", str(out), "--frames", "2"],
        capsys,
    )
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir() if p.name != ".attnviz-run.json")
    assert names == sorted(f"fig{i}_vid_a.{ext}" for i in (4, 5, 6) for ext in ("png", "pdf"))
    assert "gray canvases" in err and "wrote 6 files" in err


def test_figures_command_prints_map_with_ground_truth(tmp_path, capsys):
    save_attention(tmp_path / "m" / "vid_a.npz", make_output("vid_a"))
    ann = tmp_path / "ann"
    ann.mkdir()
    for name, text in (("Walk", ""), ("Jump", "vid_a 1.2 2.8\n"), ("Run", "")):
        (ann / f"{name}_test.txt").write_text(text)
    (tmp_path / "classes.txt").write_text("1 Walk\n2 Jump\n3 Run\n")
    args = ["figures", "--maps", str(tmp_path / "m"), "--gt", str(ann), "--classes",
            str(tmp_path / "classes.txt"), "--examples", "0", "--format", "png", "--quiet",
            "--out", str(tmp_path / "f")]  # fmt: skip
    code, out, err = _run(args, capsys)
    assert code == 0, err
    assert "temporal mAP (%) [thumos14]  0.1: 100.0, 0.2: 100.0" in out
    assert err == ""
    assert sorted(p.name for p in (tmp_path / "f").iterdir() if p.name[0] != ".") == [
        "eval_temporal.json", "map_temporal.png", "pr_temporal.png",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--maps", "{tmp}/nope.npz"], "nope.npz: maps file not found"),
        (["--maps", "{tmp}/maps.npz", "--frames", "0"], "--frames must be >= 1"),
        (["--maps", "{tmp}/maps.npz", "--format", "gif"], "--format takes png, pdf or svg"),
        (["--maps", "{tmp}/maps.npz", "--example", "zz"], "--example 'zz': no maps for this"),
        (["--maps", "{tmp}/maps.npz", "--gt", "{tmp}/gt.json"], "gt.json: ground truth not found"),
        (["--maps", "{tmp}/bad.npz"], "bad.npz: not a readable .npz"),
        (["--maps", "{tmp}/maps.npz", "--video", "{tmp}/v.mp4", "--videos", "{tmp}"], "not both"),
    ],
)
def test_figures_command_bad_input_one_line(tmp_path, capsys, args, message):
    save_attention(tmp_path / "maps.npz", make_output("vid_a"))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    out = tmp_path / "out"
    argv = ["figures", *[a.format(tmp=tmp_path) for a in args], "--out", str(out)]
    code, _, err = _run(argv, capsys)
    assert code != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1].startswith("error: ") and message in lines[-1], err
    assert not out.exists() or list(out.iterdir()) == []


def test_report_command_markdown_latex_and_files(tmp_path, capsys):
    r = make_result("temporal", (0.1, 0.2, 0.3, 0.4, 0.5), [0.7, 0.6, 0.5, 0.4, 0.3])
    (tmp_path / "r.json").write_text(json.dumps(r.to_dict()))
    code, out, err = _run(["report", "--eval", f"attention={tmp_path / 'r.json'}"], capsys)
    assert code == 0, err
    assert "| attention | 70.0 | 60.0 | 50.0 | 40.0 | 30.0 |" in out.replace("**", "")
    code, out, _ = _run(
        ["report", "--eval", str(tmp_path / "r.json"), "--format", "latex", "--paper",
         "--out", str(tmp_path / "rep")],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert "\\begin{tabular}" in out and "REINFORCE (paper)" in out
    assert (tmp_path / "rep" / "table6.tex").read_text() in out
    code, _, err = _run(["report", "--eval", str(tmp_path / "none.json")], capsys)
    assert (
        code == 2 and err.strip() == f"error: {tmp_path / 'none.json'}: evaluation file not found"
    )
    code, _, err = _run(["report", "--eval", "x=", "--eval", "y=z"], capsys)
    assert code != 0 and "--eval takes PATH or NAME=PATH" in err
