"""`farm models` commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from farm.backends import ModelSpec, load_models_config, resolve_model_spec
from farm.cli import app
from farm.cli._console import console

models_app = typer.Typer(help="List the models farm can run.", no_args_is_help=True)
app.add_typer(models_app, name="models")

_DEFAULT_KEY_ENVS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def _key_status(spec: ModelSpec) -> tuple[str, str]:
    """Return the key variable and whether it is set, without ever reading out the key."""
    key_env = spec.api_key_env or _DEFAULT_KEY_ENVS.get(spec.backend)
    if key_env is None:
        return "-", "not needed"
    return key_env, "set" if os.environ.get(key_env) else "not set"


@models_app.command("list")
def list_models(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file with [models.NAME] tables; default $FARM_CONFIG or ./farm.toml.",
        ),
    ] = None,
) -> None:
    """Show the configured models and the built-in `local`, with the state of their API keys."""
    specs = dict(load_models_config(config))
    specs.setdefault("local", resolve_model_spec("local", config_path=config))

    table = Table("name", "backend", "model", "base URL", "key variable", "key")
    for name, spec in specs.items():
        key_env, state = _key_status(spec)
        table.add_row(name, spec.backend, spec.model, spec.base_url or "-", key_env, state)
    console.print(table)
