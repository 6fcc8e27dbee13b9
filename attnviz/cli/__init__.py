"""The ``attnviz`` command line: thin wrappers over :mod:`attnviz.pipeline` functions.

Each module in this package (not starting with ``_``) registers its commands on
:data:`attnviz.cli._app.app`; modules import their heavy dependencies (torch, cv2) inside the
command functions so that ``attnviz --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from attnviz.cli._app import app
from attnviz.errors import AttnvizError

__all__ = ["app", "main"]


def _register_commands() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``attnviz`` console script."""
    try:
        app(args=argv, prog_name="attnviz", standalone_mode=True)
    except AttnvizError as exc:  # bad input: one clear line, non-zero exit
        from attnviz.cli._app import error_message

        print(f"error: {error_message(exc)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit as exc:  # typer turns Ctrl-C inside a command into a silent Exit(130)
        if exc.code == 130:
            print("error: interrupted", file=sys.stderr)
        raise
