"""Run records on disk: the manifest and the conversation log of each run."""

from __future__ import annotations

import os
from pathlib import Path

from farm.store._records import (
    ConversationError,
    ConversationRecord,
    ConversationStatus,
    Manifest,
    ParsedAnswer,
    ProbeAttempt,
    ProbeKind,
    ProbeResult,
    TurnRecord,
    Verdict,
)
from farm.store._run_dir import RunDir, RunDirError, check_writable, new_run_id


def read_manifest(run_dir: str | os.PathLike[str]) -> Manifest:
    """Read the manifest of a run directory."""
    return RunDir(Path(run_dir)).read_manifest()


def read_records(run_dir: str | os.PathLike[str]) -> list[ConversationRecord]:
    """Return the latest record of every conversation in a run directory, in file order."""
    return list(RunDir(Path(run_dir)).latest_records().values())


__all__ = [
    "ConversationError",
    "ConversationRecord",
    "ConversationStatus",
    "Manifest",
    "ParsedAnswer",
    "ProbeAttempt",
    "ProbeKind",
    "ProbeResult",
    "RunDir",
    "RunDirError",
    "TurnRecord",
    "Verdict",
    "check_writable",
    "new_run_id",
    "read_manifest",
    "read_records",
]
