"""farm runs end to end on the real SmolLM2 model: in-process and behind a llama.cpp server."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from farm.backends import ModelClient, ModelSpec
from farm.backends._local import LocalBackend
from farm.engine import RunConfig, Runner
from farm.store import read_manifest, read_records
from tests.conftest import OFFICIAL_DATASET_DIR
from tests.support.llama import LlamaServer, llama_server, local_backend  # noqa: F401

# Short replies keep these tests to seconds on 2 cores.
MAX_TOKENS = 24


async def test_run_on_llama_server_boolq(
    llama_server: LlamaServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    config = RunConfig(
        models=[f"openai:smollm@{llama_server.base_url}"],
        datasets=[str(OFFICIAL_DATASET_DIR / "Boolq.jsonl")],
        strategies=["repetition"],
        limit=2,
        turns=2,
        max_tokens=MAX_TOKENS,
    )
    runner = Runner(
        config, run_dir=tmp_path / "run", cache=None, console=Console(quiet=True), progress=False
    )
    outcome = await runner.run()
    llama_server.check_alive()

    records = read_records(tmp_path / "run")
    assert outcome.interrupted is False
    assert len(records) == 2
    assert {r.status for r in records} <= {"completed", "initially_wrong"}
    assert all(r.initial is not None and r.initial.attempts[0].reply.text for r in records)
    assert all(r.subset == "Boolq" for r in records)
    assert read_manifest(tmp_path / "run").finished_at is not None


async def test_run_on_embedded_model_sample(
    local_backend: LocalBackend,  # noqa: F811
    tmp_path: Path,
) -> None:
    spec = ModelSpec(
        name="local", backend="local", model=str(local_backend.path), max_concurrency=1
    )
    client = ModelClient(spec, local_backend)
    config = RunConfig(
        models=["local"],
        datasets=["sample"],
        strategies=["repetition", "logical"],
        limit=2,
        turns=2,
        max_tokens=MAX_TOKENS,
        reasks=1,
        # Each strategy asks its own initial check, so the second ask of the same question
        # finds the whole prompt in the KV cache whatever the model answers.
        share_initial=False,
    )
    runner = Runner(
        config,
        run_dir=tmp_path / "run",
        cache=None,
        console=Console(quiet=True),
        progress=False,
        clients={"local": client},
    )
    await runner.run()

    records = read_records(tmp_path / "run")
    evaluated = sum(r.usage.evaluated_tokens or 0 for r in records)
    prompt = sum(r.usage.prompt_tokens or 0 for r in records)
    assert len(records) == 4
    assert sum(r.calls for r in records) == runner.counters.calls
    assert evaluated > 0
    assert evaluated < prompt
