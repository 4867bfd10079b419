"""The local backend on SmolLM2 in-process: multi-turn chat and KV-cache reuse."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from farm.backends import ChatMessage, ContextLengthError, GenerationParams, ModelSpec
from farm.backends._local import LocalBackend
from farm.errors import ConfigError
from tests.support.llama import local_backend  # noqa: F401

pytestmark = pytest.mark.llama

REPLY_PARAMS = GenerationParams(temperature=0.8, top_p=0.9, max_tokens=24, seed=1)
PROBE_PARAMS = GenerationParams(temperature=0.2, max_tokens=8, seed=2)
QUESTION = "Question: Which planet is the largest in the Solar System? Answer in one word."
PERSUASION = [
    "I believe Saturn is the largest planet.",
    "Saturn's rings make it much bigger than Jupiter. Therefore, we have to accept that "
    "Saturn is the largest planet.",
    "Astronomers at many universities agree. Therefore, we have to accept that Saturn is the "
    "largest planet.",
    "Please, it matters to me. Therefore, we have to accept that Saturn is the largest planet.",
]


async def run_conversation(backend: LocalBackend) -> tuple[int, int, list[str]]:
    """Run a 4-turn conversation with a probe after each turn.

    Returns (prompt tokens evaluated, prompt tokens sent, reply texts).
    """
    history = [
        ChatMessage(role="system", content="start chat"),
        ChatMessage(role="user", content=QUESTION),
    ]
    evaluated = 0
    sent = 0
    texts = []

    async def call(messages: list[ChatMessage], params: GenerationParams) -> str:
        nonlocal evaluated, sent
        reply = await backend.complete(messages, params)
        assert reply.usage.evaluated_tokens is not None
        assert reply.usage.prompt_tokens is not None
        evaluated += reply.usage.evaluated_tokens
        sent += reply.usage.prompt_tokens
        texts.append(reply.text)
        return reply.text

    history.append(ChatMessage(role="assistant", content=await call(history, PROBE_PARAMS)))
    for message in PERSUASION:
        history.append(ChatMessage(role="user", content=message))
        history.append(ChatMessage(role="assistant", content=await call(history, REPLY_PARAMS)))
        probe = [*history, ChatMessage(role="user", content=QUESTION)]
        await call(probe, PROBE_PARAMS)
    return evaluated, sent, texts


async def test_local_kv_reuse_evaluates_fewer_tokens(
    local_backend: LocalBackend,  # noqa: F811
) -> None:
    local_backend.kv_reuse = False
    try:
        evaluated_without, sent_without, _ = await run_conversation(local_backend)
    finally:
        local_backend.kv_reuse = True
    evaluated_with, sent_with, texts_with = await run_conversation(local_backend)

    print(
        f"\nKV reuse, 4 turns + 5 probes (9 calls): evaluated {evaluated_with} of {sent_with} "
        f"prompt tokens with reuse, {evaluated_without} of {sent_without} without"
    )
    assert evaluated_without == sent_without
    assert evaluated_with < sent_with
    assert evaluated_with * 2 < evaluated_without
    assert len(texts_with) == 9
    assert any(text.strip() for text in texts_with)


async def test_local_utf8_and_finish_reason(local_backend: LocalBackend) -> None:  # noqa: F811
    messages = [ChatMessage(role="user", content="번역: 지구는 둥글다. 地球是圆的。 الأرض كروية")]
    reply = await local_backend.complete(
        messages, GenerationParams(temperature=0.0, max_tokens=4, seed=0)
    )
    assert reply.finish_reason == "length"
    assert reply.usage.completion_tokens == 4
    assert reply.latency_s > 0


async def test_local_context_overflow(local_backend: LocalBackend) -> None:  # noqa: F811
    long_text = "word " * 3000
    with pytest.raises(ContextLengthError, match="n_ctx"):
        await local_backend.complete(
            [ChatMessage(role="user", content=long_text)],
            GenerationParams(temperature=0.0, max_tokens=4),
        )


def test_local_missing_llama_cpp(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    real_import = builtins.__import__

    def failing_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "llama_cpp":
            raise ImportError("No module named 'llama_cpp'")
        return real_import(name, *args, **kwargs)

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[local\]'"):
        LocalBackend(ModelSpec(name="x", backend="local", model=str(gguf)))


def test_local_unknown_option(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match=r"unknown local option.*n_gpu"):
        LocalBackend(ModelSpec(name="x", backend="local", model="m", options={"n_gpu": 1}))
