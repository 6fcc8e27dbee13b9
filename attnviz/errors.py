"""The errors attnviz raises for bad input.

Every message names the file, the line or the field (and the shape where it matters), so that
the command line can print it as one line and exit non-zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["AttnvizError", "InputError", "ParameterError", "format_location"]


class AttnvizError(Exception):
    """A problem the user can fix (bad input, missing file, unknown class, ...).

    A message that names a library parameter writes it as ``{name}`` and lists it in
    ``params``: ``str(exc)`` writes the parameter's name, the command line its flag
    (:meth:`render` with :func:`attnviz.cli._app.flag`), so that no library message speaks of
    flags.
    """

    def __init__(self, *args: object, params: Sequence[str] = ()) -> None:
        super().__init__(*args)
        self.params = tuple(params)

    def render(self, name: Callable[[str], str] = str) -> str:
        """The message with each parameter in ``params`` written as ``name(parameter)``."""
        text = super().__str__()
        for param in self.params:
            text = text.replace("{" + param + "}", name(param))
        return text

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):  # pickles (e.g. from a DataLoader worker) whatever __init__ takes
        return _restore, (type(self), self.args), self.__dict__


def _restore(cls: type[AttnvizError], args: tuple) -> AttnvizError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    return exc


class InputError(AttnvizError, ValueError):
    """Malformed or inconsistent input data; the message says where."""


class ParameterError(AttnvizError):
    """A library function's parameter has a value it cannot take. The message speaks of the
    parameter (``param``, as the function names it) followed by ``detail``; the command line
    writes the flag in its place (:meth:`AttnvizError.render`). ``detail`` may name ``others``
    parameters as ``{name}``."""

    def __init__(self, param: str, detail: str, *, others: Sequence[str] = ()) -> None:
        super().__init__("{" + param + "} " + detail, params=(param, *others))
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
