"""Load dataset files of either layout into a Dataset, collecting every problem on the way."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from farm.datasets._farm import is_farm_record, parse_farm_record
from farm.datasets._issues import Issue, IssueLog, raise_for_errors
from farm.datasets._jsonl import RawRecord, parse_jsonl
from farm.datasets._model import Dataset, Item, item_content_id
from farm.datasets._native import parse_native_record
from farm.datasets._official import FARM_COMMIT, FARM_FILES, FARM_NAME, canonical_subset
from farm.datasets._tabular import parse_csv, parse_parquet

logger = logging.getLogger("farm.datasets")

#: File name endings that hold dataset records, lower case.
DATA_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")


@dataclass
class _FileScan:
    """One file's bytes and decoded records, before they become Items."""

    path: Path
    raw: bytes
    records: list[RawRecord]
    log: IssueLog
    layout: Literal["farm", "native"]
    items: list[Item] = field(default_factory=list)

    @property
    def official_subset(self) -> str | None:
        return canonical_subset(self.path.stem) if self.layout == "farm" else None


def data_files(directory: Path) -> list[Path]:
    """List the dataset files of a directory: official subsets in paper order, then the rest."""
    files = [
        path
        for path in directory.iterdir()
        if path.is_file() and path.suffix.lower() in DATA_SUFFIXES
    ]
    official = list(FARM_FILES)

    def order(path: Path) -> tuple[int, str]:
        subset = canonical_subset(path.stem)
        return (official.index(subset) if subset else len(official), path.name.lower())

    return sorted(files, key=order)


def _scan(path: Path) -> _FileScan:
    log = IssueLog(str(path))
    try:
        raw = path.read_bytes()
    except OSError as error:
        log.error(None, None, f"cannot read the file: {error.strerror or error}")
        return _FileScan(path, b"", [], log, "native")

    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = parse_csv(raw, log)
    elif suffix == ".parquet":
        records = parse_parquet(path, log)
    elif suffix in (".jsonl", ".ndjson"):
        records = parse_jsonl(raw, log)
    else:
        log.error(
            None, None, f"unsupported file type {path.suffix!r}; use {', '.join(DATA_SUFFIXES)}"
        )
        records = []

    layout: Literal["farm", "native"] = (
        "farm" if records and is_farm_record(records[0].data) else "native"
    )
    return _FileScan(path, raw, records, log, layout)


def _infer_name(scans: list[_FileScan], name: str | None) -> str:
    if scans and all(scan.official_subset for scan in scans):
        return FARM_NAME
    if name:
        return name
    return scans[0].path.stem if scans else "dataset"


def _version(name: str, scans: list[_FileScan]) -> str:
    if name != FARM_NAME:
        return "1"
    pinned = all(
        scan.official_subset
        and hashlib.sha256(scan.raw).hexdigest() == FARM_FILES[scan.official_subset][1]
        for scan in scans
    )
    # The pinned commit names the version only when every file is byte-identical to it.
    return FARM_COMMIT[:12] if pinned else "modified"


def _content(item: Item) -> dict[str, Any]:
    # What makes an item the same item: editing an appeal or the control keeps the id, so
    # results stay joinable; changing the question, answers or options gives a new id.
    return {
        "question": item.question,
        "format": item.format.value,
        "answer": item.answer,
        "target": item.target,
        "options": [option.model_dump() for option in item.options],
    }


def _parse(scan: _FileScan, name: str) -> None:
    subset = scan.official_subset or scan.path.stem
    for record in scan.records:
        if scan.layout == "farm":
            item = parse_farm_record(record, name, subset, scan.log)
        else:
            item = parse_native_record(record, name, scan.log)
        if item is not None:
            scan.items.append(item)

    first_line: dict[str, int] = {}
    for item in scan.items:
        key = " ".join(item.question.split()).casefold()
        if key in first_line:
            scan.log.warning(
                item.line,
                "question",
                f"same question as line {first_line[key]} (lines {first_line[key]} and "
                f"{item.line}); both items are kept with different ids",
            )
        else:
            first_line[key] = item.line or 0

    if not scan.records and not scan.log.issues:
        scan.log.error(None, None, "the dataset has no items; add at least one record")


