"""`farm run` on defective datasets and bad command-line values: one clear error, no model call.

Every case runs `python -m farm run` as a user would and checks that it exits non-zero with
an `error:` line that names the bad value and the fix, without a traceback, and that the
test server received no request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.farm_cli import (
    closed_port,
    error_lines,
    farm_env,
    one_paragraph,
    run_farm,
    unwrapped,
)
from tests.support.faults import model_config
from tests.support.http_server import TestServer, serve_openai

CASES_DIR = Path(__file__).parent / "data" / "cases" / "datasets"
GOOD_DATASET = str(CASES_DIR / "bom_crlf.jsonl")

#: Defective dataset files, each with words its error message must contain.
DATASET_CASES = {
    "empty.jsonl": ["no items"],
    "invalid_utf8.jsonl": ["line 1", "UTF-8", "byte"],
    "missing_control.jsonl": ["line 1", "adv.control"],
    "no_correct_option.jsonl": ["line 1", "score 1"],
    "short_appeals.jsonl": ["line 1", "adv.logical", "3"],
    "truncated_line.jsonl": ["line 2", "JSON", "--skip-invalid"],
}


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with serve_openai() as running:
        yield running


def _check_clear_error(result_stderr: str, returncode: int, *words: str) -> str:
    """Check the common shape of a user error and return its message on one line."""
    assert returncode != 0
    assert "Traceback" not in result_stderr
    start = re.search(r"^error:", result_stderr, re.MULTILINE)
    assert start is not None, result_stderr
    message = one_paragraph(result_stderr[start.start() :])
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.mark.parametrize("name", sorted(DATASET_CASES))
def test_defective_dataset_fails_before_calls(
    name: str, server: TestServer, tmp_path: Path
) -> None:
    path = CASES_DIR / name
    before = len(server.requests)
    result = run_farm(
        "run",
        "--model",
        f"openai:m@{server.base_url}",
        "--dataset",
        str(path),
        "--strategy",
        "logical",
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )

    _check_clear_error(result.stderr, result.returncode, *DATASET_CASES[name])
    assert str(path) in unwrapped(result.stderr)
    assert len(server.requests) == before
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.jsonl"))


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--turns", "-1", ["--turns"]),
        ("--turns", "0", ["--turns"]),
        ("--limit", "0", ["--limit"]),
        ("--max-tokens", "zero", ["--max-tokens"]),
        ("--top-p", "1.5", ["--top-p"]),
    ],
)
def test_bad_option_value_rejected(
    option: str, value: str, words: list[str], server: TestServer, tmp_path: Path
) -> None:
    before = len(server.requests)
    result = run_farm(
        "run",
        "--model",
        f"openai:m@{server.base_url}",
        "--dataset",
        GOOD_DATASET,
        option,
        value,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert len(server.requests) == before


def test_unknown_model_lists_forms(tmp_path: Path) -> None:
    result = run_farm(
        "run",
        "--model",
        "nosuch-model",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    _check_clear_error(result.stderr, result.returncode, "'nosuch-model'", "openai:MODEL")


def test_unknown_strategy_lists_available(tmp_path: Path) -> None:
    result = run_farm(
        "run",
        "--model",
        "openai:m@http://127.0.0.1:1/v1",
        "--dataset",
        GOOD_DATASET,
        "--strategy",
        "nosuch-strategy",
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    _check_clear_error(
        result.stderr, result.returncode, "'nosuch-strategy'", "logical", "repetition"
    )


def test_missing_api_key_names_variable(tmp_path: Path) -> None:
    result = run_farm(
        "run",
        "--model",
        "openai:gpt-4o",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    _check_clear_error(result.stderr, result.returncode, "OPENAI_API_KEY", "api_key_env")


def test_missing_config_file_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = run_farm(
        "run",
        "--config",
        str(missing),
        "--model",
        "m",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    message = _check_clear_error(result.stderr, result.returncode, "not found")
    assert str(missing) in unwrapped(result.stderr), message


def test_invalid_config_field_named(tmp_path: Path) -> None:
    config = tmp_path / "farm.toml"
    config.write_text(model_config("m", "http://127.0.0.1:1/v1", max_retries=-3))
    result = run_farm(
        "run",
        "--config",
        str(config),
        "--model",
        "m",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    _check_clear_error(result.stderr, result.returncode, str(config), "max_retries", "-3")


def test_unreachable_base_url_fails_clearly(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    config = tmp_path / "farm.toml"
    config.write_text(
        model_config("m", base_url, max_retries=1, retry_backoff_s=0.01, request_timeout_s=1.0)
    )
    result = run_farm(
        "run",
        "--config",
        str(config),
        "--model",
        "m",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
        timeout=60,
    )
    _check_clear_error(result.stderr, result.returncode, "127.0.0.1")
    assert len(error_lines(result.stderr)) == 1


def test_value_with_brackets_printed_literally(tmp_path: Path) -> None:
    result = run_farm(
        "run",
        "--model",
        "openai:m@http://127.0.0.1:1/v1",
        "--dataset",
        GOOD_DATASET,
        "--strategy",
        "[/x]",
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    _check_clear_error(result.stderr, result.returncode, "'[/x]'")


def test_error_messages_keep_brackets(tmp_path: Path) -> None:
    unknown = run_farm(
        "run",
        "--model",
        "nosuch-model",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    config = tmp_path / "farm.toml"
    config.write_text(model_config("m", "http://127.0.0.1:1/v1", max_retries=-3))
    invalid = run_farm(
        "run",
        "--config",
        str(config),
        "--model",
        "m",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )

    _check_clear_error(unknown.stderr, unknown.returncode, "[models.NAME]")
    _check_clear_error(invalid.stderr, invalid.returncode, "[models.m]")


def test_error_printed_on_one_line(tmp_path: Path) -> None:
    long_folder = tmp_path / ("a-long-folder-name-" * 5) / "file"
    long_folder.parent.mkdir(parents=True)
    long_folder.write_text("a regular file\n", encoding="utf-8")
    result = run_farm(
        "run",
        "--model",
        "openai:m@http://127.0.0.1:1/v1",
        "--dataset",
        GOOD_DATASET,
        "--no-report",
        "--no-cache",
        "--output",
        str(long_folder / "sub"),
        env=farm_env(tmp_path / "home"),
    )

    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, lines
    assert str(long_folder / "sub") in lines[0]
