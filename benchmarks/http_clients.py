"""Measure farm's CPU per call with other HTTP clients under the same Runner (an experiment).

    python benchmarks/http_clients.py [--limit 25] [--latency-ms 0]

Runs `farm run --paper-compat` through the Python API three times against a fresh stub
server: with the OpenAI backend as it is (one httpx.AsyncClient), with 8 httpx clients
used in turn, and with httpx on an aiohttp transport. It prints one JSON line per variant.
The aiohttp variant needs aiohttp, which inspect-ai installs. The variants replace parts of
`farm.backends._openai.OpenAIBackend` from outside, so they show what a change of HTTP
client would gain, not code to ship.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from _procs import PYTHON, Stub
from rich.console import Console

from farm.backends import (
    ChatMessage,
    GenerationParams,
    ModelClient,
    ModelSpec,
    Reply,
    ResponseCache,
    resolve_model_spec,
)
from farm.backends._openai import OpenAIBackend
from farm.engine import RunConfig, Runner

VARIANTS = ("httpx", "httpx_sharded", "aiohttp_transport")
CONCURRENCY = 64


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends each request with one shared aiohttp session."""

    def __init__(self) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._session: Any = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            connector = self._aiohttp.TCPConnector(limit=0)
            self._session = self._aiohttp.ClientSession(connector=connector)
        body = await request.aread()
        async with self._session.request(
            request.method, str(request.url), data=body, headers=dict(request.headers)
        ) as response:
            content = await response.read()
            return httpx.Response(
                response.status, headers=list(response.headers.items()), content=content
            )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class ShardedBackend(OpenAIBackend):
    """The OpenAI backend with its calls spread over 8 httpx clients in turn."""

    _client: httpx.AsyncClient

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        headers = dict(self._client.headers)
        self._clients = [
            httpx.AsyncClient(headers=headers, timeout=spec.request_timeout_s) for _ in range(8)
        ]
        self._next_client = itertools.cycle(self._clients)

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> Reply:
        self._client = next(self._next_client)
        return await super().complete(messages, params)


async def _run(variant: str, base_url: str, dataset: str, limit: int, folder: Path) -> None:
    model = f"openai:stub@{base_url}"
    spec = resolve_model_spec(model).model_copy(update={"max_concurrency": CONCURRENCY})
    if variant == "aiohttp_transport":
        backend = OpenAIBackend(spec, transport=AiohttpTransport())
    elif variant == "httpx_sharded":
        backend = ShardedBackend(spec)
    else:
        backend = OpenAIBackend(spec)
    cache = ResponseCache(folder / "cache.sqlite")
    client = ModelClient(spec, backend, cache=cache)
    config = RunConfig(
        models=[model], datasets=[dataset], limit=limit, max_concurrency=CONCURRENCY,
        paper_compat=True, seed=None,
    )
    runner = Runner(
        config, run_dir=folder / "run", cache=cache, console=Console(stderr=True),
        progress=False, clients={model: client},
    )

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await runner.run()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    await client.aclose()

    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    calls = runner.counters.calls
    print(json.dumps({
        "variant": variant, "calls": calls, "wall_s": round(wall, 3),
        "calls_per_s": round(calls / wall, 1), "cpu_ms_per_call": round(1000 * cpu / calls, 3),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="/work/shared/datasets/farm", help="Farm data folder.")
    parser.add_argument("--limit", type=int, default=25, help="Items per subset, from the top.")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="Stub delay per call, ms.")
    parser.add_argument("--variant", choices=VARIANTS, help="Run one variant in this process.")
    parser.add_argument("--base-url", help="Stub base URL, with --variant.")
    args = parser.parse_args()

    if args.variant:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(_run(args.variant, args.base_url, args.dataset, args.limit, Path(folder)))
        return

    # Each variant runs in its own process, so that one variant's imports and pools do not
    # change another's CPU figure.
    stub = Stub(dataset=args.dataset, latency_ms=args.latency_ms, reply_chars=400, wrong_rate=0.1)
    try:
        for variant in VARIANTS:
            stub.reset()
            subprocess.run(
                [PYTHON, __file__, "--variant", variant, "--base-url", stub.base_url,
                 "--dataset", args.dataset, "--limit", str(args.limit)],
                check=True,
            )
            print(json.dumps({"variant": variant, "stub": stub.stats()}), file=sys.stderr)
    finally:
        stub.close()


if __name__ == "__main__":
    main()
