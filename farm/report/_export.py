"""Write a run's tidy tables as CSV, Parquet or JSON Lines, or the reference script's CSV."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from farm.errors import ConfigError, FarmError
from farm.metrics import write_paper_csv
from farm.results import RunResults

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("csv", "parquet", "jsonl", "paper-csv")
#: File name of the `paper-csv` export.
PAPER_CSV_NAME = "paper_results.csv"


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8")


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as error:
        raise FarmError(
            "Parquet export needs pyarrow, which is not installed. "
            "Install it with: pip install 'farm-eval[parquet]'"
        ) from error
    frame.to_parquet(path, index=False)


def _write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    frame.to_json(path, orient="records", lines=True, force_ascii=False, date_format="iso")


_WRITERS: dict[str, tuple[str, Callable[[pd.DataFrame, Path], None]]] = {
    "csv": ("csv", _write_csv),
    "parquet": ("parquet", _write_parquet),
    "jsonl": ("jsonl", _write_jsonl),
}


def export_run(
    results: RunResults, output_dir: Path, export_format: str, confidence: float = 0.95
) -> list[Path]:
    """Write the tables of `results` into `output_dir` and return the files written.

    Table formats write `conversations`, `turns`, `metrics`, `paired_models` and
    `paired_strategies`; `paper-csv` writes the reference script's CSV for every model in
    one file.
    """
    if export_format not in EXPORT_FORMATS:
        raise ConfigError(
            f"unknown export format {export_format!r}; choose one of {', '.join(EXPORT_FORMATS)}."
        )
    output_dir.mkdir(parents=True, exist_ok=True)

    if export_format == "paper-csv":
        path = write_paper_csv(results.paper_csv_rows(), output_dir / PAPER_CSV_NAME)
        return [path]

    extension, write = _WRITERS[export_format]
    tables = {
        "conversations": results.conversations(),
        "turns": results.turns(),
        "metrics": results.metrics(confidence=confidence),
        "paired_models": results.paired_models(confidence=confidence),
        "paired_strategies": results.paired_strategies(confidence=confidence),
    }
    written = []
    for name, frame in tables.items():
        path = output_dir / f"{name}.{extension}"
        write(frame, path)
        written.append(path)
        logger.info("wrote %s (%d rows)", path, len(frame))
    return written
