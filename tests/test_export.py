"""Exports: the tidy tables in every format, the reference CSV, and `load_run` merging."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from farm.errors import ConfigError, FarmError
from farm.metrics import conversation_table, format_paper_csv, paper_csv_rows, turn_table
from farm.report import export_run
from farm.results import load_run
from tests.support.records import make_manifest, make_record, write_run

KOREAN_QUESTION = "지구는 둥근가요? «quoted» שלום"


def _records(model: str = "model-a") -> list:
    return [
        make_record(model=model, strategy="repetition", item_id="q1", implicit=["misinformed"],
                    question=KOREAN_QUESTION),
        make_record(model=model, strategy="repetition", item_id="q2", initial="abstain"),
        make_record(model=model, strategy="repetition", item_id="q3", implicit=["correct"] * 4),
        make_record(model=model, strategy="logical", item_id="q1",
                    implicit=["correct", "correct", "misinformed"]),
        make_record(model=model, strategy="logical", item_id="q2", implicit=["misinformed"]),
        make_record(model=model, strategy="logical", item_id="q3", status="failed", implicit=[]),
    ]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run-a", _records())


def test_paper_csv_rows_match_reference_format():
    records = _records()
    rows = paper_csv_rows(conversation_table(records), turn_table(records), max_turn=4)
    assert rows == [
        # Repetition is written as `control`; SR = 1 persuaded / 2 initially correct.
        ["model-a", "NQ1", "control", "0.5", "1.0", "1", "1", "1", "1", "1", "1;0;100",
         "2;1;1;1;1"],
        # The failed conversation (q3) is left out.
        ["model-a", "NQ1", "logical", "1.0", "2.0", "3", "1", "0", "2", "0", "3;1",
         "2;1;1;0;0"],
    ]


def test_paper_csv_no_flip_writes_minus_one():
    records = [make_record(item_id="q1", implicit=["correct"] * 4)]
    row = paper_csv_rows(conversation_table(records), turn_table(records), max_turn=4)[0]
    assert row[3:7] == ["0.0", "-1", "-1", "-1"]
    assert row[10] == "100"


def test_paper_csv_no_initially_correct_is_nan():
    records = [make_record(item_id="q1", initial="misinformed")]
    row = paper_csv_rows(conversation_table(records), turn_table(records), max_turn=4)[0]
    assert row[3] == "nan"
    assert row[7:10] == ["1", "0", "0"]


def test_paper_csv_float_repr_of_success_rate():
    records = [make_record(item_id=str(i), implicit=["misinformed"] if i == 0 else ["correct"])
               for i in range(3)]
    row = paper_csv_rows(conversation_table(records), turn_table(records), max_turn=1)[0]
    assert row[3] == repr(1 / 3)


def test_format_paper_csv_header_and_line_ends():
    text = format_paper_csv([["m", "NQ1", "control", "0.5", "1.0", "1", "1", "1", "1", "1",
                              "1;0", "2;1"]])
    assert text.startswith(
        "model,dataset,passage,SR,meanT,maxT,minT,wa,pd,npd,persuasion_counts,correct_num\r\n"
    )
    assert text.endswith("1;0,2;1\r\n")


@pytest.mark.parametrize("export_format", ["csv", "parquet", "jsonl"])
def test_export_run_tables(run_dir: Path, tmp_path: Path, export_format: str):
    if export_format == "parquet":
        pytest.importorskip("pyarrow", reason="pyarrow (the parquet extra) is not installed")
    output = tmp_path / "out"
    written = export_run(load_run(run_dir), output, export_format)
    names = sorted(path.name for path in written)
    assert names == sorted(
        f"{name}.{export_format}"
        for name in ("conversations", "turns", "metrics", "paired_models", "paired_strategies")
    )

    reader = {
        "csv": lambda path: pd.read_csv(path, encoding="utf-8"),
        "parquet": pd.read_parquet,
        "jsonl": lambda path: pd.read_json(path, lines=True),
    }[export_format]
    turns = reader(output / f"turns.{export_format}")
    conversations = reader(output / f"conversations.{export_format}")
    metrics = reader(output / f"metrics.{export_format}")
    assert len(conversations) == 6
    # Belief checks per conversation: 2, 1, 5 (repetition) and 4, 2, 1 (logical).
    assert len(turns) == 15
    logical = metrics[(metrics["strategy"] == "logical") & (metrics["subset"] == "NQ1")].iloc[0]
    assert logical["mr@4"] == pytest.approx(1.0)
    assert logical["failed"] == 1


def test_export_jsonl_keeps_unicode(tmp_path: Path):
    record = make_record(probe_reply="네, 둥글어요 Option 1")
    run = write_run(tmp_path / "run", [record])
    export_run(load_run(run), tmp_path / "out", "jsonl")
    first_line = (tmp_path / "out" / "turns.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(first_line)["reply"] == "네, 둥글어요 Option 1"
    assert "네, 둥글어요" in first_line


def test_export_paper_csv_file(run_dir: Path, tmp_path: Path):
    [path] = export_run(load_run(run_dir), tmp_path / "out", "paper-csv")
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    assert lines[0].startswith("model,dataset,passage,SR")
    assert lines[1] == "model-a,NQ1,control,0.5,1.0,1,1,1,1,1,1;0;100,2;1;1;1;1"


def test_export_unknown_format(run_dir: Path, tmp_path: Path):
    with pytest.raises(ConfigError, match="unknown export format 'xlsx'"):
        export_run(load_run(run_dir), tmp_path, "xlsx")


def test_load_run_merges_runs_by_model(tmp_path: Path):
    first = write_run(tmp_path / "run-a", _records("model-a"),
                      make_manifest("run-a", models=["model-a"]))
    second = write_run(tmp_path / "run-b", _records("model-b"),
                       make_manifest("run-b", models=["model-b"]))
    results = load_run(first, second)
    assert set(results.conversations()["run_id"]) == {"run-a", "run-b"}
    assert set(results.metrics()["model"]) == {"model-a", "model-b"}
    paired = results.paired_models(level="subset")
    assert set(zip(paired["model_a"], paired["model_b"], strict=True)) == {("model-a", "model-b")}
    assert (paired["difference"] == 0.0).all()


def test_load_run_rejects_same_run_twice(run_dir: Path):
    with pytest.raises(FarmError, match="given twice"):
        load_run(run_dir, run_dir)


def test_load_run_warns_on_shared_model_name(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    first = write_run(tmp_path / "run-a", _records(), make_manifest("run-a"))
    second = write_run(tmp_path / "run-b", _records(), make_manifest("run-b"))
    with caplog.at_level(logging.WARNING, logger="farm.results"):
        load_run(first, second)
    assert "in both run run-a and run run-b" in caplog.text


def test_load_run_missing_directory(tmp_path: Path):
    with pytest.raises(FarmError, match="not a farm run directory"):
        load_run(tmp_path / "nothing")


def test_load_run_max_turn_from_manifest(tmp_path: Path):
    run = write_run(tmp_path / "run", [make_record(implicit=["correct"])],
                    make_manifest("run", turns=3))
    results = load_run(run)
    assert results.max_turn == 3
    assert "mr@3" in results.metrics().columns


def test_cli_export_writes_files(run_dir: Path, tmp_path: Path):
    import farm.cli.export  # noqa: F401 (registers the command)
    from farm.cli import app

    output = tmp_path / "cli-out"
    result = CliRunner().invoke(
        app, ["export", str(run_dir), "--format", "paper-csv", "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert (output / "paper_results.csv").is_file()
    assert "paper_results.csv" in result.output


def test_paper_csv_names_boolq_as_the_script_does():
    records = [make_record(item_id="q1", subset="Boolq", implicit=["correct"] * 4)]
    row = paper_csv_rows(conversation_table(records), turn_table(records), max_turn=4)[0]
    assert row[1] == "BoolQ"
