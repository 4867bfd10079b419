"""Tolerant JSON Lines reading: BOM, CRLF, blank lines and bare NaN are accepted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from farm.datasets._issues import IssueLog

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class RawRecord:
    """One decoded record and the 1-based line (or row) it came from."""

    line: int
    data: dict[str, Any]


class _NonFinite:
    """Placeholder for a bare `NaN`, `Infinity` or `-Infinity` until it is reported."""

    def __init__(self, name: str) -> None:
        self.name = name


def _replace_non_finite(value: Any, path: str, line: int, log: IssueLog) -> Any:
    # `NaN` and `Infinity` are not JSON, but the official TruthfulQA file has bare `NaN` in
    # `source` (written by pandas). They are read as a missing value, with a warning.
    if isinstance(value, _NonFinite):
        log.warning(line, path, f"bare `{value.name}` read as a missing value")
        return None
    if isinstance(value, dict):
        return {
            key: _replace_non_finite(item, f"{path}.{key}" if path else key, line, log)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _replace_non_finite(item, f"{path}.{index + 1}", line, log)
            for index, item in enumerate(value)
        ]
    return value


def parse_jsonl(raw: bytes, log: IssueLog) -> list[RawRecord]:
    """Decode JSON Lines bytes into records, reporting undecodable lines to `log`.

    Every line is decoded on its own, so one bad line does not hide the problems of the
    others. Invalid UTF-8 is reported with its byte offset in the file.
    """
    records: list[RawRecord] = []
    offset = len(_BOM) if raw.startswith(_BOM) else 0

    for number, chunk in enumerate(raw[offset:].split(b"\n"), start=1):
        line_start = offset
        offset += len(chunk) + 1

        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as error:
            bad_byte = chunk[error.start]
            log.error(
                number,
                None,
                f"invalid UTF-8 at byte offset {line_start + error.start} "
                f"(byte 0x{bad_byte:02x}, column {error.start + 1} of the line in bytes); "
                "save the file as UTF-8",
            )
            continue

        text = text.strip()
        if not text:
            continue

        try:
            data = json.loads(text, parse_constant=_NonFinite)
        except json.JSONDecodeError as error:
            log.error(
                number,
                None,
                f"invalid JSON: {error.msg}: column {error.colno}; fix the line "
                "or load with skip_invalid (`--skip-invalid`) to skip it",
            )
            continue

        if not isinstance(data, dict):
            log.error(number, None, f"expected a JSON object, found {type(data).__name__}")
            continue
        records.append(RawRecord(line=number, data=_replace_non_finite(data, "", number, log)))

    return records
