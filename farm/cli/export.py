"""`farm export`: write a run's tables for analysis elsewhere."""

from __future__ import annotations

from pathlib import Path

import typer

from farm.cli import app


@app.command("export")
def export_command(
    run_dirs: list[Path] = typer.Argument(  # noqa: B008
        ..., help="Run directories (results/<run-id>); several are merged.", show_default=False
    ),
    export_format: str = typer.Option(
        "csv", "--format", "-f",
        help="csv, parquet or jsonl for the tidy tables; paper-csv for the reference script's CSV.",
    ),
    output: Path = typer.Option(  # noqa: B008
        Path("."), "--output", "-o", help="Directory to write the files into.",
    ),
    confidence: float = typer.Option(
        0.95, "--confidence", min=0.5, max=0.999, help="Confidence level of the intervals."
    ),
) -> None:
    """Write conversations, turns, metrics and paired comparisons as files."""
    from farm.report import export_run
    from farm.results import load_run

    results = load_run(*run_dirs)
    for path in export_run(results, output, export_format, confidence=confidence):
        typer.echo(str(path))
