"""Validation of dataset paths: every problem of every file, without stopping at the first."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from farm.datasets._issues import Issue
from farm.datasets._load import check_files, data_files
from farm.datasets._resolve import resolve_files
from farm.errors import DatasetError


def validate_paths(paths: Iterable[str | Path]) -> list[Issue]:
    """Check dataset files and directories and return all errors and warnings found.

    A directory is checked as one dataset of all its data files. An argument that is not an
    existing path is resolved as a dataset spec (`sample`, `farm`, `farm/NQ2`, a name in
    `./datasets/`), and one that resolves to nothing gives an error issue.
    """
    issues: list[Issue] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            files = data_files(path)
            if not files:
                issues.append(
                    Issue(severity="error", file=str(path), message="no dataset files in directory")
                )
            issues += check_files(files, path.resolve().name)
        elif path.is_file():
            issues += check_files([path])
        else:
            try:
                files, name = resolve_files(str(entry))
            except DatasetError as error:
                issues.append(Issue(severity="error", file=str(entry), message=str(error)))
                continue
            issues += check_files(files, name)
    return issues
