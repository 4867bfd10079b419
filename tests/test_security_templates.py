"""Broken and hostile strategy templates given to `farm run`: a clear error naming the file.

Strategy files are user input rendered with Jinja. Each case below must stop the run before
any model call, with an `error:` line that names the strategy file, and must never print a
traceback or the content of a file the template tried to read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.farm_cli import farm_env, run_farm, unwrapped
from tests.support.http_server import TestServer, serve_openai

DATASET = str(Path(__file__).parent / "data" / "cases" / "datasets" / "bom_crlf.jsonl")
#: The start of root's entry in /etc/passwd on Linux. It must not reach the output.
PASSWD_MARKER = "root:x:0:0"

TEMPLATE_CASES = [
    pytest.param("{{ control ", "syntax error", id="syntax-error"),
    pytest.param("{% if control %}{{ control }}", "syntax error", id="unclosed-block"),
    pytest.param("{{ api_key }}", "unknown template variable", id="unknown-variable"),
    pytest.param("{{ ''.__class__.__mro__ }}", "unsafe", id="mro-access"),
    pytest.param("{{ control.__init__.__globals__ }}", "unsafe", id="globals-access"),
    pytest.param("{{ '{0.__class__}'.format(control) }}", "unsafe", id="format-string-access"),
    pytest.param("{{ appeals.logical.pop() }}", "unsafe", id="mutation"),
    pytest.param(
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "unsafe",
        id="jinja-global-cycler",
    ),
    pytest.param("{{ lipsum.__globals__['os'] }}", "unsafe", id="lipsum"),
    pytest.param("{{ open('/etc/passwd').read() }}", "unknown template variable", id="open"),
    pytest.param("{% include '/etc/passwd' %}", "include", id="include-file"),
    pytest.param("{% import 'os' as os %}{{ os.getcwd() }}", "import", id="import-module"),
    pytest.param("{% extends '/etc/passwd' %}", "extends", id="extends-file"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    with serve_openai() as running:
        yield running


def _strategy_file(folder: Path, template: str) -> Path:
    path = folder / "hostile.toml"
    # A TOML literal string keeps the template's quotes and backslashes as written.
    path.write_text(f"name = \"hostile\"\nturns = [\n  '''{template}''',\n]\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("template", "words"), TEMPLATE_CASES)
def test_bad_template_names_file(
    template: str, words: str, server: TestServer, tmp_path: Path
) -> None:
    strategy = _strategy_file(tmp_path, template)
    before = len(server.requests)
    result = run_farm(
        "run",
        "--model",
        f"openai:m@{server.base_url}",
        "--dataset",
        DATASET,
        "--strategy",
        str(strategy),
        "--no-report",
        "--no-cache",
        "--output",
        str(tmp_path / "out"),
        env=farm_env(tmp_path / "home"),
    )
    output = result.stdout + result.stderr

    assert result.returncode != 0
    assert "Traceback" not in output
    assert PASSWD_MARKER not in output
    assert unwrapped(result.stderr).startswith("error:"), result.stderr
    assert str(strategy) in unwrapped(result.stderr)
    assert words in " ".join(result.stderr.split())
    assert len(server.requests) == before
