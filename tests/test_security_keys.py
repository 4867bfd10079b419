"""API keys never reach a file that farm writes, nor its console output.

Each test runs `python -m farm` with a recognisable fake key against a local server, then
searches every byte under the test's folder (results, response cache, FARM_HOME, reports)
and the console output for the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from farm.datasets import load_dataset
from tests.conftest import OFFICIAL_DATASET_DIR
from tests.support.believer import believer_responder
from tests.support.farm_cli import farm_env, one_paragraph, run_farm
from tests.support.faults import model_config
from tests.support.http_server import RecordedRequest, Responder, ServerResponse, serve_openai

pytestmark = pytest.mark.skipif(
    not OFFICIAL_DATASET_DIR.is_dir(),
    reason=f"official Farm data not found at {OFFICIAL_DATASET_DIR}",
)
NQ2 = str(OFFICIAL_DATASET_DIR / "NQ2.jsonl")
FAKE_KEY = "sk-test-SECRET-1234567890"
#: A key in no common format, so only farm's knowledge of the key in use can redact it.
PLAIN_KEY = "plainkey-0xC0FFEE-42424242"


def _answers(limit: int) -> dict[str, str]:
    return {item.question: item.answer for item in load_dataset(NQ2).items[:limit]}


def _files_containing(folder: Path, secrets: list[str]) -> list[str]:
    """Return `path: secret` for every file under `folder` whose bytes contain a secret."""
    found: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for secret in secrets:
            # A secret may be stored as UTF-8 or, in SQLite text, as UTF-16.
            for encoded in (secret.encode("utf-8"), secret.encode("utf-16-le")):
                if encoded in data:
                    found.append(f"{path}: {secret}")
    return found


def _secret_parts(key: str) -> list[str]:
    """Return the key and its tail, so that a partly masked key is found too."""
    return [key, key[-10:]]


def _rejecting_responder(key: str) -> Responder:
    """Build a responder that returns HTTP 401 quoting the key, as OpenAI does for a bad key."""

    def respond(request: RecordedRequest) -> ServerResponse:
        body = {
            "error": {
                "message": f"Incorrect API key provided: {key}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        }
        return ServerResponse(status=401, body=body)

    return respond


def test_key_absent_from_run_outputs(tmp_path: Path) -> None:
    env = farm_env(tmp_path / "home", OPENAI_API_KEY=FAKE_KEY)
    with serve_openai(believer_responder(_answers(2))) as server:
        run = run_farm(
            "run",
            "--model",
            f"openai:m@{server.base_url}",
            "--dataset",
            NQ2,
            "--limit",
            "2",
            "--strategy",
            "logical",
            "--output",
            str(tmp_path / "results"),
            env=env,
        )
        sent = server.requests[0].headers.get("authorization")
    run_dir = next((tmp_path / "results").iterdir())
    report = run_farm("report", str(run_dir), "--output", str(tmp_path / "report.html"), env=env)
    export = run_farm("export", str(run_dir), "--output", str(tmp_path / "export"), env=env)

    console = "".join(
        [run.stdout, run.stderr, report.stdout, report.stderr, export.stdout, export.stderr]
    )
    written = sorted(path.name for path in tmp_path.rglob("*") if path.is_file())
    print(f"\nfarm report exit status {report.returncode}, farm export {export.returncode}")
    print(f"searched {len(written)} files: {', '.join(written)}")
    assert run.returncode == 0, run.stderr
    assert sent == f"Bearer {FAKE_KEY}", "the key was not used, so the test proves nothing"
    # The default response cache lives under FARM_HOME.
    assert any(path.is_file() for path in (tmp_path / "home").rglob("*"))
    assert _files_containing(tmp_path, _secret_parts(FAKE_KEY)) == []
    for part in _secret_parts(FAKE_KEY):
        assert part not in console


def test_report_html_has_no_key(tmp_path: Path) -> None:
    pytest.importorskip("farm.report", reason="the report extra is not installed")
    env = farm_env(tmp_path / "home", OPENAI_API_KEY=FAKE_KEY)
    with serve_openai(believer_responder(_answers(1))) as server:
        run = run_farm(
            "run",
            "--model",
            f"openai:m@{server.base_url}",
            "--dataset",
            NQ2,
            "--limit",
            "1",
            "--strategy",
            "logical",
            "--output",
            str(tmp_path / "results"),
            "--cache-path",
            str(tmp_path / "cache.sqlite"),
            env=env,
        )
    run_dir = next((tmp_path / "results").iterdir())

    assert run.returncode == 0, run.stderr
    assert (run_dir / "report.html").is_file(), run.stderr
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for part in _secret_parts(FAKE_KEY):
        assert part not in html


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_rejected_key_not_echoed(tmp_path: Path, debug: bool) -> None:
    env = farm_env(tmp_path / "home", OPENAI_API_KEY=FAKE_KEY)
    with serve_openai(_rejecting_responder(FAKE_KEY)) as server:
        options = ["--debug"] if debug else []
        result = run_farm(
            *options,
            "run",
            "--model",
            f"openai:m@{server.base_url}",
            "--dataset",
            NQ2,
            "--limit",
            "2",
            "--strategy",
            "logical",
            "--no-report",
            "--output",
            str(tmp_path / "results"),
            "--cache-path",
            str(tmp_path / "cache.sqlite"),
            env=env,
        )
        requests = len(server.requests)

    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert requests >= 1
    assert "OPENAI_API_KEY" in one_paragraph(result.stderr)
    if not debug:
        assert "Traceback" not in result.stderr
    for part in _secret_parts(FAKE_KEY):
        assert part not in console
    assert _files_containing(tmp_path, _secret_parts(FAKE_KEY)) == []


def test_rejected_custom_key_variable_not_echoed(tmp_path: Path) -> None:
    env = farm_env(tmp_path / "home", FARM_TEST_KEY=PLAIN_KEY)
    with serve_openai(_rejecting_responder(PLAIN_KEY)) as server:
        config = tmp_path / "farm.toml"
        config.write_text(
            model_config("m", server.base_url, api_key_env="FARM_TEST_KEY", max_retries=0),
            encoding="utf-8",
        )
        result = run_farm(
            "run",
            "--config",
            str(config),
            "--model",
            "m",
            "--dataset",
            NQ2,
            "--limit",
            "1",
            "--strategy",
            "logical",
            "--no-report",
            "--output",
            str(tmp_path / "results"),
            "--cache-path",
            str(tmp_path / "cache.sqlite"),
            env=env,
        )
        sent = server.requests[0].headers.get("authorization") if server.requests else None

    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert sent == f"Bearer {PLAIN_KEY}"
    assert "FARM_TEST_KEY" in one_paragraph(result.stderr)
    for part in _secret_parts(PLAIN_KEY):
        assert part not in console
    assert _files_containing(tmp_path, _secret_parts(PLAIN_KEY)) == []


def test_key_in_config_headers_not_persisted(tmp_path: Path) -> None:
    env = farm_env(tmp_path / "home")
    with serve_openai(believer_responder(_answers(1))) as server:
        config = tmp_path / "farm.toml"
        config.write_text(
            model_config("m", server.base_url) + f'headers = {{ "api-key" = "{FAKE_KEY}" }}\n',
            encoding="utf-8",
        )
        result = run_farm(
            "run",
            "--config",
            str(config),
            "--model",
            "m",
            "--dataset",
            NQ2,
            "--limit",
            "1",
            "--strategy",
            "logical",
            "--no-report",
            "--output",
            str(tmp_path / "results"),
            "--cache-path",
            str(tmp_path / "cache.sqlite"),
            env=env,
        )
        sent = server.requests[0].headers.get("api-key") if server.requests else None
    config.unlink()  # the user's own config file contains the key by design

    console = result.stdout + result.stderr
    assert sent == FAKE_KEY
    for part in _secret_parts(FAKE_KEY):
        assert part not in console
    assert _files_containing(tmp_path, _secret_parts(FAKE_KEY)) == []
