"""The response cache: reruns make no requests, samples stay apart, errors are never stored."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from farm.backends import (
    ChatMessage,
    GenerationParams,
    ModelClient,
    ModelSpec,
    Reply,
    ResponseCache,
    ScriptedBackend,
    TransientError,
    cache_key,
    create_backend,
    default_cache_path,
)
from farm.cli import _register_commands, app
from tests.support.http_server import ServerResponse, serve_openai

MESSAGES = [
    ChatMessage(role="system", content="start chat"),
    ChatMessage(role="user", content="Question: Who won the first World Cup?"),
]
PARAMS = GenerationParams(temperature=0.8, top_p=0.9, max_tokens=16)


def openai_spec(base_url: str, name: str = "cached") -> ModelSpec:
    return ModelSpec(
        name=name,
        backend="openai",
        model="m",
        base_url=base_url,
        max_retries=1,
        retry_backoff_s=0.01,
    )


async def run_calls(client: ModelClient) -> list[Reply]:
    replies = []
    for turn in range(3):
        messages = [*MESSAGES, ChatMessage(role="user", content=f"turn {turn}")]
        replies.append(await client.chat(messages, PARAMS))
    return replies


async def test_cache_rerun_makes_no_requests(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with serve_openai() as server:
        spec = openai_spec(server.base_url)
        first = ModelClient(spec, create_backend(spec), cache=cache)
        originals = await run_calls(first)
        await first.aclose()
        assert len(server.requests) == 3

        second = ModelClient(spec, create_backend(spec), cache=cache)
        replays = await run_calls(second)
        await second.aclose()
        assert len(server.requests) == 3

    assert [reply.text for reply in replays] == [reply.text for reply in originals]
    assert all(reply.cached for reply in replays)
    assert not any(reply.cached for reply in originals)
    assert all(reply.latency_s == 0.0 for reply in replays)
    assert second.stats.cache_hits == 3
    assert second.stats.requests == 0
    assert cache.info().entries == 3
    cache.close()


async def test_cache_new_sample_index_makes_new_call(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with serve_openai() as server:
        spec = openai_spec(server.base_url)
        client = ModelClient(spec, create_backend(spec), cache=cache)
        await client.chat(MESSAGES, PARAMS, sample=0)
        await client.chat(MESSAGES, PARAMS, sample=1)
        await client.chat(MESSAGES, PARAMS, sample=0)
        await client.chat(MESSAGES, PARAMS.model_copy(update={"seed": 1}), sample=0)
        await client.aclose()
    assert len(server.requests) == 3
    assert client.stats.cache_hits == 1
    cache.close()


async def test_cache_never_stores_errors(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    bad_gateway = ServerResponse(status=502, body_text="<html>502</html>")
    with serve_openai() as server:
        server.queue(bad_gateway, bad_gateway)
        spec = openai_spec(server.base_url)
        client = ModelClient(spec, create_backend(spec), cache=cache)
        with pytest.raises(Exception, match="502"):
            await client.chat(MESSAGES, PARAMS)
        assert cache.info().entries == 0

        reply = await client.chat(MESSAGES, PARAMS)
        await client.aclose()
    assert reply.text.startswith("Echo:")
    assert len(server.requests) == 3
    assert cache.info().entries == 1
    cache.close()


async def test_cache_single_flight_for_concurrent_calls(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    calls = 0

    async def slow_responder(messages: object, params: object) -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return "Option 1"

    spec = ModelSpec(name="slow", backend="scripted", model="slow")
    client = ModelClient(spec, ScriptedBackend(slow_responder), cache=cache)
    replies = await asyncio.gather(*(client.chat(MESSAGES, PARAMS) for _ in range(10)))
    assert calls == 1
    assert [reply.text for reply in replies] == ["Option 1"] * 10
    assert sum(not reply.cached for reply in replies) == 1
    assert client.stats.cache_hits == 9
    cache.close()


async def test_cache_single_flight_shares_errors(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    calls = 0

    async def failing_responder(messages: object, params: object) -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        raise TransientError("server down")

    spec = ModelSpec(name="down", backend="scripted", model="down", max_retries=0)
    client = ModelClient(spec, ScriptedBackend(failing_responder), cache=cache)
    results = await asyncio.gather(
        *(client.chat(MESSAGES, PARAMS) for _ in range(3)), return_exceptions=True
    )
    assert calls == 1
    assert all(isinstance(result, Exception) for result in results)
    assert cache.info().entries == 0
    cache.close()


def test_cache_clear_all_and_by_model(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    reply = Reply(text="x")
    for index, model in enumerate(["a", "a", "b"]):
        key = cache_key({"backend": "openai", "model": model}, MESSAGES, PARAMS, index)
        cache.put(key, reply, {"backend": "openai", "model": model}, label=f"name-{model}")
    assert cache.clear("a") == 2
    assert cache.info().entries == 1
    assert cache.clear("name-b") == 1
    assert cache.info().entries == 0

    cache.put("k", reply, {"backend": "openai", "model": "c"})
    assert cache.clear() == 1
    assert cache.get("k") is None
    cache.close()


def test_cache_key_covers_every_input() -> None:
    identity = {"backend": "openai", "base_url": "http://x", "model": "m"}
    base = cache_key(identity, MESSAGES, PARAMS, 0)
    assert base == cache_key(dict(identity), list(MESSAGES), PARAMS, 0)
    assert base != cache_key({**identity, "model": "n"}, MESSAGES, PARAMS, 0)
    assert base != cache_key(identity, MESSAGES[:1], PARAMS, 0)
    assert base != cache_key(identity, MESSAGES, PARAMS.model_copy(update={"top_p": 1.0}), 0)
    assert base != cache_key(identity, MESSAGES, PARAMS.model_copy(update={"max_tokens": 1}), 0)
    assert base != cache_key(identity, MESSAGES, PARAMS, 1)


def test_cache_entry_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from farm.backends import ResponseCache, Reply
        cache = ResponseCache({str(path)!r})
        cache.put("key-1", Reply(text="지구는 둥글다"), {{"backend": "openai", "model": "m"}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL

    cache = ResponseCache(path)
    stored = cache.get("key-1")
    assert stored is not None
    assert stored.text == "지구는 둥글다"
    cache.close()


def test_default_cache_path_uses_farm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FARM_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "cache.sqlite"
    monkeypatch.delenv("FARM_HOME")
    assert default_cache_path().name == "cache.sqlite"
    assert "farm" in str(default_cache_path())


def test_cache_cli_info_and_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FARM_HOME", str(tmp_path))
    cache = ResponseCache()
    cache.put("k1", Reply(text="a"), {"backend": "openai", "model": "m1"}, label="first")
    cache.put("k2", Reply(text="b"), {"backend": "openai", "model": "m2"}, label="second")
    cache.close()

    _register_commands()
    runner = CliRunner()
    info = runner.invoke(app, ["cache", "info"])
    assert info.exit_code == 0, info.output
    assert str(tmp_path / "cache.sqlite") in info.output.replace("\n", "")
    assert "entries: 2" in info.output

    cleared = runner.invoke(app, ["cache", "clear", "--model", "first"])
    assert cleared.exit_code == 0, cleared.output
    assert "Deleted 1 cached replies of model 'first'" in cleared.output

    cleared_all = runner.invoke(app, ["cache", "clear"])
    assert "Deleted 1 cached replies." in cleared_all.output
    assert "entries: 0" in runner.invoke(app, ["cache", "info"]).output
