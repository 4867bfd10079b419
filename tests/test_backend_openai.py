"""The openai backend against a loopback server: request shape, reply parsing, key handling."""

from __future__ import annotations

import pytest

from farm.backends import (
    ChatMessage,
    GenerationParams,
    ModelClient,
    ModelSpec,
    RequestRejectedError,
    create_backend,
)
from farm.backends._openai import OpenAIBackend, parse_chat_completion
from farm.errors import ConfigError
from tests.support.http_server import ServerResponse, serve_openai

MESSAGES = [
    ChatMessage(role="system", content="start chat"),
    ChatMessage(role="user", content="지구는 둥근가요? هل الأرض مسطحة؟ 地球是平的吗？"),
]


def openai_spec(base_url: str, **fields: object) -> ModelSpec:
    return ModelSpec(name="test", backend="openai", model="smollm", base_url=base_url, **fields)  # type: ignore[arg-type]


async def test_openai_request_fields_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-local-123456")
    params = GenerationParams(temperature=0.2, top_p=0.9, max_tokens=24, seed=7)
    with serve_openai() as server:
        spec = openai_spec(
            server.base_url,
            api_key_env="MY_KEY",
            extra={"top_k": 40},
            headers={"X-Team": "farm"},
        )
        backend = create_backend(spec)
        reply = await backend.complete(MESSAGES, params)
        await backend.aclose()

    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-local-123456"
    assert request.headers["x-team"] == "farm"
    body = request.json
    assert body["model"] == "smollm"
    assert body["messages"] == [
        {"role": "system", "content": "start chat"},
        {"role": "user", "content": MESSAGES[1].content},
    ]
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["max_tokens"] == 24
    assert body["seed"] == 7
    assert body["top_k"] == 40
    assert reply.text == "Echo: " + MESSAGES[1].content
    assert reply.usage.prompt_tokens == 10


async def test_openai_omits_unset_fields_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with serve_openai() as server:
        backend = create_backend(openai_spec(server.base_url))
        await backend.complete(MESSAGES, GenerationParams(temperature=0.8))
        await backend.aclose()

    [request] = server.requests
    assert "authorization" not in request.headers
    assert "top_p" not in request.json
    assert "seed" not in request.json
    assert request.json["max_tokens"] == 512


async def test_openai_max_completion_tokens_option() -> None:
    with serve_openai() as server:
        spec = openai_spec(server.base_url, options={"max_tokens_field": "max_completion_tokens"})
        backend = create_backend(spec)
        await backend.complete(MESSAGES, GenerationParams(temperature=0.0, max_tokens=9))
        await backend.aclose()
    assert server.requests[0].json["max_completion_tokens"] == 9
    assert "max_tokens" not in server.requests[0].json


def test_openai_invalid_max_tokens_field() -> None:
    spec = openai_spec("http://127.0.0.1:9/v1", options={"max_tokens_field": "tokens"})
    with pytest.raises(ConfigError, match="max_tokens_field"):
        OpenAIBackend(spec)


def test_openai_official_url_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = ModelSpec(name="gpt", backend="openai", model="gpt-4o-mini")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set"):
        create_backend(spec)


def test_parse_content_parts_and_reasoning() -> None:
    reply = parse_chat_completion(
        {
            "choices": [
                {
                    "finish_reason": "stop",
                    "message": {
                        "content": [
                            {"type": "text", "text": "Option "},
                            {"type": "text", "text": "1"},
                        ],
                        "reasoning": "thinking",
                    },
                }
            ]
        }
    )
    assert reply.text == "Option 1"
    assert reply.reasoning == "thinking"
    assert reply.refusal is False


async def test_openai_404_is_rejected_without_retry() -> None:
    with serve_openai() as server:
        server.queue(ServerResponse(status=404, body={"error": {"message": "model not found"}}))
        spec = openai_spec(server.base_url, retry_backoff_s=0.01)
        client = ModelClient(spec, create_backend(spec))
        with pytest.raises(RequestRejectedError, match="model not found"):
            await client.chat(MESSAGES, GenerationParams(temperature=0.0))
        await client.aclose()
    assert len(server.requests) == 1
    assert client.stats.errors == {"bad_request": 1}


async def test_openai_utf8_reply_survives() -> None:
    text = "정답은 2번입니다. الجواب هو ٢. 答案是二。"
    with serve_openai() as server:
        server.queue(ServerResponse(body={"choices": [{"message": {"content": text}}]}))
        backend = create_backend(openai_spec(server.base_url))
        reply = await backend.complete(MESSAGES, GenerationParams(temperature=0.0))
        await backend.aclose()
    assert reply.text == text
    assert reply.finish_reason is None
