"""The backend registry: backend names mapped to factories that build a `Backend` from a spec.

The built-in backends register here exactly as a plugin does. A plugin either calls
`register_backend` at import time, or declares an entry point in the group `farm.backends`
whose object is a factory; entry points are loaded the first time an unknown name is looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from farm.backends._spec import ModelSpec
from farm.backends._types import Backend
from farm.errors import ConfigError

logger = logging.getLogger(__name__)

#: Builds a backend for a model spec. May raise `ConfigError` for a spec it cannot serve.
BackendFactory = Callable[[ModelSpec], Backend]

ENTRY_POINT_GROUP = "farm.backends"

_factories: dict[str, BackendFactory] = {}
_entry_points_loaded = False


def register_backend(name: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Register `factory` under `name`. Registering a taken name needs `replace=True`."""
    if name in _factories and not replace:
        raise ValueError(f"A backend named {name!r} is already registered; pass replace=True.")
    _factories[name] = factory


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _factories:
            continue
        try:
            _factories[entry_point.name] = entry_point.load()
        except Exception:  # a broken plugin must not stop the built-in backends
            logger.exception("Failed to load the backend plugin %r", entry_point.value)


def backend_names() -> list[str]:
    """Return the names of all registered backends, plugins included, sorted."""
    _load_entry_points()
    return sorted(_factories)


def get_backend_factory(name: str) -> BackendFactory:
    """Return the factory registered under `name`, or raise `ConfigError` listing valid names."""
    if name not in _factories:
        _load_entry_points()
    try:
        return _factories[name]
    except KeyError:
        raise ConfigError(
            f"Unknown backend {name!r}; registered backends: {', '.join(backend_names())}."
        ) from None


def create_backend(spec: ModelSpec) -> Backend:
    """Build the backend that `spec.backend` names."""
    return get_backend_factory(spec.backend)(spec)
