"""Opening text inputs: gzip detected by its magic bytes, clear errors for missing files."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from attnviz.errors import AttnvizError, InputError

__all__ = ["read_bytes", "read_text"]


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's content, decompressed if it is gzip (whatever its name)."""
    p = Path(path)
    if not p.exists():
        raise AttnvizError(f"{p}: file not found")
    if p.is_dir():
        raise AttnvizError(f"{p}: is a folder, expected a file")
    data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(f"{p}: truncated or corrupt gzip file ({exc})") from None
    return data


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text (UTF-8, BOM removed; gzip read transparently)."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
