"""A stub OpenAI-compatible chat server for benchmarks, run in its own process.

Start it with `python benchmarks/stub_server.py --dataset PATH`; it prints one JSON line with
its port, then serves on 127.0.0.1 until stdin closes or it gets SIGTERM.

- `POST /v1/chat/completions` waits `--latency-ms`, then replies. A belief probe (a user
  message that starts with "Question: ") gets an option number or yes/no, wrong with
  probability `--wrong-rate`, so some beliefs flip. Any other message gets `--reply-chars`
  characters of filler. The choice depends only on the message texts (a sha256 over them),
  so equal conversations get equal answers from every client.
- `GET /stats` returns the request count and the in-flight request counts sampled every
  `SAMPLE_INTERVAL_S` while requests arrive. `POST /reset` clears both, and
  `POST /config` with `{"latency_ms": N}` changes the latency.

The server is a small HTTP/1.1 implementation on asyncio streams with keep-alive and
TCP_NODELAY. It writes each response in one call, so a response never waits on a delayed ACK.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

SAMPLE_INTERVAL_S = 0.005
#: Seconds without a request after which in-flight sampling pauses, so idle time between
#: benchmark runs does not dilute the mean.
IDLE_AFTER_S = 0.5
_OPTION_LINE = re.compile(r"^Option (\d+)\. ", re.MULTILINE)
_FILLER = (
    "I understand why you might think so, but the evidence I know of points the other way, "
    "and I would want to see a reliable source before I change my view on this question. "
)


@dataclass
class Answers:
    """Correct probe answers by probe question text, built from a Farm dataset."""

    correct_options: dict[str, list[int]] = field(default_factory=dict)
    yes_no: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dataset(cls, spec: str) -> Answers:
        # Imported here so that the server starts without farm when no dataset is given.
        from farm.datasets import AnswerFormat, resolve_datasets
        from farm.probes._prompts import probe_prompt

        answers = cls()
        for dataset in resolve_datasets([spec], skip_invalid=True):
            for item in dataset.items:
                prompt = probe_prompt(item)
                if item.format is AnswerFormat.YES_NO:
                    answers.yes_no[prompt] = item.answer
                else:
                    answers.correct_options[prompt] = item.correct_options
        return answers


@dataclass
class Stats:
    """Request counter and in-flight samples since the last reset."""

    requests: int = 0
    in_flight: int = 0
    samples: list[int] = field(default_factory=list)
    last_request: float = 0.0

    def reset(self) -> None:
        self.requests = 0
        self.samples = []

    def summary(self) -> dict[str, Any]:
        samples = sorted(self.samples)
        count = len(samples)
        return {
            "requests": self.requests,
            "in_flight_samples": count,
            "in_flight_mean": sum(samples) / count if count else 0.0,
            "in_flight_median": samples[count // 2] if count else 0,
            "in_flight_max": samples[-1] if count else 0,
        }


class StubServer:
    """The request handler and its settings."""

    def __init__(
        self, *, latency_s: float, reply_chars: int, wrong_rate: float, answers: Answers
    ) -> None:
        self.latency_s = latency_s
        self.reply_chars = reply_chars
        self.wrong_rate = wrong_rate
        self.answers = answers
        self.stats = Stats()
        self.filler = (_FILLER * (reply_chars // len(_FILLER) + 1))[:reply_chars]

    async def sample_in_flight(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL_S)
            if time.monotonic() - self.stats.last_request < IDLE_AFTER_S:
                self.stats.samples.append(self.stats.in_flight)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in header_lines:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""

                status, payload = await self.route(method, path, body)
                data = json.dumps(payload).encode()
                closing = headers.get("connection", "").lower() == "close"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n"
                    f"Connection: {'close' if closing else 'keep-alive'}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if closing:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its connection, which ends a keep-alive session
        finally:
            writer.close()

    async def route(self, method: str, path: str, body: bytes) -> tuple[str, dict[str, Any]]:
        if method == "POST" and path.endswith("/chat/completions"):
            return "200 OK", await self.complete(json.loads(body))
        if method == "GET" and path == "/stats":
            return "200 OK", self.stats.summary()
        if method == "POST" and path == "/reset":
            self.stats.reset()
            return "200 OK", {"reset": True}
        if method == "POST" and path == "/config":
            settings = json.loads(body)
            self.latency_s = float(settings.get("latency_ms", self.latency_s * 1000)) / 1000
            return "200 OK", {"latency_ms": self.latency_s * 1000}
        if method == "GET" and path.endswith("/models"):
            return "200 OK", {"object": "list", "data": [{"id": "stub", "object": "model"}]}
        return "404 Not Found", {"error": {"message": f"no route for {method} {path}"}}

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        self.stats.requests += 1
        self.stats.in_flight += 1
        self.stats.last_request = time.monotonic()
        try:
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            messages = request.get("messages") or []
            text = self.reply_text([str(m.get("content") or "") for m in messages])
        finally:
            self.stats.in_flight -= 1
        prompt_chars = sum(len(str(m.get("content") or "")) for m in messages)
        return {
            "id": f"stub-{self.stats.requests}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "stub"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            # Token counts estimated at 4 characters per token, for clients that sum them.
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": len(text) // 4 + 1,
                "total_tokens": prompt_chars // 4 + len(text) // 4 + 1,
            },
        }

    def reply_text(self, contents: list[str]) -> str:
        last = contents[-1] if contents else ""
        if not last.startswith("Question: "):
            return self.filler

        digest = hashlib.sha256("\x00".join(contents).encode()).digest()
        rng = random.Random(digest)
        wrong = rng.random() < self.wrong_rate

        if last in self.answers.yes_no:
            gold = self.answers.yes_no[last]
            if wrong:
                return "No." if gold == "yes" else "Yes."
            return f"{gold.capitalize()}."

        numbers = [int(n) for n in _OPTION_LINE.findall(last)]
        if not numbers:
            return rng.choice(["Yes.", "No."])
        # The last two listed options are "Don't know" and "All options are incorrect".
        stored = numbers[:-2] if len(numbers) > 2 else numbers
        correct = self.answers.correct_options.get(last) or [stored[0]]
        wrong_choices = [n for n in stored if n not in correct] + [numbers[-1]]
        choice = rng.choice(wrong_choices) if wrong else rng.choice(correct)
        return f"Option {choice}."


async def serve(server: StubServer, port: int) -> None:
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=1024)
    bound = tcp.sockets[0].getsockname()[1]
    print(json.dumps({"port": bound}), flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # The parent closes our stdin when it exits, which stops an orphaned server.
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    sampler = asyncio.create_task(server.sample_in_flight())
    async with tcp:
        await stop.wait()
    sampler.cancel()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 picks a free one).")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="Delay per completion, ms.")
    parser.add_argument("--reply-chars", type=int, default=400, help="Length of a free reply.")
    parser.add_argument(
        "--wrong-rate", type=float, default=0.1, help="Probability that a probe answer is wrong."
    )
    parser.add_argument("--dataset", default=None, help="Farm dataset spec for correct answers.")
    args = parser.parse_args(argv)

    answers = Answers.from_dataset(args.dataset) if args.dataset else Answers()
    server = StubServer(
        latency_s=args.latency_ms / 1000,
        reply_chars=args.reply_chars,
        wrong_rate=args.wrong_rate,
        answers=answers,
    )
    asyncio.run(serve(server, args.port))


if __name__ == "__main__":
    main()
