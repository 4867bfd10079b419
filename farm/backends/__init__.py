"""Model backends: the registry, the built-in backends, retries, rate limits and the cache.

Open a model with `open_model_client(resolve_model_spec("openai:gpt-4o-mini"))` and call
`await client.chat(messages, params)`. A new backend is a factory registered with
`register_backend(name, factory)`; the built-in ones are registered the same way.
"""

from farm.backends._builtin import register_builtin_backends
from farm.backends._cache import CacheInfo, ResponseCache, cache_key, default_cache_path
from farm.backends._client import (
    BackendEvent,
    ClientStats,
    EventHandler,
    ModelClient,
    open_model_client,
)
from farm.backends._config import load_models_config, resolve_model_spec
from farm.backends._errors import (
    AuthenticationError,
    BackendError,
    ContextLengthError,
    RateLimitError,
    RequestRejectedError,
    RequestTimeoutError,
    RetriesExhaustedError,
    TransientError,
)
from farm.backends._local import SMOLLM2_MODEL, smollm2_model_path
from farm.backends._registry import (
    BackendFactory,
    backend_names,
    create_backend,
    register_backend,
)
from farm.backends._scripted import Responder, ScriptedBackend
from farm.backends._spec import ModelSpec
from farm.backends._types import Backend, ChatMessage, GenerationParams, Reply, Usage

register_builtin_backends()

__all__ = [
    "SMOLLM2_MODEL",
    "AuthenticationError",
    "Backend",
    "BackendError",
    "BackendEvent",
    "BackendFactory",
    "CacheInfo",
    "ChatMessage",
    "ClientStats",
    "ContextLengthError",
    "EventHandler",
    "GenerationParams",
    "ModelClient",
    "ModelSpec",
    "RateLimitError",
    "Reply",
    "RequestRejectedError",
    "RequestTimeoutError",
    "Responder",
    "ResponseCache",
    "RetriesExhaustedError",
    "ScriptedBackend",
    "TransientError",
    "Usage",
    "backend_names",
    "cache_key",
    "create_backend",
    "default_cache_path",
    "load_models_config",
    "open_model_client",
    "register_backend",
    "resolve_model_spec",
    "smollm2_model_path",
]
