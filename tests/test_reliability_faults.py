"""`farm run` against a server that injects rate limits, server errors, resets and hangs.

A run of 100 conversations through the faulty server must end with every conversation
complete and with records equal, apart from timings and retry counts, to a run of the same
configuration against a fault-free server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from farm.datasets import load_dataset
from farm.store import read_records
from tests.conftest import OFFICIAL_DATASET_DIR
from tests.support.believer import believer_responder
from tests.support.farm_cli import farm_env, run_farm
from tests.support.faults import FaultInjector, FaultRates, model_config, serve_faulty

pytestmark = pytest.mark.skipif(
    not OFFICIAL_DATASET_DIR.is_dir(),
    reason=f"official Farm data not found at {OFFICIAL_DATASET_DIR}",
)
NQ2 = str(OFFICIAL_DATASET_DIR / "NQ2.jsonl")
BOOLQ = str(OFFICIAL_DATASET_DIR / "Boolq.jsonl")
ITEMS_PER_SUBSET = 25
STRATEGIES = ("logical", "repetition")
CONVERSATIONS = 2 * ITEMS_PER_SUBSET * len(STRATEGIES)
MIXED_RATES = FaultRates(rate_limit=0.10, server_error=0.05, hang=0.02, reset=0.02)
#: Short waits keep the test fast: a hang costs one request timeout, a 429 at most 1 s.
RETRY_SETTINGS: dict[str, Any] = {
    "request_timeout_s": 1.0,
    "max_retries": 8,
    "max_retry_wait_s": 2.0,
    "retry_backoff_s": 0.05,
    "max_concurrency": 16,
}
REPLY_TIMING_FIELDS = {"latency_s": 0, "cached": False, "retries": 0, "retry_wait_s": 0}


def _answers() -> dict[str, str]:
    answers: dict[str, str] = {}
    for path in (NQ2, BOOLQ):
        for item in load_dataset(path).items[:ITEMS_PER_SUBSET]:
            answers[item.question] = item.answer
    return answers


def _comparable(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the records by key with timings, retry counts and cache flags zeroed."""
    result: dict[str, dict[str, Any]] = {}
    for record in read_records(run_dir):
        data = record.model_dump(mode="json", exclude={"started_at", "duration_s", "retries"})
        probes = [data["initial"], data["final"], *[turn["probe"] for turn in data["turns"]]]
        for probe in probes:
            for attempt in (probe or {}).get("attempts", []):
                attempt["reply"].update(REPLY_TIMING_FIELDS)
        for turn in data["turns"]:
            turn["reply"].update(REPLY_TIMING_FIELDS)
        result[record.key] = data
    return result


def _run(tmp_path: Path, name: str, rates: FaultRates) -> tuple[Path, FaultInjector, str]:
    """Run the configuration through a server with `rates`.

    Returns the run folder, the fault injector and the standard output of `farm run`.
    """
    injector = FaultInjector(believer_responder(_answers()), rates, seed=11)
    with serve_faulty(injector) as server:
        config = tmp_path / f"{name}.toml"
        config.write_text(model_config("m", server.base_url, **RETRY_SETTINGS), encoding="utf-8")
        args = ["run", "--config", str(config), "--model", "m", "--dataset", NQ2,
                "--dataset", BOOLQ, "--limit", str(ITEMS_PER_SUBSET), "--no-report",
                "--output", str(tmp_path / name), "--cache-path", str(tmp_path / f"{name}.sqlite")]
        for strategy in STRATEGIES:
            args += ["--strategy", strategy]
        result = run_farm(*args, env=farm_env(tmp_path / f"{name}-home"), timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    run_dir = next((tmp_path / name).iterdir())
    return run_dir, injector, result.stdout


def test_faulty_server_run_matches_clean_run(tmp_path: Path) -> None:
    clean_dir, clean, _ = _run(tmp_path, "clean", FaultRates())
    faulty_dir, faulty, stdout = _run(tmp_path, "faulty", MIXED_RATES)

    lines = (faulty_dir / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    keys = [json.loads(line)["key"] for line in lines]
    clean_records = _comparable(clean_dir)
    faulty_records = _comparable(faulty_dir)
    statuses = {record["status"] for record in faulty_records.values()}

    completed = sum(record["status"] == "completed" for record in faulty_records.values())
    print(f"\nfaults injected by kind:\n{faulty.summary()}")
    print(f"conversations completed: {completed} of {CONVERSATIONS}")
    print(f"records compared: {len(clean_records)}")
    print(stdout.strip())

    assert sum(clean.counts.values()) == 0
    assert len(keys) == CONVERSATIONS
    assert len(set(keys)) == len(keys), "a conversation was written twice"
    assert statuses == {"completed"}
    assert len(clean_records) == CONVERSATIONS
    assert faulty_records == clean_records
    # Every fault kind of the mix fired, and every rate-limit header and server status too.
    for kind in ("rate_limit", "server_error", "hang", "reset"):
        assert faulty.counts[kind] > 0, kind
    for variant in ("retry-after-seconds", "retry-after-date", "retry-after-ms", "reset-requests"):
        assert faulty.counts[f"rate_limit:{variant}"] > 0, variant
    for status in (500, 502, 503, 529):
        assert faulty.counts[f"server_error:{status}"] > 0, status
    total_retries = sum(record.retries for record in read_records(faulty_dir))
    assert total_retries >= sum(faulty.counts[k] for k in ("rate_limit", "server_error", "reset"))


def test_truncated_and_invalid_bodies_are_retried(tmp_path: Path) -> None:
    rates = FaultRates(invalid_json=0.15, truncated=0.15)
    faulty_dir, faulty, _ = _run(tmp_path, "broken", rates)
    records = read_records(faulty_dir)

    print(f"\nfaults injected by kind:\n{faulty.summary()}")
    assert faulty.counts["invalid_json"] > 0
    assert faulty.counts["truncated"] > 0
    assert len(records) == CONVERSATIONS
    assert {record.status for record in records} == {"completed"}
    assert sum(record.retries for record in records) >= sum(faulty.counts.values())
