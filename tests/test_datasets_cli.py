"""`farm datasets validate`, `list`, `download` and `convert` as a user runs them."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

import farm.cli.datasets  # noqa: F401  (registers the `datasets` commands)
from farm.cli import app
from farm.datasets import load_dataset

CASES = Path(__file__).parent / "data" / "cases" / "datasets"
OFFICIAL_DIR = Path(__file__).parents[1].parent / "shared" / "datasets" / "farm"

runner = CliRunner()


def _needs_official() -> None:
    if not (OFFICIAL_DIR / "Boolq.jsonl").is_file():
        pytest.skip(f"the official Farm files are not in {OFFICIAL_DIR}")


@pytest.fixture
def file_server() -> Iterator[str]:
    _needs_official()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(OFFICIAL_DIR))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_cli_validate_official_exit_zero() -> None:
    _needs_official()
    paths = [str(p) for p in sorted(OFFICIAL_DIR.glob("*.jsonl"))]
    result = runner.invoke(app, ["datasets", "validate", *paths])
    assert result.exit_code == 0, result.output
    assert "0 errors, 11 warnings in 4 path(s)" in result.output
    assert "TruthfulQA.jsonl:335: warning: `adv.target`" in result.output


def test_cli_validate_cases_exit_one() -> None:
    paths = [str(p) for p in sorted(CASES.glob("*.jsonl"))]
    result = runner.invoke(app, ["datasets", "validate", *paths])
    assert result.exit_code == 1
    assert "missing_control.jsonl:1: error: `adv.control`: missing" in result.output
    assert "truncated_line.jsonl:2: error: invalid JSON" in result.output
    assert "6 errors, 3 warnings in 11 path(s)" in result.output


def test_cli_validate_sample_clean() -> None:
    result = runner.invoke(app, ["datasets", "validate", "sample"])
    assert result.exit_code == 0
    assert "0 errors, 0 warnings in 1 path(s)" in result.output


def test_cli_list_shows_sample_and_missing_farm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "broken.jsonl").write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["datasets", "list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "sample" in result.output
    assert "24" in result.output
    assert "not downloaded" in result.output
    assert "broken" in result.output
    assert "invalid" in result.output


def test_cli_download_then_list(file_server: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["datasets", "download", "farm", "--base-url", file_server])
    assert result.exit_code == 0, result.output
    assert "Farm dataset installed in" in result.output

    listing = runner.invoke(app, ["datasets", "list"], terminal_width=200)
    for label, count in [
        ("farm/Boolq", 491),
        ("farm/NQ1", 488),
        ("farm/NQ2", 489),
        ("farm/TruthfulQA", 484),
    ]:
        row = next(line for line in listing.output.splitlines() if f" {label} " in line)
        assert f" {count} " in row


def test_cli_download_dest_option(file_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "elsewhere"
    result = runner.invoke(
        app, ["datasets", "download", "farm", "--dest", str(dest), "--base-url", file_server]
    )
    assert result.exit_code == 0, result.output
    assert len(load_dataset(str(dest)).items) == 1952


def test_cli_download_failure_one_line(tmp_path: Path) -> None:
    # Runs the real entry point so that the FarmError handling of `main` is covered.
    empty = tmp_path / "www"
    empty.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(empty))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "farm",
                "datasets",
                "download",
                "farm",
                "--base-url",
                f"http://127.0.0.1:{server.server_address[1]}/",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "200"},
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2
    assert "download of Boolq.jsonl failed: HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_convert_to_csv(tmp_path: Path) -> None:
    dest = tmp_path / "sample.csv"
    result = runner.invoke(app, ["datasets", "convert", "sample", str(dest)])
    assert result.exit_code == 0, result.output
    assert "wrote 24 items" in result.output
    original = load_dataset("sample")
    copy = load_dataset(str(dest))
    assert [i.id for i in copy.items] == [i.id for i in original.items]


def test_cli_convert_skip_invalid_counts(tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        ["datasets", "convert", str(CASES / "truncated_line.jsonl"), str(dest), "--skip-invalid"],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 1 items" in result.output
    assert "(1 invalid records skipped)" in result.output
