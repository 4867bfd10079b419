"""Registration of the built-in backends, through the same registry that plugins use.

Each factory imports its module only when called, so an optional dependency (llama-cpp-python
for `local`) costs nothing unless that backend is used.
"""

from __future__ import annotations

from farm.backends._registry import register_backend
from farm.backends._spec import ModelSpec
from farm.backends._types import Backend


def _openai(spec: ModelSpec) -> Backend:
    from farm.backends._openai import OpenAIBackend

    return OpenAIBackend(spec)


def _anthropic(spec: ModelSpec) -> Backend:
    from farm.backends._anthropic import AnthropicBackend

    return AnthropicBackend(spec)


def _local(spec: ModelSpec) -> Backend:
    from farm.backends._local import LocalBackend

    return LocalBackend(spec)


def _scripted(spec: ModelSpec) -> Backend:
    from farm.backends._scripted import create_scripted_backend

    return create_scripted_backend(spec)


def register_builtin_backends() -> None:
    """Register openai, anthropic, local and scripted; calling it again is harmless."""
    for name, factory in (
        ("openai", _openai),
        ("anthropic", _anthropic),
        ("local", _local),
        ("scripted", _scripted),
    ):
        register_backend(name, factory, replace=True)
