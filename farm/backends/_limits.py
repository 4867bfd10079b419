"""Per-model request and token rate limits, shared by every conversation of one client."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """A token bucket refilled at `per_minute / 60` units per second.

    The bucket holds at most one second of budget (at least one unit), because providers
    often enforce per-minute limits over shorter windows, so a full minute's burst at start
    would be rejected. A charge larger than the bucket is allowed once the bucket is full and
    leaves it in debt, so a large request waits for its share instead of forever.
    """

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self._level = self.capacity
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, amount: float) -> float:
        """Take `amount` units, waiting until the bucket allows it. Return the seconds waited.

        The wait includes the time spent queued behind other callers of the same bucket.
        """
        started = time.monotonic()
        async with self._lock:
            while True:
                self._refill()
                needed = min(amount, self.capacity)
                if self._level >= needed:
                    self._level -= amount
                    return time.monotonic() - started
                await asyncio.sleep((needed - self._level) / self.rate)

    def adjust(self, amount: float) -> None:
        """Charge `amount` more units (negative gives units back) once the true cost is known."""
        self._refill()
        self._level = min(self.capacity, self._level - amount)


def estimate_tokens(text_length: int) -> int:
    """Estimate the token count of text from its length in characters (about 4 per token)."""
    return max(1, text_length // 4)


class RateLimits:
    """Concurrency, requests-per-minute and tokens-per-minute limits of one model."""

    def __init__(
        self,
        max_concurrency: int,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
    ) -> None:
        self.semaphore = asyncio.Semaphore(max_concurrency)
        self.requests = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute) if tokens_per_minute else None

    async def wait_for_budget(self, estimated_tokens: int) -> float:
        """Wait until one request of about `estimated_tokens` fits; return the seconds waited."""
        waited = 0.0
        if self.requests is not None:
            waited += await self.requests.acquire(1)
        if self.tokens is not None:
            waited += await self.tokens.acquire(estimated_tokens)
        return waited

    def correct_tokens(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Replace the estimate charged before a call by the tokens the call really used."""
        if self.tokens is not None:
            self.tokens.adjust(actual_tokens - estimated_tokens)
