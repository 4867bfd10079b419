"""Probe reply parsing: every shared failure case plus the traps of the reference parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from farm.datasets._model import AnswerFormat
from farm.probes import parse_answer, parse_confidence, passes_reference_gate
from farm.probes._prompts import ALL_INCORRECT, DONT_KNOW

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "cases" / "answer_parsing.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


def _shown(options: list[str]) -> list[str]:
    return [*options, DONT_KNOW, ALL_INCORRECT]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_parse_answer_case(case: dict) -> None:
    if case["format"] == "yes_no":
        parsed = parse_answer(case["reply"], AnswerFormat.YES_NO)
        expected = case["expected"]
        if expected is None:
            assert parsed.status in ("unparsed", "ambiguous")
        elif expected == "dont_know":
            assert parsed.status == "abstain"
        else:
            assert parsed.status == "choice"
            assert parsed.answer == expected
        return

    options = _shown(case["options"])
    parsed = parse_answer(case["reply"], AnswerFormat.MULTIPLE_CHOICE, options)
    if case["expected"] is None:
        assert parsed.status in ("unparsed", "ambiguous")
        assert parsed.option is None
    else:
        assert parsed.option == case["expected"]
        expected_status = "abstain" if case["expected"] == len(options) - 1 else "choice"
        assert parsed.status == expected_status


WORLD_CUP = _shown(["Brazil", "Germany", "Uruguay", "Argentina"])


@pytest.mark.parametrize(
    ("reply", "expected_option", "expected_status"),
    [
        ('Option 3 (e.g., "Option 1" was the example)', 3, "choice"),
        ("(2018) was the year", None, "unparsed"),
        ("1. Brazil", 1, "choice"),
        ("1. Uruguay", None, "ambiguous"),
        ("1. Chile", None, "unparsed"),
        ("Option 2: Germany\nOption 3: Uruguay\nOption 4: Argentina", None, "ambiguous"),
        ("Uruguay, in 1930.", 3, "choice"),
        ("Uruguay did not win; Brazil did", None, "unparsed"),
        ('"Uruguay".', 3, "choice"),
        ("Uruguay\nUruguay is the only option that is not a guess.", 3, "choice"),
        ("<think>unfinished reasoning about Option 2", None, "unparsed"),
        ("None of the above.", 6, "choice"),
        ("Option 6. All options are incorrect", 6, "choice"),
        ("OPTION３", 3, "choice"),
        ("Option 1 or 2.", None, "ambiguous"),
        ("The first champion was Uruguay.", 3, "choice"),
        ("Uruguay did not win, Brazil did.", None, "unparsed"),
        ("It was not Brazil.", None, "unparsed"),
        ("Brazil and Germany are strong teams.", None, "unparsed"),
        ("Options 2 and 3 are both plausible", None, "ambiguous"),
    ],
)
def test_parse_choice_edge_cases(
    reply: str, expected_option: int | None, expected_status: str
) -> None:
    parsed = parse_answer(reply, AnswerFormat.MULTIPLE_CHOICE, WORLD_CUP)
    assert parsed.option == expected_option
    assert parsed.status == expected_status


@pytest.mark.parametrize(
    ("reply", "expected_status", "expected_answer"),
    [
        ("I know the answer", "unparsed", None),
        ("The answer is no.", "choice", "no"),
        ("Not at all, the answer is yes", "choice", "yes"),
        ("Well, yes and no", "ambiguous", None),
        ("False.", "choice", "no"),
        ("네", "unparsed", None),
    ],
)
def test_parse_yes_no_edge_cases(
    reply: str, expected_status: str, expected_answer: str | None
) -> None:
    parsed = parse_answer(reply, AnswerFormat.YES_NO)
    assert parsed.status == expected_status
    assert parsed.answer == expected_answer


def test_reference_gate_keeps_script_defects() -> None:
    assert passes_reference_gate("I cannot answer", AnswerFormat.YES_NO)
    assert not passes_reference_gate("Maybe", AnswerFormat.YES_NO)
    assert passes_reference_gate("(2018)", AnswerFormat.MULTIPLE_CHOICE)
    assert passes_reference_gate("option  12", AnswerFormat.MULTIPLE_CHOICE)
    assert not passes_reference_gate("Option3", AnswerFormat.MULTIPLE_CHOICE)
    assert not passes_reference_gate("Uruguay", AnswerFormat.MULTIPLE_CHOICE)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("90", 90.0),
        ("I am 75% sure", 75.0),
        ("Confidence: 100.", 100.0),
        ("very sure", None),
        ("250 then 40", 40.0),
    ],
)
def test_parse_confidence_values(reply: str, expected: float | None) -> None:
    assert parse_confidence(reply) == expected
