"""`farm run` stopped by Ctrl-C, given an unwritable results folder, or resumed on a torn file."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from farm.datasets import load_dataset
from farm.store import read_records
from tests.conftest import OFFICIAL_DATASET_DIR
from tests.support.believer import believer_responder
from tests.support.farm_cli import farm_env, one_paragraph, run_farm, start_farm, unwrapped
from tests.support.http_server import RecordedRequest, Responder, ServerResponse, serve_openai

pytestmark = pytest.mark.skipif(
    not OFFICIAL_DATASET_DIR.is_dir(),
    reason=f"official Farm data not found at {OFFICIAL_DATASET_DIR}",
)
NQ2 = str(OFFICIAL_DATASET_DIR / "NQ2.jsonl")
#: How long farm may take to stop after SIGINT, in seconds.
STOP_LIMIT_S = 5.0


def _answers(limit: int) -> dict[str, str]:
    return {item.question: item.answer for item in load_dataset(NQ2).items[:limit]}


def _record_lines(run_dir: Path) -> list[dict[str, object]]:
    """Parse every line of conversations.jsonl. A torn or invalid line fails the test."""
    text = (run_dir / "conversations.jsonl").read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "the last record is torn"
    return [json.loads(line) for line in text.splitlines()]


def _wait_for_records(run_parent: Path, count: int, process: subprocess.Popen[str]) -> Path:
    """Wait until the run has written `count` records, and return its run folder."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"farm ended early: {process.communicate()[1]}"
        for run_dir in run_parent.glob("*"):
            records = run_dir / "conversations.jsonl"
            if records.is_file() and records.read_bytes().count(b"\n") >= count:
                return run_dir
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} records after 60 s")


def test_sigint_stops_run_and_resume_finishes(tmp_path: Path) -> None:
    limit = 8
    env = farm_env(tmp_path / "home")
    cache = ["--no-report", "--cache-path", str(tmp_path / "cache.sqlite")]
    common = ["--dataset", NQ2, "--limit", str(limit), "--strategy", "logical", *cache]

    with serve_openai(believer_responder(_answers(limit), delay_s=0.15)) as server:
        model = ["--model", f"openai:m@{server.base_url}"]
        process = start_farm("run", *model, *common, "--max-concurrency", "2",
                             "--output", str(tmp_path / "out"), env=env)
        run_dir = _wait_for_records(tmp_path / "out", 2, process)

        process.send_signal(signal.SIGINT)
        sent_at = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
        stop_s = time.monotonic() - sent_at
        saved = _record_lines(run_dir)

        resumed = run_farm("run", "--resume", str(run_dir), *cache, env=env)
        final = _record_lines(run_dir)

    print(f"\nstopped {stop_s:.2f} s after SIGINT with {len(saved)} of {limit} records saved")
    assert stop_s < STOP_LIMIT_S
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert f"farm run --resume {run_dir}" in unwrapped(stderr)
    assert 2 <= len(saved) < limit
    assert len({record["key"] for record in saved}) == len(saved)
    assert all(record["status"] == "completed" for record in saved)

    assert resumed.returncode == 0, resumed.stderr
    keys = [record["key"] for record in final]
    assert len(keys) == limit
    assert len(set(keys)) == limit, "a conversation was written twice"
    assert final[: len(saved)] == saved, "resume changed records written before the interrupt"
    assert {record.status for record in read_records(run_dir)} == {"completed"}


def _hang_after(count: int, inner: Responder) -> tuple[Responder, threading.Event]:
    """Wrap `inner` so that requests after the first `count` never get a reply.

    The returned event is set when the first request hangs.
    """
    seen = itertools.count(1)
    hanging = threading.Event()

    def respond(request: RecordedRequest) -> ServerResponse:
        if next(seen) <= count:
            return inner(request)
        hanging.set()
        return ServerResponse(action="hang")

    return respond, hanging


