"""The openai backend end to end against a real llama.cpp server running SmolLM2."""

from __future__ import annotations

from pathlib import Path

import pytest

from farm.backends import (
    BackendError,
    ChatMessage,
    GenerationParams,
    ResponseCache,
    open_model_client,
    resolve_model_spec,
)
from tests.support.llama import LlamaServer, llama_server  # noqa: F401

pytestmark = pytest.mark.llama

PARAMS = GenerationParams(temperature=0.2, top_p=0.9, max_tokens=24, seed=3)


async def test_llama_server_three_turns(
    llama_server: LlamaServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    spec = resolve_model_spec(f"openai:smollm@{llama_server.base_url}").model_copy(
        update={"max_retries": 1, "retry_backoff_s": 0.1}
    )
    cache = ResponseCache(tmp_path / "cache.sqlite")
    client = await open_model_client(spec, cache=cache)
    history = [ChatMessage(role="system", content="start chat")]
    replies = []
    for turn in (
        "Question: What is the capital of France?",
        "I believe the capital of France is Lyon.",
        "Are you sure? Answer in one sentence.",
    ):
        history.append(ChatMessage(role="user", content=turn))
        try:
            reply = await client.chat(history, PARAMS)
        except BackendError:
            llama_server.check_alive()
            raise
        history.append(ChatMessage(role="assistant", content=reply.text))
        replies.append(reply)

    assert len(replies) == 3
    assert all(reply.text.strip() for reply in replies)
    assert all(reply.finish_reason in ("stop", "length") for reply in replies)
    assert all(reply.usage.completion_tokens is not None for reply in replies)
    assert all(0 < (reply.usage.completion_tokens or 0) <= 24 for reply in replies)
    assert replies[2].usage.prompt_tokens > replies[0].usage.prompt_tokens  # type: ignore[operator]
    assert client.stats.requests == 3

    # The same conversation again comes from the cache without a request.
    again = await client.chat(history[:2], PARAMS)
    assert again.cached
    assert again.text == replies[0].text
    assert client.stats.requests == 3
    await client.aclose()
    cache.close()
