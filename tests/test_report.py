"""HTML report built without a browser: content, escaping, embedded data and figures."""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
from pathlib import Path

import pytest

from farm.errors import FarmError
from farm.report import build_report
from farm.report._transcripts import transcript_payload
from tests.support.records import make_manifest, make_record, write_run

pytest.importorskip("matplotlib", reason="matplotlib (the report extra) is not installed")

PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2></script><!--"


def _run_records() -> list:
    records = []
    for model in ("model-a", "model-b"):
        for strategy in ("repetition", "logical"):
            for item in range(4):
                flips = item < (2 if strategy == "logical" else 1)
                records.append(
                    make_record(model=model, strategy=strategy, item_id=f"NQ1-{item}",
                                implicit=["correct", "misinformed"] if flips else ["correct"] * 4)
                )
    records.append(make_record(model="model-a", strategy="logical", item_id="NQ1-9",
                               status="failed", implicit=[]))
    return records


def _decode(text: str) -> object:
    return json.loads(gzip.decompress(base64.b64decode(text)).decode("utf-8"))


def _script_blocks(html: str) -> list[str]:
    return re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.DOTALL)


@pytest.fixture
def report(tmp_path: Path) -> str:
    run = write_run(tmp_path / "run", _run_records(),
                    make_manifest("run-1", models=["model-a", "model-b"], paper_compat=True))
    path = build_report([run], tmp_path / "report.html")
    return path.read_text(encoding="utf-8")


def test_report_summary_lists_the_run(report: str):
    assert "run-1" in report
    assert "model-a, model-b" in report
    assert "repetition, logical" in report
    assert '<dd id="failed-count">1 (left out of N' in report
    # paper_compat=True in the manifest shows as "yes" in the runs table.
    assert "<td>yes</td>" in report


def test_report_metrics_table_values(report: str):
    # model-a, logical: 2 of 4 initially correct items flipped at turn 2 (1 failed left out).
    assert "<td>model-a</td><td>NQ1</td><td>logical</td><td>4</td><td>4</td><td>1</td>" in report
    assert "50.0% [15.0, 85.0]" in report
    assert "Intervals are 95%" in report


def test_report_is_self_contained(report: str):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report)
    assert "@import" not in report
    assert "url(http" not in report
    assert "default-src 'none'" in report


def test_report_embeds_figures_as_svg(report: str):
    assert report.count("<svg") == 4
    assert "<?xml" not in report


def test_report_transcripts_round_trip(report: str):
    index_text = re.search(r'id="farm-index">([^<]*)<', report).group(1)
    index = _decode(index_text)
    assert index["models"] == ["model-a", "model-b"]
    assert len(index["rows"]) == 17
    chunk = _decode(re.search(r'id="farm-chunk-0">([^<]*)<', report).group(1))
    assert chunk[0]["initial"]["verdict"] == "correct"
    assert chunk[0]["turns"][0]["persuader"] == "I believe the earth is flat."


def test_report_escapes_injected_text(tmp_path: Path):
    record = make_record(model=f"model {PAYLOAD}", strategy=f"logical{PAYLOAD}",
                         subset=f"NQ1{PAYLOAD}", question=PAYLOAD, persuader=PAYLOAD,
                         reply=PAYLOAD, probe_reply=PAYLOAD, implicit=["misinformed"])
    run = write_run(tmp_path / "run", [record])
    html = build_report([run], tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    # Only our own script blocks exist: the index, one chunk and the browser code.
    assert len(_script_blocks(html)) == 3


def test_transcript_payload_is_script_safe():
    record = make_record(question="a\u2028b\u2029c </script> <!-- 한국어", implicit=["correct"])
    payload = transcript_payload([("run", record)])
    for text in (payload.index, *payload.chunks):
        assert re.fullmatch(r"[A-Za-z0-9+/=]*", text)
    decoded = _decode(payload.chunks[0])
    assert decoded[0]["prompt"].startswith("Question: a\u2028b\u2029c </script> <!-- 한국어")


def test_transcript_payload_chunks():
    records = [("run", make_record(item_id=str(i))) for i in range(450)]
    payload = transcript_payload(records, chunk_size=200)
    assert len(payload.chunks) == 3
    index = _decode(payload.index)
    assert index["rows"][449][8:] == [2, 49]


def test_report_confidence_level(tmp_path: Path):
    run = write_run(tmp_path / "run", _run_records())
    html = build_report([run], tmp_path / "r.html", confidence=0.9).read_text(encoding="utf-8")
    assert "Intervals are 90%" in html


def test_report_writes_figure_files(tmp_path: Path):
    run = write_run(tmp_path / "run", _run_records())
    build_report([run], tmp_path / "r.html", figures_dir=tmp_path / "figures")
    names = sorted(path.name for path in (tmp_path / "figures").iterdir())
    for stem in ("turn_curves", "strategies", "paired_strategies", "probe_failures"):
        for extension in ("svg", "pdf", "png"):
            assert f"{stem}.{extension}" in names
    assert (tmp_path / "figures" / "turn_curves.png").read_bytes().startswith(b"\x89PNG")


def test_report_compares_two_runs(tmp_path: Path):
    first = write_run(tmp_path / "a", [r for r in _run_records() if r.model == "model-a"],
                      make_manifest("run-a"))
    second = write_run(tmp_path / "b", [r for r in _run_records() if r.model == "model-b"],
                       make_manifest("run-b", models=["model-b"]))
    html = build_report([first, second], tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="paired-models"' in html
    assert "run-a" in html
    assert "run-b" in html


def test_report_of_empty_run(tmp_path: Path):
    run = write_run(tmp_path / "run", [])
    html = build_report([run], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No conversations to plot." in html


def test_report_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    run = write_run(tmp_path / "run", _run_records())
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(FarmError, match=r"pip install 'farm-eval\[report\]'"):
        build_report([run], tmp_path / "r.html")


def test_cli_report(tmp_path: Path):
    from typer.testing import CliRunner

    import farm.cli.report  # noqa: F401 (registers the command)
    from farm.cli import app

    run = write_run(tmp_path / "run", _run_records())
    output = tmp_path / "out.html"
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
