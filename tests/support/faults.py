"""An OpenAI-compatible test server that injects faults at set rates, deterministically.

Usage::

    rates = FaultRates(rate_limit=0.10, server_error=0.05, hang=0.02, reset=0.02)
    injector = FaultInjector(believer_responder(correct_options), rates, seed=1)
    with serve_faulty(injector) as server:
        ...                                   # point farm at server.base_url
    print(injector.summary())                 # faults injected by kind

Whether a request gets a fault depends only on the seed, the request body and how many
times that body was seen before, so a retry of the same request (same body, next attempt)
draws again and two runs with the same seed and requests get the same faults. After
`max_faults_per_body` faults in a row for one body the next attempt is answered, so a
client with more retries than that always completes.

Fault kinds and what the client receives:

- `rate_limit`: HTTP 429 with, in turn, `Retry-After` in seconds, `Retry-After` as an HTTP
  date, `retry-after-ms`, or `x-ratelimit-reset-requests` (a Go duration);
- `server_error`: HTTP 500, 502, 503 or 529, the 502 as an HTML error page;
- `invalid_json`: HTTP 200 whose body is not valid JSON;
- `reset`: the connection is reset before any byte of the response;
- `truncated`: headers and half of the body, then the connection closes;
- `hang`: no answer until the server stops (the client's timeout must fire).
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from tests.support.http_server import (
    RecordedRequest,
    Responder,
    ServerResponse,
    TestServer,
    _Handler,
)

#: Rate-limit headers, used in turn. Each requests a wait of at most `retry_after_s`.
RATE_LIMIT_HEADERS = ("retry-after-seconds", "retry-after-date", "retry-after-ms", "reset-requests")
SERVER_ERROR_STATUSES = (500, 502, 503, 529)


@dataclass(frozen=True)
class FaultRates:
    """Share of requests, from 0 to 1, that get each kind of fault."""

    rate_limit: float = 0.0
    server_error: float = 0.0
    invalid_json: float = 0.0
    reset: float = 0.0
    truncated: float = 0.0
    hang: float = 0.0

    def total(self) -> float:
        """Return the share of requests that get any fault."""
        return sum(getattr(self, field.name) for field in fields(self))


class TruncatedResponse(ServerResponse):
    """A response whose connection closes after the headers and half of the body."""


def _unit_interval(*parts: object) -> float:
    """Map `parts` to a number in [0, 1) that is the same in every process and run."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    """A responder that returns the reply of `inner`, except to the requests it picks for a fault.

    `counts` holds the faults injected by kind (rate limits also by header, server errors also
    by status). `answered` counts the requests that `inner` replied to.
    """

    def __init__(
        self,
        inner: Responder,
        rates: FaultRates,
        *,
        seed: int = 0,
        max_faults_per_body: int = 3,
        retry_after_s: int = 1,
    ) -> None:
        if rates.total() >= 1.0:
            raise ValueError(f"fault rates must add up to less than 1, got {rates.total()}")
        self.inner = inner
        self.rates = rates
        self.seed = seed
        self.max_faults_per_body = max_faults_per_body
        self.retry_after_s = retry_after_s
        self.counts: Counter[str] = Counter()
        self.answered = 0
        self._attempts: Counter[str] = Counter()
        self._faults_in_row: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> ServerResponse:
        body_hash = hashlib.sha256(request.raw_body).hexdigest()
        with self._lock:
            attempt = self._attempts[body_hash]
            self._attempts[body_hash] += 1
            kind = self._pick_kind(body_hash, attempt)
            if kind is None or self._faults_in_row[body_hash] >= self.max_faults_per_body:
                kind = None
                self._faults_in_row[body_hash] = 0
                self.answered += 1
            else:
                self._faults_in_row[body_hash] += 1
                self.counts[kind] += 1

        if kind is None:
            return self.inner(request)
        return self._fault(kind, body_hash, attempt, request)

    def _pick_kind(self, body_hash: str, attempt: int) -> str | None:
        draw = _unit_interval(self.seed, body_hash, attempt)
        threshold = 0.0
        for field in fields(self.rates):
            threshold += getattr(self.rates, field.name)
            if draw < threshold:
                return field.name
        return None

    def _fault(
        self, kind: str, body_hash: str, attempt: int, request: RecordedRequest
    ) -> ServerResponse:
        variant = int(_unit_interval(self.seed, "variant", body_hash, attempt) * 4)
        if kind == "rate_limit":
            header = RATE_LIMIT_HEADERS[variant]
            with self._lock:
                self.counts[f"rate_limit:{header}"] += 1
            return self._rate_limited(header)
        if kind == "server_error":
            status = SERVER_ERROR_STATUSES[variant]
            with self._lock:
                self.counts[f"server_error:{status}"] += 1
            if status == 502:
                page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
                return ServerResponse(
                    status=502, headers={"Content-Type": "text/html"}, body_text=page
                )
            return ServerResponse(status=status, body={"error": {"message": "Overloaded"}})
        if kind == "invalid_json":
            return ServerResponse(status=200, body_text='{"choices": [{"message": ')
        if kind == "reset":
            return ServerResponse(action="reset")
        if kind == "hang":
            return ServerResponse(action="hang")

        answer = self.inner(request)
        return TruncatedResponse(
            status=answer.status, headers=answer.headers, body=answer.body,
            body_text=answer.body_text,
        )

    def _rate_limited(self, header: str) -> ServerResponse:
        body = {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}
        wait = self.retry_after_s
        if header == "retry-after-seconds":
            headers = {"Retry-After": str(wait)}
        elif header == "retry-after-date":
            headers = {"Retry-After": email.utils.formatdate(time.time() + wait, usegmt=True)}
        elif header == "retry-after-ms":
            headers = {"retry-after-ms": str(wait * 250)}
        else:
            headers = {"x-ratelimit-reset-requests": f"{wait * 250}ms"}
        return ServerResponse(status=429, headers=headers, body=body)

    def summary(self) -> str:
        """Return the faults injected by kind, then the replied requests, one count a line."""
        lines = [f"{kind}: {count}" for kind, count in sorted(self.counts.items())]
        lines.append(f"answered: {self.answered}")
        return "\n".join(lines)


class _FaultHandler(_Handler):
    """The test server's handler, plus a connection closed in the middle of the body."""

    def _send(self, response: ServerResponse) -> None:
        if not isinstance(response, TruncatedResponse):
            super()._send(response)
            return
        encoded = response.encode()
        head_end = encoded.index(b"\r\n\r\n") + 4
        body_length = len(encoded) - head_end
        self.wfile.write(encoded[: head_end + body_length // 2])
        self.wfile.flush()
        # Content-Length announced the whole body, so closing now leaves the body short.
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_WR)


@contextmanager
def serve_faulty(responder: Responder) -> Iterator[TestServer]:
    """Run a `TestServer` that also understands `TruncatedResponse`, on 127.0.0.1."""
    server = TestServer(responder)
    server._http.RequestHandlerClass = _FaultHandler
    server.start()
    try:
        yield server
    finally:
        server.stop()


def model_config(name: str, base_url: str, **fields: Any) -> str:
    """Return a farm.toml text with one `[models.NAME]` table for the openai backend."""
    table: dict[str, Any] = {"backend": "openai", "base_url": base_url, "model": "test-model"}
    table.update(fields)
    lines = [f"[models.{name}]"]
    for key, value in table.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"
