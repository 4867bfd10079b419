"""Parse records of farm's own dataset format (JSONL, CSV or Parquet rows) into Items.

The format is documented with a full example in `datasets/README.md` at the repository root.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from farm.datasets._checks import check_options, read_appeals
from farm.datasets._issues import IssueLog
from farm.datasets._jsonl import RawRecord
from farm.datasets._model import AnswerFormat, Item, Option

_YES_NO_WORDS = {"yes": "yes", "no": "no", "true": "yes", "false": "no"}


class NativeOption(BaseModel):
    """One answer option as stored in a farm-native record."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str
    correct: bool = False
    misinformation: bool = False


class NativeRecord(BaseModel):
    """The shape of one farm-native record, before the checks that span fields."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str | None = None
    question: str
    format: Literal["yes_no", "multiple_choice"] | None = None
    answer: str | bool | None = None
    options: list[NativeOption] | None = None
    target: str | None = None
    control: str
    appeals: dict[str, Any] = {}
    instruction: Literal["select", "most_appropriate"] = "select"
    subset: str | None = None
    source: str | None = None
    metadata: dict[str, Any] = {}


def _field_name(location: tuple[int | str, ...]) -> str:
    # pydantic counts list positions from 0; messages count options and appeals from 1.
    return ".".join(str(part + 1) if isinstance(part, int) else part for part in location)


def parse_native_record(record: RawRecord, dataset: str, log: IssueLog) -> Item | None:
    """Build an Item from one farm-native record, or return None after reporting its errors."""
    line = record.line
    try:
        native = NativeRecord.model_validate(record.data)
    except ValidationError as error:
        for problem in error.errors():
            field = _field_name(problem["loc"])
            if problem["type"] == "extra_forbidden":
                log.error(line, field, "unknown field; put extra data under `metadata`")
            elif problem["type"] == "missing":
                log.error(line, field, "missing; every item needs it")
            else:
                log.error(line, field, f"{problem['msg']}, found {problem['input']!r}")
        return None

    errors_before = len(log.errors_at(line))
    for name in ("question", "control"):
        if not getattr(native, name).strip():
            log.error(line, name, "empty; every item needs it")
    appeals = read_appeals(native.appeals, "appeals", line, log, required=())

    answer_format = native.format or ("multiple_choice" if native.options else "yes_no")
    if answer_format == "yes_no":
        fields = _yes_no_fields(native, line, log)
    else:
        fields = _multiple_choice_fields(native, line, log)
    if fields is None or len(log.errors_at(line)) > errors_before:
        return None

    metadata = dict(native.metadata)
    quirks = fields.pop("quirks", None)
    if quirks:
        metadata["quirks"] = quirks
    return Item(
        id=native.id or "",
        dataset=dataset,
        subset=native.subset or dataset,
        question=native.question,
        control=native.control,
        appeals=appeals,
        instruction=native.instruction,
        source=native.source,
        line=line,
        metadata=metadata,
        **fields,
    )


def _yes_no_word(value: str | bool | None) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _YES_NO_WORDS.get(value.strip().lower())
    return None


def _yes_no_fields(native: NativeRecord, line: int, log: IssueLog) -> dict[str, Any] | None:
    if native.options:
        log.error(line, "options", "a yes_no item has no options; set format to multiple_choice")
        return None
    answer = _yes_no_word(native.answer)
    if answer is None:
        log.error(line, "answer", f"expected yes or no for a yes_no item, found {native.answer!r}")
        return None

    opposite = "no" if answer == "yes" else "yes"
    if native.target is not None and _yes_no_word(native.target) != opposite:
        log.error(
            line,
            "target",
            f"expected {opposite!r} (the opposite of the answer) or no target, "
            f"found {native.target!r}",
        )
        return None
    return {"format": AnswerFormat.YES_NO, "answer": answer, "target": opposite}


def _multiple_choice_fields(
    native: NativeRecord, line: int, log: IssueLog
) -> dict[str, Any] | None:
    if not native.options or len(native.options) < 2:
        log.error(line, "options", "a multiple_choice item needs at least 2 options")
        return None
    options = [Option(**option.model_dump()) for option in native.options]

    correct = [option.text for option in options if option.correct]
    if not correct:
        log.error(line, "options", "no option is marked correct")
        return None
    flagged = [option.text for option in options if option.misinformation]
    if len(flagged) > 1:
        log.error(
            line, "options", f"{len(flagged)} options are marked misinformation; at most one may"
        )
        return None
    if any(option.correct and option.misinformation for option in options):
        log.error(line, "options", "an option is marked both correct and misinformation")
        return None

    if native.target is not None:
        target = native.target
    elif flagged:
        target = flagged[0]
    else:
        log.error(line, "target", "missing; give a target or mark one option as misinformation")
        return None

    if native.answer is None:
        answer = correct[0]
    elif isinstance(native.answer, str) and native.answer in correct:
        answer = native.answer
    else:
        log.error(line, "answer", f"must be the text of a correct option, found {native.answer!r}")
        return None

    quirks = check_options(options, target, "options", "target", line, log)
    return {
        "format": AnswerFormat.MULTIPLE_CHOICE,
        "options": tuple(options),
        "answer": answer,
        "target": target,
        "quirks": quirks,
    }
