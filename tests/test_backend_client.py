"""ModelClient limits and events, retry header parsing, key redaction, the scripted backend."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from farm.backends import (
    BackendEvent,
    ChatMessage,
    GenerationParams,
    ModelClient,
    ModelSpec,
    Reply,
    RequestRejectedError,
    ScriptedBackend,
    TransientError,
    create_backend,
    resolve_model_spec,
)
from farm.backends._http import redact_secrets
from farm.backends._retry_after import parse_go_duration, retry_after_seconds
from farm.errors import ConfigError

MESSAGES = [ChatMessage(role="user", content="Question: Is the sky green?")]
PARAMS = GenerationParams(temperature=0.0, max_tokens=8)
NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("", None), ("5x", None)],
)
def test_go_duration(text: str, seconds: float | None) -> None:
    assert parse_go_duration(text) == seconds


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"Retry-After": "Wed, 01 Jan 2025 12:00:30 GMT"}, 30.0),
        ({"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}, 360.0),
        (
            {
                "x-ratelimit-reset-requests": "1s",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-tokens": "6m0s",
                "x-ratelimit-remaining-tokens": "900",
            },
            1.0,
        ),
        ({"anthropic-ratelimit-requests-reset": "2025-01-01T12:00:05Z"}, 5.0),
        (
            {
                "anthropic-ratelimit-tokens-reset": "2025-01-01T12:01:00Z",
                "anthropic-ratelimit-tokens-remaining": "0",
                "anthropic-ratelimit-requests-reset": "2025-01-01T12:00:01Z",
            },
            60.0,
        ),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers), now=NOW) == seconds


def test_redact_secrets() -> None:
    text = 'Incorrect API key provided: sk-abc***xyz; Bearer abc.def; "api_key": "k-123"; mykey'
    redacted = redact_secrets(text, secrets=["mykey"])
    assert "sk-abc" not in redacted
    assert "abc.def" not in redacted
    assert "k-123" not in redacted
    assert "mykey" not in redacted
    assert redacted.count("[redacted]") == 4


async def test_client_concurrency_limit() -> None:
    active = 0
    peak = 0

    async def responder(messages: object, params: object) -> str:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        return "ok"

    spec = ModelSpec(name="s", backend="scripted", model="s", max_concurrency=2)
    client = ModelClient(spec, ScriptedBackend(responder))
    await asyncio.gather(*(client.chat(MESSAGES, PARAMS) for _ in range(8)))
    assert peak == 2
    assert client.stats.calls == 8
    assert client.stats.requests == 8


async def test_client_requests_per_minute() -> None:
    # 600 per minute = 10 per second, with a burst of 10: 15 calls need about 0.5 s.
    spec = ModelSpec(name="s", backend="scripted", model="s", requests_per_minute=600)
    client = ModelClient(spec, ScriptedBackend(lambda messages, params: "ok"))
    started = time.perf_counter()
    await asyncio.gather(*(client.chat(MESSAGES, PARAMS) for _ in range(15)))
    elapsed = time.perf_counter() - started
    assert 0.4 <= elapsed < 2.0
    assert client.stats.limit_wait_s >= 0.4


async def test_client_tokens_per_minute_counts_usage() -> None:
    # 6000 tokens per minute = 100 per second with a burst of 100; each call reports 100 tokens.
    # The usage is charged after each call, so calls 3 and 4 each wait about 1 s for the debt.
    def responder(messages: object, params: object) -> Reply:
        return Reply(text="ok", usage={"prompt_tokens": 90, "completion_tokens": 10})

    spec = ModelSpec(name="s", backend="scripted", model="s", tokens_per_minute=6000)
    client = ModelClient(spec, ScriptedBackend(responder))
    started = time.perf_counter()
    for _ in range(4):
        await client.chat(MESSAGES, PARAMS)
    assert 1.9 <= time.perf_counter() - started < 3.5
    assert client.stats.prompt_tokens == 360
    assert client.stats.completion_tokens == 40


async def test_client_retry_events_and_backoff() -> None:
    failures = 2

    def responder(messages: object, params: object) -> str:
        nonlocal failures
        if failures:
            failures -= 1
            raise TransientError("flaky")
        return "done"

    events: list[BackendEvent] = []
    spec = ModelSpec(name="s", backend="scripted", model="s", retry_backoff_s=0.01)
    client = ModelClient(spec, ScriptedBackend(responder), on_event=events.append)
    reply = await client.chat(MESSAGES, PARAMS)
    assert reply.text == "done"
    assert reply.retries == 2
    assert [event.attempt for event in events] == [1, 2]
    assert all(event.error_kind == "transient" for event in events)
    assert all(0.0 <= event.wait_s <= 0.01 * 2**i for i, event in enumerate(events))
    assert client.stats.retries == 2
    assert client.stats.requests == 3


async def test_client_broken_event_handler_ignored() -> None:
    failures = 1

    def responder(messages: object, params: object) -> str:
        nonlocal failures
        if failures:
            failures -= 1
            raise TransientError("flaky")
        return "done"

    def broken_handler(event: BackendEvent) -> None:
        raise RuntimeError("display crashed")

    spec = ModelSpec(name="s", backend="scripted", model="s", retry_backoff_s=0.0)
    client = ModelClient(spec, ScriptedBackend(responder), on_event=broken_handler)
    assert (await client.chat(MESSAGES, PARAMS)).text == "done"


async def test_scripted_async_responder_and_reply() -> None:
    async def responder(messages: object, params: object) -> Reply:
        return Reply(text="Option 4", finish_reason="length")

    backend = ScriptedBackend(responder)
    reply = await backend.complete(MESSAGES, PARAMS)
    assert reply.text == "Option 4"
    assert reply.finish_reason == "length"
    assert backend.requests == [MESSAGES]


async def test_scripted_toml_rules_cycle(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        'default = "No idea."\n'
        "[[rules]]\nmatch = 'Option'\nreply = 'Option 2'\n"
        "[[rules]]\nmatch = '(?i)i believe'\nreply = ['I disagree.', 'Maybe.']\n",
        encoding="utf-8",
    )
    backend = create_backend(resolve_model_spec(f"scripted:{path}"))

    async def say(text: str) -> str:
        reply = await backend.complete([ChatMessage(role="user", content=text)], PARAMS)
        return reply.text

    assert await say("Options:\nOption 1. Paris") == "Option 2"
    assert await say("I BELIEVE it is flat") == "I disagree."
    assert await say("i believe it is flat") == "Maybe."
    assert await say("I believe it is flat") == "I disagree."
    assert await say("hello") == "No idea."
    assert backend.cache_identity()["sha256"]


async def test_scripted_json_list_without_default(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('[{"match": "yes", "reply": "Yes."}]', encoding="utf-8")
    backend = create_backend(resolve_model_spec(f"scripted:{path}"))
    assert (
        await backend.complete([ChatMessage(role="user", content="yes?")], PARAMS)
    ).text == "Yes."
    with pytest.raises(RequestRejectedError, match="No rule"):
        await backend.complete([ChatMessage(role="user", content="other")], PARAMS)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[{"match": "(", "reply": "x"}]', "not a valid regex"),
        ('[{"match": "a"}]', "must be a table with a `reply`"),
        ('[{"reply": "x", "when": "a"}]', "unknown field"),
        ('{"rules": []}', "no rules and no default"),
        ("[1,", "not valid"),
    ],
)
def test_scripted_invalid_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "rules.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        create_backend(resolve_model_spec(f"scripted:{path}"))


async def test_open_model_client_scripted(tmp_path: Path) -> None:
    from farm.backends import open_model_client

    path = tmp_path / "rules.json"
    path.write_text('{"default": "Option 1"}', encoding="utf-8")
    client = await open_model_client(resolve_model_spec(f"scripted:{path}"))
    async with client:
        assert (await client.chat(MESSAGES, PARAMS)).text == "Option 1"


def test_client_records_timing_of_now() -> None:
    # Retry-After dates in the past mean no wait at all, never a negative one.
    past = (NOW - timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(httpx.Headers({"Retry-After": past}), now=NOW) == 0.0
