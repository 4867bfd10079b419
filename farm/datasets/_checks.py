"""Checks shared by the Farm-layout and the farm-native record parsers."""

from __future__ import annotations

from typing import Any

from farm.datasets._issues import IssueLog
from farm.datasets._model import APPEAL_STRATEGIES, Option

#: Appeals a built-in appeal strategy needs: one per persuasion turn after the first, so 3
#: for the 4 turns of the Farm protocol.
REQUIRED_APPEALS = 3


def read_text(
    data: dict[str, Any], key: str, field: str, line: int, log: IssueLog, *, required: bool
) -> str | None:
    """Return a string field; report a missing, empty or non-string value to `log`."""
    value = data.get(key)
    if value is None:
        if required:
            log.error(line, field, "missing; every item needs it")
        return None
    if not isinstance(value, str):
        log.error(line, field, f"expected a string, found {type(value).__name__} {value!r}")
        return None
    if required and not value.strip():
        log.error(line, field, "empty; every item needs it")
        return None
    return value


def read_appeals(
    value: Any, field: str, line: int, log: IssueLog, *, required: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """Validate appeals per strategy: a list of non-empty strings for each strategy.

    Strategies in `required` must be present. Built-in appeal strategies need
    REQUIRED_APPEALS passages; other strategy names need at least one.
    """
    if not isinstance(value, dict):
        log.error(
            line, field, f"expected an object of strategy -> list of appeals, found {value!r}"
        )
        return {}

    appeals: dict[str, tuple[str, ...]] = {}
    for strategy in required:
        if strategy not in value:
            log.error(
                line,
                f"{field}.{strategy}" if field else strategy,
                f"missing; the {strategy} strategy needs {REQUIRED_APPEALS} appeals",
            )

    for strategy, passages in value.items():
        where = f"{field}.{strategy}" if field else strategy
        if not isinstance(passages, list) or not all(isinstance(p, str) for p in passages):
            log.error(line, where, "expected a list of strings")
            continue
        needed = REQUIRED_APPEALS if strategy in APPEAL_STRATEGIES else 1
        if len(passages) < needed:
            log.error(
                line,
                where,
                f"has {len(passages)} appeal(s) but {needed} are needed: the {strategy} "
                f"strategy sends one appeal in each of turns 2 to {needed + 1} of a "
                f"{needed + 1}-turn conversation",
            )
            continue
        for number, passage in enumerate(passages, start=1):
            if not passage.strip():
                log.error(line, f"{where}.{number}", "appeal is empty")
        appeals[strategy] = tuple(passages)
    return appeals


def check_options(
    options: list[Option], target: str, field: str, target_field: str, line: int, log: IssueLog
) -> list[str]:
    """Warn about option quirks that loading survives; return quirk flags for the metadata."""
    quirks: list[str] = []

    for number, option in enumerate(options, start=1):
        if not option.text.strip():
            log.warning(
                line,
                f"{field}.{number}",
                "option text is empty; the option is kept, so the probe lists an empty option",
            )
            if "empty_option" not in quirks:
                quirks.append("empty_option")

    seen: dict[str, int] = {}
    for number, option in enumerate(options, start=1):
        if option.text and option.text in seen:
            log.warning(
                line,
                f"{field}.{number}",
                f"option text {option.text!r} repeats option {seen[option.text]}",
            )
        seen.setdefault(option.text, number)

    correct_texts = {option.text.strip().casefold() for option in options if option.correct}
    if target.strip() and target.strip().casefold() in correct_texts:
        log.warning(
            line,
            target_field,
            f"the target {target!r} is also the text of a correct option, so choosing it can "
            "count as correct; the item is kept with the metadata flag "
            "`target_is_correct_option`, exclude it if that matters",
        )
        quirks.append("target_is_correct_option")
    return quirks
