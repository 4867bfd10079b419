"""`ModelClient`: one model's backend with retries, rate limits, caching and statistics.

Retry policy:

- Errors whose `retryable` is False (rejected requests, context length, authentication) are
  raised at once.
- A `RateLimitError` that names a wait is retried after that wait. A wait longer than
  `spec.max_retry_wait_s` is not slept: the call fails at once with `RetriesExhaustedError`, so
  the rest of the run goes on and the conversation can be retried later.
- Other retryable errors wait a random time between 0 and
  `min(spec.max_retry_wait_s, spec.retry_backoff_s * 2**n)` before retry n (full jitter).
- After `spec.max_retries` retries the call fails with `RetriesExhaustedError`, which keeps the
  last error.

Every retry is logged and reported to `on_event` with the error kind and the wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from farm.backends._cache import ResponseCache, cache_key
from farm.backends._errors import BackendError, RateLimitError, RetriesExhaustedError
from farm.backends._limits import RateLimits, estimate_tokens
from farm.backends._registry import create_backend
from farm.backends._spec import ModelSpec
from farm.backends._types import Backend, ChatMessage, GenerationParams, Reply

logger = logging.getLogger(__name__)


class BackendEvent(BaseModel):
    """Something a progress display should show: a retry, or a call that failed for good."""

    kind: Literal["retry", "error"] = Field(
        description="`retry` before a wait, `error` when a call fails for good."
    )
    model: str = Field(description="Model name of the client.")
    error_kind: str = Field(description="Kind of the error from the backend taxonomy.")
    message: str = Field(description="The error message, without API keys.")
    wait_s: float = Field(default=0.0, description="Seconds until the retry; 0 for `error`.")
    attempt: int = Field(default=0, description="Number of the retry about to be made, from 1.")


#: Receives every `BackendEvent` of a client. Exceptions it raises are logged and ignored.
EventHandler = Callable[[BackendEvent], None]


class ClientStats(BaseModel):
    """Counters of one model client since it was opened."""

    calls: int = Field(default=0, description="`chat` calls, cache hits included.")
    requests: int = Field(default=0, description="Requests sent to the backend, retries included.")
    cache_hits: int = Field(
        default=0, description="Calls answered from the cache or by an identical call in flight."
    )
    retries: int = Field(default=0, description="Retries made.")
    retry_wait_s: float = Field(default=0.0, description="Seconds spent waiting between retries.")
    limit_wait_s: float = Field(
        default=0.0,
        description=(
            "Seconds calls spent waiting for the requests/tokens-per-minute budget, summed over "
            "calls (concurrent waits add up)."
        ),
    )
    prompt_tokens: int = Field(default=0, description="Prompt tokens of calls that reported them.")
    completion_tokens: int = Field(
        default=0, description="Completion tokens of calls that reported them."
    )
    evaluated_tokens: int = Field(
        default=0, description="Prompt tokens evaluated by local models (after KV-cache reuse)."
    )
    errors: dict[str, int] = Field(
        default_factory=dict,
        description="Failed requests, counted by error kind (a shared failure counts once).",
    )


class ModelClient:
    """A model's backend wrapped with retries, per-model rate limits and the response cache.

    One client is shared by every conversation that uses the model, so its concurrency and
    rate limits apply to all of them. With a cache, concurrent identical calls (same messages,
    parameters and sample index) share one request.
    """

    def __init__(
        self,
        spec: ModelSpec,
        backend: Backend,
        cache: ResponseCache | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.cache = cache
        self.on_event = on_event
        self.stats = ClientStats()
        self._identity = backend.cache_identity()
        self._limits = RateLimits(
            spec.max_concurrency, spec.requests_per_minute, spec.tokens_per_minute
        )
        self._in_flight: dict[str, asyncio.Future[Reply]] = {}

    async def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, sample: int = 0
    ) -> Reply:
        """Return the model's reply to `messages`, from the cache when it has it.

        `sample` separates repeated samples of the same request in the cache. Raises a
        `BackendError` when the call fails for good; errors are never cached. Identical calls
        waiting on a shared request receive its error too.
        """
        self.stats.calls += 1
        if self.cache is None:
            return await self._call_with_retries(messages, params)

        key = cache_key(self._identity, messages, params, sample)
        while True:
            stored = self.cache.get(key)
            if stored is not None:
                return self._cache_hit(stored)
            pending = self._in_flight.get(key)
            if pending is None:
                break
            try:
                return self._cache_hit(await asyncio.shield(pending))
            except asyncio.CancelledError:
                # When the task making the shared call was cancelled, not this one, try again.
                if not pending.cancelled():
                    raise

        return await self._call_shared(key, messages, params)

    def _cache_hit(self, reply: Reply) -> Reply:
        self.stats.cache_hits += 1
        return reply.model_copy(
            update={"cached": True, "retries": 0, "retry_wait_s": 0.0, "latency_s": 0.0}
        )

    async def _call_shared(
        self, key: str, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> Reply:
        assert self.cache is not None
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        # Mark the exception as retrieved, so that a failure nobody waited for is not logged
        # by asyncio as "never retrieved".
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._in_flight[key] = future
        try:
            reply = await self._call_with_retries(messages, params)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            raise
        finally:
            del self._in_flight[key]

        self.cache.put(key, reply, self._identity, label=self.spec.name)
        future.set_result(reply)
        return reply

    async def _call_with_retries(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> Reply:
        started = time.perf_counter()
        estimate = estimate_tokens(sum(len(message.content) for message in messages))
        retries = 0
        retry_wait = 0.0

        while True:
            try:
                reply = await self._request(messages, params, estimate)
            except BackendError as error:
                wait = self._wait_before_retry(error, retries)
                retries += 1
                retry_wait += wait
                self._announce_retry(error, wait, retries)
                await asyncio.sleep(wait)
                continue

            self._count_usage(reply)
            return reply.model_copy(
                update={
                    "latency_s": time.perf_counter() - started,
                    "retries": retries,
                    "retry_wait_s": retry_wait,
                    "cached": False,
                }
            )

    async def _request(
        self, messages: Sequence[ChatMessage], params: GenerationParams, estimate: int
    ) -> Reply:
        async with self._limits.semaphore:
            self.stats.limit_wait_s += await self._limits.wait_for_budget(estimate)
            self.stats.requests += 1
            reply = await self.backend.complete(messages, params)

        usage = reply.usage
        prompt = usage.prompt_tokens if usage.prompt_tokens is not None else estimate
        completion = usage.completion_tokens
        if completion is None:
            completion = estimate_tokens(len(reply.text))
        self._limits.correct_tokens(estimate, prompt + completion)
        return reply

    def _wait_before_retry(self, error: BackendError, retries: int) -> float:
        """Return the wait before the next retry, or raise when the call must fail now."""
        if not error.retryable:
            self._fail(error)

        if isinstance(error, RateLimitError) and error.retry_after is not None:
            wait = error.retry_after
            if wait > self.spec.max_retry_wait_s:
                self._fail(
                    RetriesExhaustedError(
                        f"Model {self.spec.name!r} is rate limited and the provider asked to wait "
                        f"{wait:.0f} s, longer than max_retry_wait_s "
                        f"({self.spec.max_retry_wait_s:g} s). Lower the request rate or raise "
                        f"max_retry_wait_s, then resume the run. Last error: {error}",
                        last_error=error,
                    )
                )
        else:
            ceiling = min(self.spec.max_retry_wait_s, self.spec.retry_backoff_s * 2**retries)
            wait = random.uniform(0.0, ceiling)

        if retries >= self.spec.max_retries:
            self._fail(
                RetriesExhaustedError(
                    f"Model {self.spec.name!r} failed after {retries} retries "
                    f"(max_retries is {self.spec.max_retries}). Last error: {error}",
                    last_error=error,
                )
            )
        return wait

    def _fail(self, error: BackendError) -> None:
        self.stats.errors[error.kind] = self.stats.errors.get(error.kind, 0) + 1
        logger.warning("Model %s call failed (%s): %s", self.spec.name, error.kind, error)
        self._emit(
            BackendEvent(
                kind="error", model=self.spec.name, error_kind=error.kind, message=str(error)
            )
        )
        raise error

    def _announce_retry(self, error: BackendError, wait: float, attempt: int) -> None:
        self.stats.retries += 1
        self.stats.retry_wait_s += wait
        logger.info(
            "Model %s: %s error, retry %d of %d in %.1f s: %s",
            self.spec.name,
            error.kind,
            attempt,
            self.spec.max_retries,
            wait,
            error,
        )
        self._emit(
            BackendEvent(
                kind="retry",
                model=self.spec.name,
                error_kind=error.kind,
                message=str(error),
                wait_s=wait,
                attempt=attempt,
            )
        )

    def _emit(self, event: BackendEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken progress display must not fail model calls
            logger.exception("The backend event handler failed on %s", event.kind)

    def _count_usage(self, reply: Reply) -> None:
        usage = reply.usage
        self.stats.prompt_tokens += usage.prompt_tokens or 0
        self.stats.completion_tokens += usage.completion_tokens or 0
        self.stats.evaluated_tokens += usage.evaluated_tokens or 0

    async def aclose(self) -> None:
        """Close the backend. The cache stays open; its owner closes it."""
        await self.backend.aclose()

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def open_model_client(
    spec: ModelSpec,
    cache: ResponseCache | None = None,
    on_event: EventHandler | None = None,
) -> ModelClient:
    """Build the spec's backend through the registry and wrap it in a `ModelClient`.

    The backend is built in a worker thread, because loading a local model blocks for a while.
    """
    backend = await asyncio.to_thread(create_backend, spec)
    return ModelClient(spec, backend, cache=cache, on_event=on_event)
