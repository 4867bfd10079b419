"""The aiohttp transport behind the HTTP backends: default choice, bodies, failures."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from farm.backends import ModelSpec
from farm.backends._aiohttp import AiohttpTransport
from farm.backends._openai import OpenAIBackend
from tests.support.farm_cli import closed_port


class _GzipHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        sent = json.loads(self.rfile.read(length))
        body = gzip.compress(json.dumps({"echo": sent, "text": "정답 ✓"}).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gzip_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GzipHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_openai_backend_uses_aiohttp_transport() -> None:
    backend = OpenAIBackend(
        ModelSpec(name="m", backend="openai", model="m", base_url="http://127.0.0.1:1/v1")
    )
    assert isinstance(backend._client._transport, AiohttpTransport)


async def test_gzip_body_decoded_once(gzip_server: str) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        response = await client.post(gzip_server, json={"question": "q"})
    assert response.status_code == 200
    assert response.json() == {"echo": {"question": "q"}, "text": "정답 ✓"}


async def test_refused_connection_raises_httpx_error() -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{closed_port()}", json={})
