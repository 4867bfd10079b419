"""The anthropic backend against a loopback server that checks the Messages API request shape."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from farm.backends import (
    ChatMessage,
    GenerationParams,
    ModelClient,
    ModelSpec,
    RequestRejectedError,
    create_backend,
)
from farm.backends._anthropic import CONVERSATION_START, parse_message, to_messages_api
from tests.support.http_server import (
    RecordedRequest,
    ServerResponse,
    anthropic_message_body,
    serve_openai,
)

KEY = "sk-ant-test-0123456789"


def invalid(reason: str) -> ServerResponse:
    return ServerResponse(
        status=400,
        body={"type": "error", "error": {"type": "invalid_request_error", "message": reason}},
    )


def messages_api_responder(request: RecordedRequest) -> ServerResponse:
    """Return a Messages API reply, or a 400 naming the first rule that the request breaks."""
    if request.path != "/v1/messages":
        return ServerResponse(status=404, body={"error": {"message": "not found"}})
    if request.headers.get("x-api-key") != KEY:
        return ServerResponse(status=401, body={"error": {"message": "invalid x-api-key"}})
    if request.headers.get("anthropic-version") != "2023-06-01":
        return invalid("anthropic-version header missing")

    body: dict[str, Any] = request.json
    messages = body.get("messages", [])
    if not isinstance(body.get("max_tokens"), int):
        return invalid("max_tokens: field required")
    if not messages or messages[0]["role"] != "user":
        return invalid("first message must use the user role")
    for previous, current in itertools.pairwise(messages):
        if previous["role"] == current["role"]:
            return invalid("roles must alternate between user and assistant")
    for message in messages:
        if message["role"] not in ("user", "assistant"):
            return invalid(f"unexpected role {message['role']}")
        if not message["content"].strip():
            return invalid("text content blocks must be non-empty")
    if "system" in body and not isinstance(body["system"], str):
        return invalid("system must be a string")

    text = f"{len(messages)} messages; last: {messages[-1]['content']}"
    return ServerResponse(body=anthropic_message_body(text))


def anthropic_spec(base_url: str) -> ModelSpec:
    return ModelSpec(
        name="claude",
        backend="anthropic",
        model="claude-test",
        base_url=base_url,
        retry_backoff_s=0.01,
    )


async def test_anthropic_valid_request_from_messy_conversation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    conversation = [
        ChatMessage(role="system", content="start chat"),
        ChatMessage(role="assistant", content="Hello."),
        ChatMessage(role="user", content="I believe the Earth is flat."),
        ChatMessage(role="assistant", content=""),
        ChatMessage(role="user", content="Question: Is the Earth flat?"),
    ]
    with serve_openai(messages_api_responder, prefix="") as server:
        backend = create_backend(anthropic_spec(server.base_url))
        reply = await backend.complete(
            conversation, GenerationParams(temperature=0.2, top_p=0.9, max_tokens=32, seed=3)
        )
        await backend.aclose()

    body = server.requests[0].json
    assert body["system"] == "start chat"
    assert body["messages"] == [
        {"role": "user", "content": CONVERSATION_START},
        {"role": "assistant", "content": "Hello."},
        {
            "role": "user",
            "content": "I believe the Earth is flat.\n\nQuestion: Is the Earth flat?",
        },
    ]
    assert body["max_tokens"] == 32
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert "seed" not in body
    assert (
        reply.text
        == "3 messages; last: I believe the Earth is flat.\n\nQuestion: Is the Earth flat?"
    )
    assert reply.finish_reason == "stop"
    assert reply.usage.prompt_tokens == 10
    assert reply.usage.completion_tokens == 5


async def test_anthropic_overloaded_529_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    overloaded = ServerResponse(
        status=529,
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    with serve_openai(messages_api_responder, prefix="") as server:
        server.queue(overloaded)
        spec = anthropic_spec(server.base_url)
        client = ModelClient(spec, create_backend(spec))
        reply = await client.chat(
            [ChatMessage(role="user", content="Hi")], GenerationParams(temperature=0.0)
        )
        await client.aclose()
    assert reply.retries == 1
    assert reply.text == "1 messages; last: Hi"
    assert len(server.requests) == 2


async def test_anthropic_prompt_too_long_is_context_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from farm.backends import ContextLengthError

    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with serve_openai(messages_api_responder, prefix="") as server:
        server.queue(invalid("prompt is too long: 210000 tokens > 200000 maximum"))
        spec = anthropic_spec(server.base_url)
        client = ModelClient(spec, create_backend(spec))
        with pytest.raises(ContextLengthError):
            await client.chat(
                [ChatMessage(role="user", content="Hi")], GenerationParams(temperature=0)
            )
        await client.aclose()
    assert len(server.requests) == 1


async def test_anthropic_only_empty_messages_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    backend = create_backend(anthropic_spec("http://127.0.0.1:9"))
    with pytest.raises(RequestRejectedError, match="at least one"):
        await backend.complete(
            [ChatMessage(role="system", content="s"), ChatMessage(role="user", content="  ")],
            GenerationParams(temperature=0.0),
        )
    await backend.aclose()


def test_to_messages_api_strips_final_assistant() -> None:
    system, turns = to_messages_api(
        [
            ChatMessage(role="user", content="Q"),
            ChatMessage(role="assistant", content="Option "),
        ]
    )
    assert system is None
    assert turns == [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "Option"}]


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason", "refusal"),
    [
        ("end_turn", "stop", False),
        ("stop_sequence", "stop", False),
        ("max_tokens", "length", False),
        ("refusal", "refusal", True),
        ("pause_turn", "pause_turn", False),
    ],
)
def test_parse_message_stop_reasons(stop_reason: str, finish_reason: str, refusal: bool) -> None:
    body = anthropic_message_body("x", stop_reason=stop_reason)
    reply = parse_message(body)
    assert reply.finish_reason == finish_reason
    assert reply.refusal is refusal


def test_parse_message_thinking_and_cached_tokens() -> None:
    body = {
        "content": [
            {"type": "thinking", "thinking": "Hmm."},
            {"type": "text", "text": "Option 2"},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 3},
    }
    reply = parse_message(body)
    assert reply.text == "Option 2"
    assert reply.reasoning == "Hmm."
    assert reply.usage.prompt_tokens == 105
    assert reply.usage.completion_tokens == 3