def test_sigint_during_hung_request_exits_fast(tmp_path: Path) -> None:
    limit = 8
    responder, hanging = _hang_after(30, believer_responder(_answers(limit)))
    with serve_openai(responder) as server:
        process = start_farm(
            "run", "--model", f"openai:m@{server.base_url}", "--dataset", NQ2, "--limit",
            str(limit), "--strategy", "logical", "--no-report", "--no-cache",
            "--max-concurrency", "2", "--output", str(tmp_path / "out"),
            env=farm_env(tmp_path / "home"),
        )
        assert hanging.wait(timeout=60), "the run never reached the hanging requests"
        run_dir = _wait_for_records(tmp_path / "out", 1, process)

        process.send_signal(signal.SIGINT)
        sent_at = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
        stop_s = time.monotonic() - sent_at

    saved = _record_lines(run_dir)
    print(f"\nstopped {stop_s:.2f} s after SIGINT, exit status {process.returncode}")
    assert stop_s < STOP_LIMIT_S
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert f"farm run --resume {run_dir}" in unwrapped(stderr)
    assert all(record["status"] == "completed" for record in saved)


def test_output_under_file_fails_before_calls(tmp_path: Path) -> None:
    regular_file = tmp_path / "somefile"
    regular_file.write_text("not a folder\n", encoding="utf-8")

    with serve_openai(believer_responder(_answers(2))) as server:
        result = run_farm(
            "run", "--model", f"openai:m@{server.base_url}", "--dataset", NQ2, "--limit", "2",
            "--strategy", "logical", "--no-report", "--no-cache",
            "--output", str(regular_file / "sub"), env=farm_env(tmp_path / "home"),
        )
        requests = len(server.requests)

    message = one_paragraph(result.stderr)
    assert result.returncode != 0
    assert requests == 0
    assert "Traceback" not in result.stderr
    assert message.startswith("error:")
    assert str(regular_file / "sub") in unwrapped(result.stderr)
    assert "--output" in message


def test_output_under_proc_fails_before_calls(tmp_path: Path) -> None:
    with serve_openai(believer_responder(_answers(2))) as server:
        result = run_farm(
            "run", "--model", f"openai:m@{server.base_url}", "--dataset", NQ2, "--limit", "2",
            "--strategy", "logical", "--no-report", "--no-cache",
            "--output", "/proc/farm-results", env=farm_env(tmp_path / "home"),
        )
        requests = len(server.requests)

    message = one_paragraph(result.stderr)
    assert result.returncode != 0
    assert requests == 0
    assert "Traceback" not in result.stderr
    assert "/proc/farm-results" in message
    assert "--output" in message


def test_torn_last_record_repaired_on_resume(tmp_path: Path) -> None:
    limit = 3
    env = farm_env(tmp_path / "home")
    with serve_openai(believer_responder(_answers(limit))) as server:
        args = ["--model", f"openai:m@{server.base_url}", "--dataset", NQ2, "--limit",
                str(limit), "--strategy", "logical", "--no-report", "--no-cache"]
        first = run_farm("run", *args, "--output", str(tmp_path / "out"), env=env)
        assert first.returncode == 0, first.stderr
        run_dir = next((tmp_path / "out").iterdir())

        # A crash in the middle of a write leaves the start of a line and no newline.
        records_path = run_dir / "conversations.jsonl"
        lines = records_path.read_bytes().splitlines(keepends=True)
        torn_key = json.loads(lines[-1])["key"]
        records_path.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])

        requests_before_resume = len(server.requests)
        resumed = run_farm("run", "--resume", str(run_dir), "--no-cache", "--no-report", env=env)
        resume_requests = len(server.requests) - requests_before_resume

    final = _record_lines(run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert "torn" in resumed.stderr
    assert str(records_path) in unwrapped(resumed.stderr)
    assert len(final) == limit
    assert len({record["key"] for record in final}) == limit
    assert final[-1]["key"] == torn_key
    assert resume_requests > 0, "the torn conversation was not run again"
