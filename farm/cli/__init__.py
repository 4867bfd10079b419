"""The `farm` command line. Each command group lives in its own module."""

from __future__ import annotations

import logging
import os
import sys

import typer

from farm._version import __version__
from farm.cli._console import print_error
from farm.errors import FarmError

app = typer.Typer(
    name="farm",
    help="Measure how well a language model keeps a correct belief under persuasion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"farm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Log debug messages and show tracebacks for errors."
    ),
) -> None:
    if debug:
        os.environ["FARM_DEBUG"] = "1"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register_commands() -> None:
    # Imported for their side effect of adding commands to `app`.
    from farm.cli import (  # noqa: F401
        cache,
        datasets,
        export,
        models,
        report,
        run,
        strategies,
    )


def main() -> None:
    """Run the CLI, turning user-fixable errors into one line and a non-zero exit status."""
    _register_commands()
    try:
        app()
    except FarmError as error:
        if os.environ.get("FARM_DEBUG"):
            raise
        print_error(str(error))
        sys.exit(2)
