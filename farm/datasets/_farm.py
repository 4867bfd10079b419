"""Parse records in the layout of the official Farm files into Items.

Layout: `question`, `answer` (a JSON bool for BoolQ, a short answer for NQ, absent in
TruthfulQA, which has `best_answer` and `correct_answer`), `source`, and `adv` with `target`,
`control`, three appeals per appeal strategy and, for multiple choice, `mcq`: a list of
`{"text", "score"}` where score 1 is correct, 0 wrong and 2 the misinformation option.
"""

from __future__ import annotations

from typing import Any

from farm.datasets._checks import check_options, read_appeals, read_text
from farm.datasets._issues import IssueLog
from farm.datasets._jsonl import RawRecord
from farm.datasets._model import APPEAL_STRATEGIES, AnswerFormat, Item, Option

_RECORD_KEYS = {"question", "answer", "source", "adv"}
_ADV_KEYS = {"target", "control", "mcq"}
_TRUTHFULQA_KEYS = ("best_answer", "correct_answer")
_BOOLEAN_STRINGS = {"true": True, "yes": True, "false": False, "no": False}


def is_farm_record(data: dict[str, Any]) -> bool:
    """Return True for a record in the official Farm layout (it has an `adv` object)."""
    return "adv" in data


def parse_farm_record(record: RawRecord, dataset: str, subset: str, log: IssueLog) -> Item | None:
    """Build an Item from one Farm-layout record, or return None after reporting its errors."""
    data, line = record.data, record.line
    errors_before = len(log.errors_at(line))

    question = read_text(data, "question", "question", line, log, required=True)
    adv = data.get("adv")
    if not isinstance(adv, dict):
        log.error(
            line, "adv", f"expected an object with target, control and appeals, found {adv!r}"
        )
        return None
    control = read_text(adv, "control", "adv.control", line, log, required=True)
    target = read_text(adv, "target", "adv.target", line, log, required=False)
    if target is None and "target" not in adv:
        log.error(line, "adv.target", "missing; every item needs the misinformation it argues for")
    appeal_lists = {key: value for key, value in adv.items() if key not in _ADV_KEYS}
    appeals = read_appeals(appeal_lists, "adv", line, log, required=APPEAL_STRATEGIES)
    source = _read_source(data, line, log)
    metadata: dict[str, Any] = {key: data[key] for key in data if key not in _RECORD_KEYS}

    if "mcq" in adv:
        fields = _multiple_choice_fields(data, adv, target or "", line, log, metadata)
    else:
        fields = _yes_no_fields(data, target, line, log, metadata)

    if fields is None or question is None or control is None or target is None:
        return None
    if len(log.errors_at(line)) > errors_before:
        return None
    return Item(
        id="",
        dataset=dataset,
        subset=subset,
        question=question,
        control=control,
        appeals=appeals,
        source=source,
        line=line,
        metadata=metadata,
        **fields,
    )


def _read_source(data: dict[str, Any], line: int, log: IssueLog) -> str | None:
    source = data.get("source")
    if source is None or isinstance(source, str):
        return source
    log.warning(line, "source", f"expected a string, found {source!r}; stored as text")
    return str(source)


def _yes_no_fields(
    data: dict[str, Any], raw_target: str | None, line: int, log: IssueLog, metadata: dict[str, Any]
) -> dict[str, Any] | None:
    answer = data.get("answer")
    if isinstance(answer, str) and answer.strip().lower() in _BOOLEAN_STRINGS:
        log.warning(
            line,
            "answer",
            f"the string {answer!r} is read as the boolean {answer.strip().lower()}; "
            "write a JSON boolean (true or false without quotes)",
        )
        answer = _BOOLEAN_STRINGS[answer.strip().lower()]
    if not isinstance(answer, bool):
        log.error(
            line,
            "answer",
            f"expected true or false for a yes/no item (one without `adv.mcq`), found {answer!r}",
        )
        return None

    # The Farm files state the target as "true" / "not true"; a yes/no probe needs the
    # opposite answer, so the raw wording goes to the metadata.
    yes_no = "yes" if answer else "no"
    opposite = "no" if answer else "yes"
    expected_target = "not true" if answer else "true"
    if raw_target is not None:
        metadata["raw_target"] = raw_target
        if raw_target.strip().lower() != expected_target:
            log.warning(
                line,
                "adv.target",
                f"expected {expected_target!r} for answer {str(answer).lower()}, found "
                f"{raw_target!r}; the persuader argues for {opposite!r}",
            )
    return {"format": AnswerFormat.YES_NO, "answer": yes_no, "target": opposite}


