"""CSV and Parquet files in the farm-native format, read into records and written from Items.

CSV has one column per scalar field (`id`, `subset`, `question`, `format`, `answer`,
`target`, `control`, `instruction`, `source`), options in `option.1`, `option.2`, ..., the
correct option numbers in `correct` (separated by `;`), the misinformation option number in
`misinformation`, appeals in `appeals.<strategy>.<n>` and metadata in `metadata.<key>`
(read back as strings). Empty cells count as absent.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from farm.datasets._issues import IssueLog
from farm.datasets._jsonl import RawRecord
from farm.datasets._model import AnswerFormat, Item

SCALAR_COLUMNS = (
    "id",
    "subset",
    "question",
    "format",
    "answer",
    "target",
    "control",
    "instruction",
    "source",
)
_OPTION = re.compile(r"option\.([1-9][0-9]*)")
_APPEAL = re.compile(r"appeals\.(.+)\.([1-9][0-9]*)")
_METADATA = re.compile(r"metadata\.(.+)")


def decode_text(raw: bytes, log: IssueLog) -> str | None:
    """Decode UTF-8 (with or without BOM), reporting the line and byte offset of bad bytes."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        log.error(
            line,
            None,
            f"invalid UTF-8 at byte offset {error.start} (byte 0x{raw[error.start]:02x}); "
            "save the file as UTF-8",
        )
        return None


def parse_csv(raw: bytes, log: IssueLog) -> list[RawRecord]:
    """Read farm-native CSV bytes into records; `line` is the file line where a row starts."""
    text = decode_text(raw, log)
    if text is None:
        return []

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return []
    columns = [name.strip() for name in header]
    if not _check_header(columns, log):
        return []

    records: list[RawRecord] = []
    line = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            if len(row) > len(columns):
                log.error(line, None, f"row has {len(row)} cells but the header has {len(columns)}")
            else:
                cells = dict(zip(columns, row, strict=False))  # a short row leaves cells empty
                record = _row_to_record(cells, line, log)
                if record is not None:
                    records.append(RawRecord(line=line, data=record))
        line = reader.line_num + 1
    return records


def _check_header(columns: list[str], log: IssueLog) -> bool:
    valid = True
    for name in columns:
        known = (
            name in SCALAR_COLUMNS
            or name in ("correct", "misinformation")
            or any(pattern.fullmatch(name) for pattern in (_OPTION, _APPEAL, _METADATA))
        )
        if not known:
            log.error(
                1,
                name,
                "unknown column; expected one of "
                f"{', '.join(SCALAR_COLUMNS)}, option.N, correct, misinformation, "
                "appeals.STRATEGY.N or metadata.KEY",
            )
            valid = False
    for required in ("question", "control"):
        if required not in columns:
            log.error(1, required, "missing column")
            valid = False
    return valid


def _option_numbers(value: str, column: str, count: int, line: int, log: IssueLog) -> set[int]:
    numbers: set[int] = set()
    for part in value.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= count:
            log.error(line, column, f"expected option numbers from 1 to {count}, found {part!r}")
            continue
        numbers.add(int(part))
    return numbers


def _row_to_record(cells: dict[str, str], line: int, log: IssueLog) -> dict[str, Any] | None:
    record: dict[str, Any] = {
        name: cells[name] for name in SCALAR_COLUMNS if cells.get(name, "").strip()
    }
    errors_before = len(log.errors_at(line))

    option_texts: dict[int, str] = {}
    appeals: dict[str, dict[int, str]] = {}
    metadata: dict[str, str] = {}
    for name, value in cells.items():
        if match := _OPTION.fullmatch(name):
            option_texts[int(match.group(1))] = value
        elif (match := _APPEAL.fullmatch(name)) and value.strip():
            appeals.setdefault(match.group(1), {})[int(match.group(2))] = value
        elif (match := _METADATA.fullmatch(name)) and value.strip():
            metadata[match.group(1)] = value

    # Options run up to the last non-empty option.N cell; an empty cell before it is an
    # option with empty text.
    filled = [number for number, text in option_texts.items() if text.strip()]
    count = max(filled, default=0)
    if count:
        correct = _option_numbers(cells.get("correct", ""), "correct", count, line, log)
        flagged = _option_numbers(
            cells.get("misinformation", ""), "misinformation", count, line, log
        )
        record["options"] = [
            {
                "text": option_texts.get(number, ""),
                "correct": number in correct,
                "misinformation": number in flagged,
            }
            for number in range(1, count + 1)
        ]
    elif cells.get("correct", "").strip() or cells.get("misinformation", "").strip():
        log.error(line, "correct", "option numbers are given but no option.N cell is filled")

    if appeals:
        record["appeals"] = {
            strategy: [passages[number] for number in sorted(passages)]
            for strategy, passages in appeals.items()
        }
    if metadata:
        record["metadata"] = metadata
    if len(log.errors_at(line)) > errors_before:
        return None
    return record


