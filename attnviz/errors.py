"""The errors attnviz raises for bad input.

Every message names the file, the line or the field (and the shape where it matters), so that
the command line can print it as one line and exit non-zero.
"""

from __future__ import annotations

__all__ = ["AttnvizError", "InputError", "format_location"]


class AttnvizError(Exception):
    """A problem the user can fix (bad input, missing file, unknown class, ...)."""


class InputError(AttnvizError, ValueError):
    """Malformed or inconsistent input data; the message says where."""


def format_location(path: object, line: int | None = None, field: str | None = None) -> str:
    """``'file.txt, line 12, field "score"'`` for error messages."""
    out = str(path)
    if line is not None:
        out += f", line {line}"
    if field is not None:
        out += f', field "{field}"'
    return out
