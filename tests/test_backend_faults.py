"""Every fault case of tests/data/cases/backend_faults.jsonl, played by a real HTTP server."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from farm.backends import (
    AuthenticationError,
    BackendEvent,
    ChatMessage,
    ContextLengthError,
    GenerationParams,
    ModelClient,
    ModelSpec,
    RateLimitError,
    Reply,
    RetriesExhaustedError,
    TransientError,
    create_backend,
)
from tests.support.http_server import ServerResponse, TestServer, chat_completion_body, serve_openai

CASES_FILE = Path(__file__).parent / "data" / "cases" / "backend_faults.jsonl"
CASES = {
    case["id"]: case
    for case in (json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip())
}
MESSAGES = [
    ChatMessage(role="system", content="start chat"),
    ChatMessage(role="user", content="Question: Is the Earth flat?"),
]
PARAMS = GenerationParams(temperature=0.0, max_tokens=16)
MAX_RETRIES = 3
OK = ServerResponse(body=chat_completion_body("Option 2"))


def case_response(case_id: str) -> ServerResponse:
    return ServerResponse.from_case(CASES[case_id])


class Harness:
    """A client on the test server that records its events and the time of its last call."""

    def __init__(self, server: TestServer, **spec_fields: Any) -> None:
        fields: dict[str, Any] = {
            "max_retries": MAX_RETRIES,
            "retry_backoff_s": 0.01,
            "max_retry_wait_s": 5.0,
            "request_timeout_s": 0.5,
            **spec_fields,
        }
        spec = ModelSpec(
            name="fault-model", backend="openai", model="m", base_url=server.base_url, **fields
        )
        self.server = server
        self.events: list[BackendEvent] = []
        self.client = ModelClient(spec, create_backend(spec), on_event=self.events.append)
        self.elapsed = 0.0

    async def chat(self) -> Reply:
        started = time.perf_counter()
        try:
            return await self.client.chat(MESSAGES, PARAMS)
        finally:
            self.elapsed = time.perf_counter() - started

    def retry_events(self) -> list[BackendEvent]:
        return [event for event in self.events if event.kind == "retry"]


async def check_b01(harness: Harness) -> None:
    harness.server.queue(case_response("B01"), OK)
    reply = await harness.chat()
    assert reply.text == "Option 2"
    assert harness.elapsed >= 2.0
    assert reply.retries == 1
    assert reply.retry_wait_s == pytest.approx(2.0)
    assert harness.client.stats.retries == 1
    assert harness.client.stats.retry_wait_s == pytest.approx(2.0)
    [event] = harness.retry_events()
    assert event.error_kind == "rate_limit"
    assert event.wait_s == pytest.approx(2.0)
    assert len(harness.server.requests) == 2


async def check_b02(harness: Harness) -> None:
    harness.server.queue(case_response("B02"), OK)
    reply = await harness.chat()
    assert reply.text == "Option 2"
    assert 1.5 <= harness.elapsed < 3.0
    assert reply.retry_wait_s == pytest.approx(1.5)
    assert len(harness.server.requests) == 2


async def check_b03(harness: Harness) -> None:
    harness.server.queue(case_response("B03"), OK)
    with pytest.raises(RetriesExhaustedError) as raised:
        await harness.chat()
    assert harness.elapsed < 1.0
    assert "rate limited" in str(raised.value)
    assert "3600 s" in str(raised.value)
    assert "max_retry_wait_s" in str(raised.value)
    assert isinstance(raised.value.last_error, RateLimitError)
    assert raised.value.last_error.retry_after == 3600.0
    assert len(harness.server.requests) == 1
    assert [event.kind for event in harness.events] == ["error"]

    # The client stays usable: the next conversation goes through.
    assert (await harness.chat()).text == "Option 2"


async def check_b04(harness: Harness) -> None:
    harness.server.queue(case_response("B04"), OK)
    reply = await harness.chat()
    assert reply.text == "Option 2"
    assert reply.retries == 1
    assert harness.retry_events()[0].error_kind == "transient"

    harness.server.queue(*[case_response("B04")] * (MAX_RETRIES + 1))
    with pytest.raises(RetriesExhaustedError) as raised:
        await harness.chat()
    assert isinstance(raised.value.last_error, TransientError)
    assert "502" in str(raised.value)
    assert "Bad Gateway" in str(raised.value)


async def check_b05(harness: Harness) -> None:
    harness.server.queue(case_response("B05"), OK)
    reply = await harness.chat()
    assert reply.text == "Option 2"
    assert reply.retries == 1
    assert harness.retry_events()[0].error_kind == "transient"


async def check_b06(harness: Harness) -> None:
    harness.server.queue(case_response("B06"), OK)
    with pytest.raises(ContextLengthError) as raised:
        await harness.chat()
    assert raised.value.kind == "context_exceeded"
    assert "maximum context length is 4096" in str(raised.value)
    assert len(harness.server.requests) == 1
    assert harness.retry_events() == []
    assert harness.client.stats.errors == {"context_exceeded": 1}


async def check_b07(harness: Harness) -> None:
    harness.server.queue(case_response("B07"), case_response("B07"), OK)
    with pytest.raises(ContextLengthError):
        await harness.chat()
    assert len(harness.server.requests) <= 2


async def check_b08(harness: Harness) -> None:
    harness.server.queue(case_response("B08"))
    reply = await harness.chat()
    assert reply.text == ""
    assert reply.finish_reason == "content_filter"
    assert reply.usage.prompt_tokens == 10
    assert reply.usage.completion_tokens == 0


async def check_b09(harness: Harness) -> None:
    harness.server.queue(case_response("B09"))
    reply = await harness.chat()
    assert reply.text == "I can't help with that."
    assert reply.refusal is True


async def check_b10(harness: Harness) -> None:
    harness.server.queue(case_response("B10"), OK)
    reply = await harness.chat()
    assert reply.text == ""
    assert reply.finish_reason == "length"
    assert reply.reasoning == "Let me think about the first World Cup..."
    assert reply.retries == 0
    assert len(harness.server.requests) == 1


async def check_b11(harness: Harness) -> None:
    harness.server.queue(case_response("B11"))
    reply = await harness.chat()
    assert reply.text == "Option 3"
    assert reply.usage.prompt_tokens is None
    assert reply.usage.completion_tokens is None
    assert harness.client.stats.prompt_tokens == 0


async def check_b12(harness: Harness) -> None:
    harness.server.queue(case_response("B12"), OK)
    assert (await harness.chat()).retries == 1

    harness.server.queue(*[case_response("B12")] * (MAX_RETRIES + 1))
    requests_before = len(harness.server.requests)
    with pytest.raises(RetriesExhaustedError) as raised:
        await harness.chat()
    assert len(harness.server.requests) - requests_before == MAX_RETRIES + 1
    assert "not valid JSON" in str(raised.value)
    assert '{"choices": [' in str(raised.value)
    assert isinstance(raised.value.last_error, TransientError)


async def check_b13(harness: Harness) -> None:
    harness.server.queue(case_response("B13"), OK)
    reply = await harness.chat()
    assert reply.text == "Option 2"
    assert reply.retries == 1
    assert harness.retry_events()[0].error_kind == "transient"


async def check_b14(harness: Harness) -> None:
    harness.server.queue(case_response("B14"), OK)
    reply = await harness.chat()
    assert reply.text == "Option 2"
    assert reply.retries == 1
    assert harness.elapsed >= 0.5
    assert harness.elapsed < 5.0
    assert harness.retry_events()[0].error_kind == "timeout"


async def check_b15(harness: Harness) -> None:
    harness.server.queue(case_response("B15"), OK)
    with pytest.raises(AuthenticationError) as raised:
        await harness.chat()
    message = str(raised.value)
    assert "OPENAI_API_KEY" in message
    assert "sk-abc" not in message
    assert "sk-test-secret-0123456789" not in message
    assert raised.value.key_env == "OPENAI_API_KEY"
    assert len(harness.server.requests) == 1
    assert harness.server.requests[0].headers["authorization"] == (
        "Bearer sk-test-secret-0123456789"
    )


CHECKS: dict[str, Callable[[Harness], Awaitable[None]]] = {
    "B01": check_b01,
    "B02": check_b02,
    "B03": check_b03,
    "B04": check_b04,
    "B05": check_b05,
    "B06": check_b06,
    "B07": check_b07,
    "B08": check_b08,
    "B09": check_b09,
    "B10": check_b10,
    "B11": check_b11,
    "B12": check_b12,
    "B13": check_b13,
    "B14": check_b14,
    "B15": check_b15,
}


def test_fault_cases_all_have_checks() -> None:
    assert sorted(CASES) == sorted(CHECKS)


@pytest.mark.parametrize("case_id", sorted(CHECKS))
async def test_fault_case(
    case_id: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-0123456789")
    caplog.set_level(logging.DEBUG)
    with serve_openai() as server:
        harness = Harness(server)
        try:
            await CHECKS[case_id](harness)
        finally:
            await harness.client.aclose()

    assert "sk-test-secret-0123456789" not in caplog.text
    assert "sk-abc" not in caplog.text
