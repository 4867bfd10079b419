"""`farm export`: write a run's tables for analysis elsewhere."""

from __future__ import annotations

from pathlib import Path

import typer

from farm.cli import app
from farm.cli._options import CONFIDENCE_OPTION, COUNTING_OPTION, checked_counting


@app.command("export")
def export_command(
    run_dirs: list[Path] = typer.Argument(
        ..., help="Run directories (results/<run-id>); several are merged.", show_default=False
    ),
    export_format: str = typer.Option(
        "csv",
        "--format",
        "-f",
        help="csv, parquet or jsonl for the tidy tables; paper-csv for the reference script's CSV.",
    ),
    output: Path = typer.Option(
        Path("."),
        "--output",
        "-o",
        help="Directory to write the files into.",
    ),
    confidence: float = CONFIDENCE_OPTION,
    counting: str = COUNTING_OPTION,
) -> None:
    """Write conversations, turns, metrics and paired comparisons as files."""
    from farm.report import export_run
    from farm.results import load_run

    results = load_run(*run_dirs, counting=checked_counting(counting))
    for path in export_run(results, output, export_format, confidence=confidence):
        typer.echo(str(path))
