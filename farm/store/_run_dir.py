"""The run directory: a manifest plus an append-only JSONL file of conversation records.

Layout of `results/<run-id>/`:
- `manifest.json`: the Manifest, rewritten atomically (temp file, then rename).
- `conversations.jsonl`: one ConversationRecord per line, appended as each conversation ends
  and flushed with fsync, so a crash loses at most the line being written.

A later record with the same key replaces an earlier one (a failed conversation run again on
resume appends its new record instead of editing the file).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ValidationError

from farm.errors import FarmError
from farm.store._records import ConversationRecord, Manifest

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
RECORDS_NAME = "conversations.jsonl"
#: A run refuses to start with less free space than this in the results directory.
MIN_FREE_BYTES = 50 * 1024 * 1024


class _RecordStatus(BaseModel):
    """The two fields of a record that resume reads."""

    key: str
    status: str


class RunDirError(FarmError):
    """The run directory is missing, unwritable or contains unreadable data."""


def new_run_id(now: datetime | None = None) -> str:
    """Return a sortable, unique run id such as `20261204-204512-3fa9`."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def check_writable(directory: Path) -> None:
    """Fail early, before any model call, if results cannot be written to `directory`."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        raise RunDirError(
            f"cannot write to results directory {directory}: {error.strerror or error}. "
            "Choose another directory with --output or fix its permissions."
        ) from error

    free = shutil.disk_usage(directory).free
    if free < MIN_FREE_BYTES:
        raise RunDirError(
            f"only {free // (1024 * 1024)} MiB free in {directory}; farm needs at least "
            f"{MIN_FREE_BYTES // (1024 * 1024)} MiB for run records. "
            "Free some space or use --output."
        )


class RunDir:
    """Read and write one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.manifest_path = path / MANIFEST_NAME
        self.records_path = path / RECORDS_NAME

    def exists(self) -> bool:
        """True when the directory contains a manifest."""
        return self.manifest_path.is_file()

    def write_manifest(self, manifest: Manifest) -> None:
        """Write the manifest atomically, so a reader never sees half a file."""
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.manifest_path.with_suffix(".json.tmp")
        temporary.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        os.replace(temporary, self.manifest_path)

    def read_manifest(self) -> Manifest:
        """Read the manifest, with an error that names the file when it is missing or invalid."""
        if not self.manifest_path.is_file():
            raise RunDirError(
                f"{self.path} is not a farm run directory: {MANIFEST_NAME} not found."
            )
        try:
            return Manifest.model_validate_json(self.manifest_path.read_bytes())
        except ValidationError as error:
            raise RunDirError(f"{self.manifest_path} is invalid: {error}") from error

    def repair_torn_tail(self) -> int:
        """Cut an incomplete last line left by a crash mid-write; return the bytes removed."""
        if not self.records_path.is_file():
            return 0
        with self.records_path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            # Scan back to the previous newline in blocks; records are a few kB each.
            position = size
            block = 65536
            keep = 0
            while position > 0:
                start = max(0, position - block)
                handle.seek(start)
                chunk = handle.read(position - start)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    keep = start + cut + 1
                    break
                position = start
            handle.truncate(keep)
        removed = size - keep
        logger.warning(
            "removed a torn last record (%d bytes) from %s; that conversation will run again",
            removed,
            self.records_path,
        )
        return removed

    def append(self, record: ConversationRecord) -> None:
        """Append one record as a single line and force it to disk."""
        line = record.model_dump_json() + "\n"
        with self.records_path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def iter_records(self) -> Iterator[ConversationRecord]:
        """Yield records in file order, skipping (with a warning) lines that do not parse.

        Only the last line can be torn by a crash. A bad line elsewhere is reported by line
        number and skipped, so the rest of the run stays readable.
        """
        if not self.records_path.is_file():
            return
        with self.records_path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield ConversationRecord.model_validate_json(line)
                except (ValidationError, json.JSONDecodeError) as error:
                    logger.warning(
                        "skipped unreadable record at %s line %d: %s",
                        self.records_path,
                        number,
                        str(error).splitlines()[0],
                    )

    def finished_statuses(self) -> dict[str, str]:
        """Return the status of the last record per key, without keeping whole records.

        Resume needs only keys and statuses; reading them into a two-field model keeps
        memory flat however many transcripts the run holds.
        """
        statuses: dict[str, str] = {}
        if not self.records_path.is_file():
            return statuses
        with self.records_path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    head = _RecordStatus.model_validate_json(line)
                except ValidationError as error:
                    logger.warning(
                        "skipped unreadable record at %s line %d: %s",
                        self.records_path,
                        number,
                        str(error).splitlines()[0],
                    )
                    continue
                statuses[head.key] = head.status
        return statuses

    def latest_records(self) -> dict[str, ConversationRecord]:
        """Return the last record per conversation key."""
        latest: dict[str, ConversationRecord] = {}
        for record in self.iter_records():
            latest[record.key] = record
        return latest
