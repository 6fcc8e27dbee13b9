"""Write files so that nothing half-written is ever left behind.

Everything attnviz writes goes to a temporary file in the destination folder and is renamed
into place only once complete (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from attnviz.errors import AttnvizError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_dir",
    "output_dir",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary name keeps ``path``'s suffix (or ``suffix``) so that writers that choose a
    format from the extension (OpenCV, matplotlib, numpy) still work. On an exception the
    temporary file is removed and ``path`` is untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    sfx = dest.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{sfx}", dir=dest.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success move its files into ``path``.

    Used by commands that write several outputs: either all of them appear or none does.
    Files already in ``path`` with other names are left alone; files with the same names are
    replaced one by one with ``os.replace``.
    """
    dest = Path(path)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".attnviz-", dir=dest))
    try:
        yield tmp
        for item in sorted(tmp.rglob("*")):
            rel = item.relative_to(tmp)
            if item.is_dir():
                (dest / rel).mkdir(parents=True, exist_ok=True)
            else:
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, dest / rel)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def output_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """All outputs of one command, or none: checks that ``path`` can be a writable output
    folder (one-line :class:`AttnvizError` otherwise), then :func:`atomic_dir`; a folder this
    call created is removed again on failure."""
    dest = Path(path)
    existed = dest.exists()
    if existed and not dest.is_dir():
        raise AttnvizError(f"{dest}: exists and is not a folder")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AttnvizError(
            f"{dest}: cannot create the output folder ({exc.strerror or exc})"
        ) from None
    if not os.access(dest, os.W_OK | os.X_OK):
        raise AttnvizError(f"{dest}: output folder is not writable")
    try:
        with atomic_dir(dest) as tmp:
            yield tmp
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                dest.rmdir()  # only if still empty
        raise
