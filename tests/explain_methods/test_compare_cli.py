"""``attnviz compare-explanations`` through the entry point."""

from __future__ import annotations

import pytest

from attnviz.cli import main


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_compare_command_prints_the_table(dataset, checkpoint, tmp_path, capsys):
    out_dir = tmp_path / "o"
    code, out, err = run(
        ["compare-explanations", "--data", dataset, "--checkpoint", checkpoint, "--out", out_dir,
         "--methods", "attention,gradcam", "--max-videos", 2, "--frames", 6, "--sanity-videos", 0,
         "--spatial-steps", 2, "--temporal-steps", 3, "--random-orders", 1, "--quiet"],
        capsys,
    )  # fmt: skip
    assert code in (0, None), err
    assert err == ""
    assert "| attention |" in out and "| gradcam |" in out and "| random order |" in out
    assert "2 videos" in out
    assert (out_dir / "table.md").read_text().strip() == out.strip()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--methods", "attention,lime"], "unknown explanation method 'lime'"),
        (["--baseline", "noise"], "baseline must be one of"),
        (["--fps", "-1"], "--fps must be positive"),
        (["--threshold", "1.5"], "threshold must be in [0, 1]"),
        (["--max-videos", "0"], "--max-videos must be >= 1"),
    ],
)
def test_bad_options_fail_with_one_line(dataset, checkpoint, tmp_path, capsys, extra, message):
    out_dir = tmp_path / "bad"
    code, out, err = run(
        ["compare-explanations", "--data", dataset, "--checkpoint", checkpoint, "--out", out_dir,
         "--quiet", *extra],
        capsys,
    )  # fmt: skip
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert not out_dir.exists()


def test_missing_data_and_checkpoint(tmp_path, capsys, checkpoint):
    code, _, err = run(["compare-explanations", "--data", tmp_path / "none", "--checkpoint",
                        checkpoint, "--out", tmp_path / "o"], capsys)  # fmt: skip
    assert code != 0 and "data folder not found" in err
    (tmp_path / "d").mkdir()
    code, _, err = run(["compare-explanations", "--data", tmp_path / "d", "--checkpoint",
                        tmp_path / "no.pt", "--out", tmp_path / "o"], capsys)  # fmt: skip
    assert code != 0 and err.startswith("error: ")
    assert not (tmp_path / "o").exists()