def native_record(item: Item) -> dict[str, Any]:
    """Return the farm-native record of an item (the JSONL form)."""
    record: dict[str, Any] = {
        "id": item.id,
        "subset": item.subset,
        "question": item.question,
        "format": item.format.value,
        "answer": item.answer,
        "target": item.target,
        "control": item.control,
    }
    if item.format is AnswerFormat.MULTIPLE_CHOICE:
        record["options"] = [option.model_dump() for option in item.options]
    if item.appeals:
        record["appeals"] = {strategy: list(texts) for strategy, texts in item.appeals.items()}
    if item.instruction != "select":
        record["instruction"] = item.instruction
    if item.source is not None:
        record["source"] = item.source
    if item.metadata:
        record["metadata"] = item.metadata
    return record


def _csv_cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def csv_rows(items: list[Item]) -> tuple[list[str], list[dict[str, str]]]:
    """Return the CSV header and one row per item, in the column layout described above."""
    rows: list[dict[str, str]] = []
    max_options = 0
    appeal_columns: dict[str, int] = {}
    metadata_keys: dict[str, None] = {}

    for item in items:
        record = native_record(item)
        row = {name: _csv_cell(record[name]) for name in SCALAR_COLUMNS if name in record}
        for number, option in enumerate(item.options, start=1):
            row[f"option.{number}"] = option.text
        if item.options:
            row["correct"] = ";".join(str(n) for n in item.correct_options)
            if item.target_option is not None:
                row["misinformation"] = str(item.target_option)
        for strategy, texts in item.appeals.items():
            for number, text in enumerate(texts, start=1):
                row[f"appeals.{strategy}.{number}"] = text
            appeal_columns[strategy] = max(appeal_columns.get(strategy, 0), len(texts))
        for key, value in item.metadata.items():
            row[f"metadata.{key}"] = _csv_cell(value)
            metadata_keys[key] = None
        max_options = max(max_options, len(item.options))
        rows.append(row)

    header = list(SCALAR_COLUMNS)
    header += [f"option.{n}" for n in range(1, max_options + 1)]
    header += ["correct", "misinformation"] if max_options else []
    header += [
        f"appeals.{strategy}.{n}"
        for strategy, count in appeal_columns.items()
        for n in range(1, count + 1)
    ]
    header += [f"metadata.{key}" for key in metadata_keys]
    return header, rows


def write_csv(items: list[Item], path: Path) -> None:
    """Write items as farm-native CSV (UTF-8, no BOM)."""
    header, rows = csv_rows(items)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def parse_parquet(path: Path, log: IssueLog) -> list[RawRecord]:
    """Read farm-native Parquet rows into records; `line` is the 1-based row number.

    `appeals` and `metadata` may be nested columns or JSON text (as `write_parquet` stores
    them, because metadata values can mix types).
    """
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        log.error(None, None, "reading Parquet needs pyarrow: pip install 'farm-eval[parquet]'")
        return []

    try:
        rows = parquet.read_table(path).to_pylist()
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        log.error(None, None, f"cannot read the Parquet file: {error}")
        return []

    records: list[RawRecord] = []
    for number, row in enumerate(rows, start=1):
        record = {key: value for key, value in row.items() if value is not None}
        for key in ("appeals", "metadata"):
            value = record.get(key)
            if isinstance(value, str):
                try:
                    record[key] = json.loads(value)
                except json.JSONDecodeError as error:
                    log.error(number, key, f"invalid JSON text ({error.msg})")
            elif isinstance(value, dict):
                record[key] = {k: v for k, v in value.items() if v is not None}
        records.append(RawRecord(line=number, data=record))
    return records


def write_parquet(items: list[Item], path: Path) -> None:
    """Write items as farm-native Parquet; needs pyarrow."""
    import pyarrow
    import pyarrow.parquet as parquet

    records = []
    for item in items:
        # Table.from_pylist takes its columns from the first row, so every row needs every key.
        record = native_record(item)
        record["options"] = record.get("options", [])
        record["instruction"] = item.instruction
        record["source"] = item.source
        for key in ("appeals", "metadata"):
            record[key] = json.dumps(record.get(key, {}), ensure_ascii=False)
        records.append(record)
    parquet.write_table(pyarrow.Table.from_pylist(records), path)
