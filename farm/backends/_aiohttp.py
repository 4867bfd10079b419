"""An httpx transport that sends requests with aiohttp.

httpx's own connection pool scans every pooled connection on each request and response, so its
CPU cost per call grows with concurrency. At 64 concurrent conversations farm spent 1.8 ms of
CPU per call with it and 0.8 ms with this transport (benchmarks/http_clients.py, stub server
at 0 ms latency, 2-core Intel Xeon, httpx 0.29, aiohttp 3.14). The HTTP backends keep
httpx's API and error types: aiohttp failures are raised as the matching httpx exceptions,
so the error taxonomy in `_http.py` applies unchanged. Without aiohttp installed, httpx's
default transport is used.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import httpx

#: aiohttp is optional at run time; the backends fall back to httpx's default transport.
AIOHTTP_AVAILABLE = importlib.util.find_spec("aiohttp") is not None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one aiohttp session, created in the running event loop."""

    def __init__(self) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._session: Any = None

    def _session_for_loop(self) -> Any:
        if self._session is None or self._session.closed:
            # Unlimited connections: the model client's semaphore bounds concurrency.
            connector = self._aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            # httpx decodes the body by its Content-Encoding header, so aiohttp must not.
            self._session = self._aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        aiohttp = self._aiohttp
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeouts.get("connect"), sock_read=timeouts.get("read")
        )
        body = await request.aread()
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
        try:
            async with self._session_for_loop().request(
                request.method,
                str(request.url),
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                content = await response.read()
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as error:
            raise httpx.ReadTimeout(str(error) or "read timed out", request=request) from error
        except aiohttp.ClientPayloadError as error:
            raise httpx.RemoteProtocolError(str(error), request=request) from error
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
            raise httpx.ReadError(str(error) or type(error).__name__, request=request) from error
        except aiohttp.ClientError as error:
            raise httpx.TransportError(str(error), request=request) from error

        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            content=content,
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def default_transport() -> httpx.AsyncBaseTransport | None:
    """Return the aiohttp transport when aiohttp is installed, else None (httpx's own)."""
    return AiohttpTransport() if AIOHTTP_AVAILABLE else None
