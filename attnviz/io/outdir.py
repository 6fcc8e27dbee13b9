"""One rule for every command's output folder: never mix two runs' outputs.

Every command that writes a folder (``spatial-map``, ``temporal-map``, ``localize``,
``figures``, ``report --out``, ``compare-explanations``, ``train``) leaves a small record,
``.attnviz-run.json``, naming the command, its input and the files it wrote. Before writing,
the folder is checked:

* missing or empty (hidden files aside): used;
* holding the record of the *same* command on the *same* input: used, the rerun replaces its
  own files (not for ``train``, whose checkpoints a rerun would mix with the old epochs);
* anything else (another command or input, files attnviz did not write, an earlier training
  run): refused with one line saying what is there, unless ``--overwrite`` (which first removes
  the files the earlier run recorded, and for ``train`` its checkpoints and ``log.csv``; files
  attnviz did not write are never removed) or, for ``train``, ``--resume``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from attnviz.errors import AttnvizError

__all__ = ["RECORD", "check_output_folder", "output_folder", "record_output_folder"]

RECORD = ".attnviz-run.json"


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _read_record(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _describe(record: dict | None) -> str:
    if record is None:
        return "files attnviz did not write"
    return f"the outputs of `attnviz {record.get('command')}` on {record.get('source')}"


def check_output_folder(
    folder: str | os.PathLike[str],
    *,
    command: str,
    source: str,
    overwrite: bool = False,
    rerun_ok: bool = True,
    owned: Sequence[str] = (),
    flag_hint: str = "--overwrite",
) -> None:
    """Apply the rule of the module docstring to ``folder`` before ``command`` writes there.

    Args:
        folder: the output folder.
        command, source: the command's name and its input (a path or a short description).
        overwrite: replace an earlier run's outputs (removes the files its record lists, and
            those matching ``owned``).
        rerun_ok: a rerun of the same command on the same input may write over its own files.
        owned: glob patterns of files this command owns (removed with ``overwrite``).
        flag_hint: the options named in the refusal.

    Raises:
        AttnvizError: the folder holds another run's outputs (one line naming them).
    """
    dest = Path(folder)
    if not dest.is_dir():
        return
    present = _visible(dest)
    if not present:
        return
    record = _read_record(dest)
    same = record is not None and (record.get("command"), record.get("source")) == (
        command,
        str(source),
    )
    if same and rerun_ok:
        return
    if not overwrite:
        example = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
        raise AttnvizError(
            f"{dest}: holds {_describe(record)} ({example}); choose another {{out}}, or pass "
            f"{flag_hint} to replace them",
            params=("out",),
        )
    listed = set(record.get("files", [])) if record else set()
    for name in present:
        if name in listed or any(fnmatch.fnmatch(name, pat) for pat in owned):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                (dest / name).unlink()


def record_output_folder(
    folder: str | os.PathLike[str], *, command: str, source: str, files: Sequence[str] = ()
) -> None:
    """Write the record of a finished run (``files``: default every visible file)."""
    from attnviz.io.atomic import atomic_write_text

    dest = Path(folder)
    if not dest.is_dir():
        return
    names = sorted(files) if files else _visible(dest)
    text = json.dumps({"command": command, "source": str(source), "files": names}, indent=1)
    atomic_write_text(dest / RECORD, text + "\n")


@contextlib.contextmanager
def output_folder(
    folder: str | os.PathLike[str] | None,
    *,
    command: str,
    source: str,
    overwrite: bool = False,
    rerun_ok: bool = True,
    owned: Sequence[str] = (),
    flag_hint: str = "--overwrite",
) -> Iterator[None]:
    """:func:`check_output_folder` before the block, :func:`record_output_folder` after it
    succeeds (files present before that this run did not replace are not recorded as its own
    unless the folder was empty). ``folder=None`` does nothing."""
    if folder is None:
        yield
        return
    dest = Path(folder)
    check_output_folder(
        dest, command=command, source=source, overwrite=overwrite, rerun_ok=rerun_ok,
        owned=owned, flag_hint=flag_hint,
    )  # fmt: skip
    before = {n: (dest / n).stat().st_mtime_ns for n in _visible(dest)} if dest.is_dir() else {}
    record = _read_record(dest) if dest.is_dir() else None
    keep = set(record.get("files", [])) if record and record.get("command") == command else set()
    yield
    if not dest.is_dir():
        return
    now = _visible(dest)
    mine = [
        n for n in now
        if n not in before or n in keep or (dest / n).stat().st_mtime_ns != before[n]
    ]  # fmt: skip
    record_output_folder(dest, command=command, source=source, files=mine or now)
