"""The errors attnviz raises for bad input.

Every message names the file, the line or the field (and the shape where it matters), so that
the command line can print it as one line and exit non-zero.
"""

from __future__ import annotations

__all__ = ["AttnvizError", "InputError", "ParameterError", "format_location"]


class AttnvizError(Exception):
    """A problem the user can fix (bad input, missing file, unknown class, ...)."""


class InputError(AttnvizError, ValueError):
    """Malformed or inconsistent input data; the message says where."""


class ParameterError(AttnvizError):
    """A library function's parameter has a value it cannot take. The message speaks of the
    parameter (``param``, as the function names it) followed by ``detail``; the command line
    writes the flag in its place (:func:`attnviz.cli._app.flag`)."""

    def __init__(self, param: str, detail: str) -> None:
        super().__init__(f"{param} {detail}")
        self.param = param
        self.detail = detail


def format_location(path: object, line: int | None = None, field: str | None = None) -> str:
    """``'file.txt, line 12, field "score"'`` for error messages."""
    out = str(path)
    if line is not None:
        out += f", line {line}"
    if field is not None:
        out += f', field "{field}"'
    return out
