"""Shared rich consoles and the one-line error format of the CLI."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

#: Tables and results go to stdout.
console = Console(soft_wrap=True)
#: Progress, warnings and errors go to stderr so that stdout stays parseable.
err_console = Console(stderr=True, soft_wrap=True)


def print_error(message: str) -> None:
    """Print a user-facing error on stderr."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def print_warning(message: str) -> None:
    """Print a warning on stderr."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)