def _assign_ids(scans: list[_FileScan]) -> None:
    taken: dict[str, int | None] = {}
    for scan in scans:
        numbered: list[Item] = []
        for item in scan.items:
            if item.id:
                if item.id in taken:
                    scan.log.error(item.line, "id", f"id {item.id!r} repeats line {taken[item.id]}")
                    continue
                item_id = item.id
            else:
                content = _content(item)
                item_id = item_content_id(item.dataset, item.subset, content)
                repeat = 1
                while item_id in taken:
                    # An exact repeat of an earlier item still needs an id of its own.
                    repeat += 1
                    content = {**_content(item), "repeat": repeat}
                    item_id = item_content_id(item.dataset, item.subset, content)
            taken[item_id] = item.line
            numbered.append(item.model_copy(update={"id": item_id}))
        scan.items = numbered


def _scan_all(paths: Iterable[Path], name: str | None) -> tuple[str, list[_FileScan]]:
    scans = [_scan(path) for path in paths]
    dataset_name = _infer_name(scans, name)
    for scan in scans:
        _parse(scan, dataset_name)
    _assign_ids(scans)
    return dataset_name, scans


def check_files(paths: Iterable[Path], name: str | None = None) -> list[Issue]:
    """Return every problem found in the files, loaded together as one dataset."""
    _, scans = _scan_all(paths, name)
    return [issue for scan in scans for issue in scan.log.issues]


def load_files(
    paths: list[Path], name: str | None = None, *, skip_invalid: bool = False
) -> Dataset:
    """Load files as one dataset, raising DatasetError on the first error.

    With `skip_invalid`, records with errors (undecodable lines included) are skipped and
    counted instead; problems with a whole file still raise.
    """
    dataset_name, scans = _scan_all(paths, name)
    issues = [issue for scan in scans for issue in scan.log.issues]

    skipped = 0
    if skip_invalid:
        file_errors = [i for i in issues if i.severity == "error" and i.line is None]
        raise_for_errors(file_errors)
        for scan in scans:
            bad_lines = {i.line for i in scan.log.issues if i.severity == "error"}
            skipped += len(bad_lines)
            scan.items = [item for item in scan.items if item.line not in bad_lines]
        issues = [
            issue.model_copy(update={"severity": "warning", "message": f"skipped: {issue.message}"})
            if issue.severity == "error"
            else issue
            for issue in issues
        ]
    else:
        raise_for_errors(issues)

    items = [item for scan in scans for item in scan.items]
    if not items:
        raise_for_errors(
            [
                Issue(
                    severity="error",
                    file=str(scans[0].path) if scans else "",
                    message=(
                        f"the dataset has no items ({skipped} invalid records skipped)"
                        if skipped
                        else "the dataset has no items"
                    ),
                )
            ]
        )

    warnings = [str(issue) for issue in issues if issue.severity == "warning"]
    for warning in warnings:
        logger.debug("%s", warning)
    # One line per load keeps `farm run` readable; Dataset.warnings and
    # `farm datasets validate` list the individual warnings.
    if warnings:
        logger.warning(
            "dataset %r loaded with %d warnings (for example: %s); run `farm datasets validate` "
            "on it to list them",
            dataset_name,
            len(warnings),
            warnings[0],
        )
    if skipped:
        logger.warning("skipped %d invalid records of dataset %r", skipped, dataset_name)

    digest = hashlib.sha256()
    for scan in scans:
        digest.update(scan.raw)
    return Dataset(
        name=dataset_name,
        version=_version(dataset_name, scans),
        content_hash=digest.hexdigest(),
        items=items,
        warnings=warnings,
        skipped=skipped,
        files=[str(scan.path) for scan in scans],
    )