def _multiple_choice_fields(
    data: dict[str, Any],
    adv: dict[str, Any],
    target: str,
    line: int,
    log: IssueLog,
    metadata: dict[str, Any],
) -> dict[str, Any] | None:
    options = _read_mcq(adv.get("mcq"), line, log)
    if options is None:
        return None

    if not any(option.correct for option in options):
        log.error(line, "adv.mcq", "no option has score 1, so the item has no correct answer")
        return None
    misinformation = [option for option in options if option.misinformation]
    if len(misinformation) > 1:
        log.error(line, "adv.mcq", f"{len(misinformation)} options have score 2; at most one may")
        return None

    quirks = check_options(options, target, "adv.mcq", "adv.target", line, log)
    if not target.strip():
        log.warning(
            line,
            "adv.target",
            "target is empty; the item is kept with the metadata flag `empty_target`, and the "
            "persuader messages rely on `adv.control`",
        )
        quirks.append("empty_target")
    elif misinformation and target != misinformation[0].text and not target.startswith("not "):
        log.warning(
            line,
            "adv.target",
            f"target {target!r} differs from the score-2 option {misinformation[0].text!r}",
        )
    if quirks:
        metadata["quirks"] = quirks

    truthfulqa = any(key in data for key in _TRUTHFULQA_KEYS)
    preferred = data.get("best_answer") if truthfulqa else data.get("answer")
    if isinstance(data.get("answer"), str):
        metadata["raw_answer"] = data["answer"]
    return {
        "format": AnswerFormat.MULTIPLE_CHOICE,
        "options": tuple(options),
        "answer": _pick_answer(options, preferred),
        "target": target,
        "instruction": "most_appropriate" if truthfulqa else "select",
    }


def _read_mcq(value: Any, line: int, log: IssueLog) -> list[Option] | None:
    if not isinstance(value, list) or not value:
        log.error(line, "adv.mcq", f"expected a non-empty list of options, found {value!r}")
        return None

    options: list[Option] = []
    valid = True
    for number, entry in enumerate(value, start=1):
        field = f"adv.mcq.{number}"
        if not isinstance(entry, dict):
            log.error(line, field, f"expected an object with text and score, found {entry!r}")
            valid = False
            continue
        text, score = entry.get("text"), entry.get("score")
        if not isinstance(text, str):
            log.error(line, f"{field}.text", f"expected a string, found {text!r}")
            valid = False
        if isinstance(score, bool) or score not in (0, 1, 2):
            log.error(line, f"{field}.score", f"expected 0, 1 or 2, found {score!r}")
            valid = False
        if valid and isinstance(text, str):
            options.append(Option(text=text, correct=score == 1, misinformation=score == 2))
    return options if valid else None


def _pick_answer(options: list[Option], preferred: Any) -> str:
    # Item.answer is a correct option's text: the stated answer when it names one (NQ's short
    # answer often differs from the option text only in letter case), else the first
    # non-empty correct option.
    correct = [option.text for option in options if option.correct]
    if isinstance(preferred, str):
        for text in correct:
            if text.strip().casefold() == preferred.strip().casefold():
                return text
    for text in correct:
        if text.strip():
            return text
    return correct[0]
