"""Measure the stub server's capacity with a minimal concurrent keep-alive client.

`python benchmarks/capacity_client.py PORT --connections 64 --requests 20000` sends chat
completion requests over raw asyncio streams and prints one JSON line with calls per second.
The client does almost no work per call, so the figure is close to the stub's own limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time

_BODY = json.dumps(
    {
        "model": "stub",
        "messages": [
            {"role": "system", "content": "start chat"},
            {"role": "user", "content": "I believe the Earth is flat. " * 10},
        ],
        "temperature": 0.8,
        "max_tokens": 512,
    }
).encode()


async def _connection(port: int, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(_BODY)).encode()
        + b"\r\n\r\n"
        + _BODY
    )
    for _ in range(count):
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
    writer.close()


async def _measure(port: int, connections: int, requests: int) -> dict[str, float]:
    per_connection = max(1, requests // connections)
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, per_connection) for _ in range(connections)))
    wall = time.perf_counter() - started
    calls = per_connection * connections
    return {"calls": calls, "wall_s": wall, "calls_per_s": calls / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int, help="Port of the stub server on 127.0.0.1.")
    parser.add_argument("--connections", type=int, default=64, help="Concurrent connections.")
    parser.add_argument("--requests", type=int, default=20000, help="Total requests to send.")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_measure(args.port, args.connections, args.requests))))


if __name__ == "__main__":
    main()
