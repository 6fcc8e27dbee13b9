"""``attnviz datasets``: the benchmarks' ground truth by name (what ships, what to put where)."""

from __future__ import annotations

import json

import typer

from attnviz.cli._app import app, fail

_COLUMNS = ("name", "videos", "instances", "ambiguous", "boxes", "frames", "content", "source")


def _cell(v) -> str:
    if v is None:
        return "-"
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def _table(rows: list[dict]) -> str:
    cells = [[_cell(r[c]) for c in _COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(_COLUMNS)]
    numeric = set(range(1, 6))

    def line(values) -> str:
        return "  ".join(
            v.rjust(w) if i in numeric else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    out = [line(_COLUMNS), line("-" * w for w in widths)]
    out += [line(c) for c in cells]
    out.append("")
    out.append(
        "videos, instances (class instances or tubes), boxes and frames of the split each name "
        "scores (THUMOS14: its subset, with its Ambiguous segments apart; UCF101-24 / JHMDB-21: "
        "split 1 test)."
    )
    for r in rows:
        if not r["ships"]:
            state = "present" if r["present"] else f"missing: put {r['official']} there"
            out.append(f"{r['name']} does not ship: read from {r['path']} ({state})")
    out.append(
        "Data folder for what does not ship: $ATTNVIZ_DATA, else attnviz/ beside the torch hub "
        "cache ($TORCH_HOME/attnviz, default ~/.cache/torch/attnviz)."
    )
    return "\n".join(out) + "\n"


@app.command("datasets")
def datasets_cmd(
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """The benchmarks that --gt takes by name: what each holds (counted from its files),
    where it comes from, and where the ground truth that cannot ship goes."""
    from attnviz.io.datasets import list_datasets

    if fmt not in ("table", "json"):
        raise fail(f"--format must be table or json, got {fmt!r}")
    rows = list_datasets()
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
    else:
        typer.echo(_table(rows), nl=False)
