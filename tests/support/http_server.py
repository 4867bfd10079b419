"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Usage::

    with serve_openai() as server:          # server.base_url == "http://127.0.0.1:PORT/v1"
        server.queue(ServerResponse(status=429, headers={"Retry-After": "1"}))
        ...                                 # the next request gets the 429, later ones the
                                            # responder's answer
        assert len(server.requests) == 2

Queued responses are served first, in order, to any POST; after that the responder answers.
The default responder returns a chat completion whose text is `Echo: <last user message>`
(or a Messages API reply for `/v1/messages`). `GET {base}/models` always lists one model.

A response can also reset the connection before sending a byte (`action="reset"`) or never
answer (`action="hang"`, released when the server stops). Each response is written with one
`sendall` on a TCP_NODELAY socket, which avoids the 40 ms delayed-ACK stall of small writes.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

HANG_LIMIT_S = 60.0


@dataclass
class ServerResponse:
    """One scripted answer: an HTTP response, a connection reset, or no answer at all."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: JSON body; ignored when `body_text` is set.
    body: Any = None
    #: Raw body text sent as-is, for HTML pages and broken JSON.
    body_text: str | None = None
    action: Literal["respond", "reset", "hang"] = "respond"

    @classmethod
    def from_case(cls, case: dict[str, Any]) -> ServerResponse:
        """Build the response of a fault case (`status`, `headers`, `body` or `body_text`).

        A case with status null has no HTTP response: it resets the connection, unless its
        description says the server never answers, in which case the server hangs.
        """
        if case.get("status") is None:
            hang = "never answers" in case.get("what", "")
            return cls(action="hang" if hang else "reset")
        return cls(
            status=int(case["status"]),
            headers=dict(case.get("headers") or {}),
            body=case.get("body"),
            body_text=case.get("body_text"),
        )

    def encode(self) -> bytes:
        """Return the whole HTTP/1.1 response as bytes."""
        if self.body_text is not None:
            payload = self.body_text.encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(self.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json"
        headers = {"Content-Type": content_type, **self.headers}
        headers["Content-Length"] = str(len(payload))
        lines = [f"HTTP/1.1 {self.status} {_reason(self.status)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("latin-1") + payload


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes

    @property
    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.raw_body)


#: Builds the response to a request when no queued response is left.
Responder = Callable[[RecordedRequest], ServerResponse]


def chat_completion_body(
    text: str | None,
    *,
    finish_reason: str = "stop",
    prompt_tokens: int | None = 10,
    completion_tokens: int | None = 5,
) -> dict[str, Any]:
    """Return an OpenAI chat completion body with one choice."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": text},
            }
        ],
    }
    if prompt_tokens is not None and completion_tokens is not None:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return body


def anthropic_message_body(
    text: str, *, stop_reason: str = "end_turn", input_tokens: int = 10, output_tokens: int = 5
) -> dict[str, Any]:
    """Return an Anthropic Messages API response body with one text block."""
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def echo_responder(request: RecordedRequest) -> ServerResponse:
    """Answer with `Echo: <last user message>` in the format of the requested endpoint."""
    payload = request.json
    text = "Echo: " + _last_user_text(payload.get("messages", []))
    if request.path.endswith("/messages"):
        return ServerResponse(body=anthropic_message_body(text))
    return ServerResponse(body=chat_completion_body(text))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        # Silence the default stderr access log.
        return

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            body = {"object": "list", "data": [{"id": "test-model", "object": "model"}]}
            self._send(ServerResponse(body=body))
        else:
            self._send(ServerResponse(status=404, body={"error": {"message": "not found"}}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = RecordedRequest(
            method="POST",
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            raw_body=self.rfile.read(length),
        )
        test_server = self.server.test_server
        response = test_server.record_and_pick(request)

        if response.action == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if response.action == "hang":
            test_server.stopping.wait(HANG_LIMIT_S)
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: ServerResponse) -> None:
        self.wfile.write(response.encode())
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    test_server: TestServer


class TestServer:
    """A running test server: its base URL, the requests it got, and its response queue."""

    __test__ = False  # not a pytest test class

    def __init__(self, responder: Responder | None = None, *, prefix: str = "/v1") -> None:
        self.responder: Responder = responder or echo_responder
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._queue: deque[ServerResponse] = deque()
        self._lock = threading.Lock()
        self._http = _Server(("127.0.0.1", 0), _Handler)
        self._http.test_server = self
        self.port = int(self._http.server_address[1])
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}{prefix}"
        # A short poll interval lets stop() return quickly.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def queue(self, *responses: ServerResponse) -> None:
        """Serve `responses`, in order, to the next POST requests."""
        with self._lock:
            self._queue.extend(responses)

    def record_and_pick(self, request: RecordedRequest) -> ServerResponse:
        """Log `request` and return the response it gets."""
        with self._lock:
            self.requests.append(request)
            queued = self._queue.popleft() if self._queue else None
        return queued if queued is not None else self.responder(request)

    @property
    def bodies(self) -> list[Any]:
        """JSON bodies of the POST requests received, in order."""
        return [request.json for request in self.requests]

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Release hanging requests, stop serving and close the socket."""
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve_openai(
    responder: Responder | None = None, *, prefix: str = "/v1"
) -> Iterator[TestServer]:
    """Run a `TestServer` on a free port of 127.0.0.1 for the duration of the block."""
    server = TestServer(responder, prefix=prefix)
    server.start()
    try:
        yield server
    finally:
        server.stop()
