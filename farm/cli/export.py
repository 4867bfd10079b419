"""`farm export`: write a run's tables for analysis elsewhere."""

from __future__ import annotations

from pathlib import Path

import typer

from farm.cli import app
from farm.errors import ConfigError


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
    confidence: float = typer.Option(
        0.95, "--confidence", min=0.5, max=0.999, help="Confidence level of the intervals."
    ),
    counting: str = typer.Option(
        "farm",
        "--counting",
        help="farm: farm's corrected rules. reference: re-judge stored replies with the "
        "reference script's rules, defects included, to compare with published numbers.",
    ),
) -> None:
    """Write conversations, turns, metrics and paired comparisons as files."""
    from farm.report import export_run
    from farm.results import load_run

    if counting not in ("farm", "reference"):
        raise ConfigError(f"invalid --counting {counting!r}; use farm or reference.")
    results = load_run(*run_dirs, counting=counting)  # type: ignore[arg-type]
    for path in export_run(results, output, export_format, confidence=confidence):
        typer.echo(str(path))
