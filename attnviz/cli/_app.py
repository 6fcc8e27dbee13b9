"""The typer application every command module registers on."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="attnviz",
    help="Interpretable spatio-temporal attention for video action recognition, and exact "
    "localization evaluators (THUMOS14, UCF101-24, JHMDB-21).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


#: Library parameters whose flag is not ``--`` + the name with ``-`` for ``_``: the one place
#: where the command line maps parameters to flags (:class:`attnviz.errors.ParameterError`).
FLAGS = {
    "class_index": "--class",
    "formats": "--format",
    "examples": "--example",
    "evals": "--eval",
    "out_dir": "--out",
}


def flag(param: str) -> str:
    """The command-line flag of a library parameter (``class_index`` -> ``--class``)."""
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def error_message(exc: Exception) -> str:
    """The one-line message of a library error, parameters written as flags."""
    from attnviz.errors import AttnvizError

    return exc.render(flag) if isinstance(exc, AttnvizError) else str(exc)


def localize_params(**values):
    """:class:`~attnviz.localize.LocalizeParams` from a command's options; a value it refuses
    exits with one line naming the flag."""
    from attnviz.localize import LocalizeParams

    try:
        return LocalizeParams(**values)
    except ValueError as exc:
        text = str(exc)
        for param in values:
            if text.startswith(f"{param} "):
                text = flag(param) + text[len(param) :]
        raise fail(text) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` (one line) on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    typer.echo(f"warning: {message}", err=True)


def info(message: str, quiet: bool = False) -> None:
    """Print a progress / result line on stderr unless ``quiet``."""
    if not quiet:
        print(message, file=sys.stderr)


def _version(value: bool) -> None:
    if value:
        from attnviz import __version__

        typer.echo(f"attnviz {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """attnviz: see where and when a video model looks, and score it like the papers do."""
