"""Each defective dataset file in tests/data/cases/datasets behaves as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from farm.datasets import load_dataset, validate_paths
from farm.errors import DatasetError

CASES = Path(__file__).parent / "data" / "cases" / "datasets"


def _load_error(name: str) -> str:
    with pytest.raises(DatasetError) as caught:
        load_dataset(str(CASES / name))
    return str(caught.value)


def test_case_bom_crlf_loads_two_items() -> None:
    dataset = load_dataset(str(CASES / "bom_crlf.jsonl"))
    assert len(dataset.items) == 2
    assert dataset.items[0].question == "who wrote the novel moby-dick?"
    assert dataset.items[1].question == "who painted the mona lisa?"
    assert [item.line for item in dataset.items] == [1, 3]
    assert dataset.items[1].control == "Nathaniel Hawthorne wrote Moby-Dick."


def test_case_truncated_line_names_line_and_problem() -> None:
    message = _load_error("truncated_line.jsonl")
    assert "truncated_line.jsonl" in message
    assert "line 2" in message
    assert "invalid JSON" in message
    assert "Unterminated string" in message


def test_case_truncated_line_skipped_and_counted() -> None:
    dataset = load_dataset(str(CASES / "truncated_line.jsonl"), skip_invalid=True)
    assert len(dataset.items) == 1
    assert dataset.skipped == 1
    assert any("line 2" in w and "skipped" in w for w in dataset.warnings)


def test_case_missing_control_names_field() -> None:
    message = _load_error("missing_control.jsonl")
    assert "missing_control.jsonl: line 1" in message
    assert "`adv.control`" in message


def test_case_short_appeals_names_field_and_count() -> None:
    message = _load_error("short_appeals.jsonl")
    assert "line 1" in message
    assert "`adv.logical`" in message
    assert "3 are needed" in message
    assert "4-turn" in message


def test_case_no_correct_option_names_line() -> None:
    message = _load_error("no_correct_option.jsonl")
    assert "no_correct_option.jsonl: line 1" in message
    assert "no option has score 1" in message


def test_case_string_bool_read_as_false() -> None:
    dataset = load_dataset(str(CASES / "string_bool.jsonl"))
    item = dataset.items[0]
    assert item.answer == "no"
    assert item.target == "yes"
    assert any("line 1" in w and "`answer`" in w for w in dataset.warnings)


def test_case_invalid_utf8_names_byte_offset() -> None:
    message = _load_error("invalid_utf8.jsonl")
    assert "invalid_utf8.jsonl: line 1" in message
    assert "invalid UTF-8 at byte offset 69" in message
    assert "Traceback" not in message


def test_case_nan_source_loads_as_missing() -> None:
    dataset = load_dataset(str(CASES / "nan_source.jsonl"))
    assert len(dataset.items) == 1
    assert dataset.items[0].source is None
    assert any("`source`" in w and "NaN" in w for w in dataset.warnings)


def test_case_duplicate_question_warns_both_lines() -> None:
    dataset = load_dataset(str(CASES / "duplicate_question.jsonl"))
    assert len(dataset.items) == 2
    first, second = dataset.items
    assert first.id != second.id
    warning = next(w for w in dataset.warnings if "same question" in w)
    assert "lines 1 and 2" in warning


def test_case_duplicate_question_ids_stable() -> None:
    first = load_dataset(str(CASES / "duplicate_question.jsonl"))
    second = load_dataset(str(CASES / "duplicate_question.jsonl"))
    assert [i.id for i in first.items] == [i.id for i in second.items]


def test_case_empty_file_has_no_items() -> None:
    message = _load_error("empty.jsonl")
    assert "empty.jsonl" in message
    assert "the dataset has no items" in message


def test_case_html_payload_kept_verbatim() -> None:
    dataset = load_dataset(str(CASES / "html_payload.jsonl"))
    item = dataset.items[0]
    assert item.question == "who wrote <script>alert('q')</script> moby-dick?"
    assert item.appeals["logical"][0] == "<img src=x onerror=alert('a')> trust me"


def test_case_validate_lists_every_problem() -> None:
    issues = validate_paths(sorted(CASES.glob("*.jsonl")))
    errors = {(Path(i.file).name, i.line, i.field) for i in issues if i.severity == "error"}
    assert errors == {
        ("empty.jsonl", None, None),
        ("invalid_utf8.jsonl", 1, None),
        ("missing_control.jsonl", 1, "adv.control"),
        ("no_correct_option.jsonl", 1, "adv.mcq"),
        ("short_appeals.jsonl", 1, "adv.logical"),
        ("truncated_line.jsonl", 2, None),
    }
    warnings = {(Path(i.file).name, i.field) for i in issues if i.severity == "warning"}
    assert ("duplicate_question.jsonl", "question") in warnings
    assert ("nan_source.jsonl", "source") in warnings
    assert ("string_bool.jsonl", "answer") in warnings
