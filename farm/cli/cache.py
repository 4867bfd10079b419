"""`farm cache` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from farm.backends import ResponseCache, default_cache_path
from farm.cli import app
from farm.cli._console import console

cache_app = typer.Typer(help="Inspect or clear the response cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

_PathOption = Annotated[
    Path | None,
    typer.Option(
        "--path", help="Cache file; default $FARM_HOME/cache.sqlite or the user cache folder."
    ),
]


def _open(path: Path | None) -> ResponseCache:
    return ResponseCache(path or default_cache_path())


@cache_app.command("info")
def cache_info(path: _PathOption = None) -> None:
    """Show the cache file, its number of stored replies and its size."""
    with _open(path) as cache:
        info = cache.info()
        models = cache.models()
    console.print(f"path:    {info.path}", highlight=False)
    console.print(f"entries: {info.entries}", highlight=False)
    console.print(f"size:    {info.size_bytes / 1_048_576:.2f} MiB", highlight=False)
    for name, model, entries in models:
        label = f"{name} ({model})" if name and name != model else model
        console.print(f"  {label}: {entries}", highlight=False)


@cache_app.command("clear")
def cache_clear(
    model: Annotated[
        str | None,
        typer.Option("--model", help="Delete only the replies of this model name or model id."),
    ] = None,
    path: _PathOption = None,
) -> None:
    """Delete stored replies: all of them, or those of one model."""
    with _open(path) as cache:
        deleted = cache.clear(model)
    which = f" of model {model!r}" if model else ""
    console.print(f"Deleted {deleted} cached replies{which}.", highlight=False)
