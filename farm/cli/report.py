"""`farm report`: build the self-contained HTML report of one or more runs."""

from __future__ import annotations

from pathlib import Path

import typer

from farm.cli import app
from farm.cli._options import CONFIDENCE_OPTION, COUNTING_OPTION, checked_counting


@app.command("report")
def report_command(
    run_dirs: list[Path] = typer.Argument(
        ...,
        help="Run directories (results/<run-id>); several are compared side by side.",
        show_default=False,
    ),
    output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),
    figures: Path | None = typer.Option(
        None, "--figures", help="Also write every figure as SVG, PDF and PNG into this directory."
    ),
    confidence: float = CONFIDENCE_OPTION,
    counting: str = COUNTING_OPTION,
) -> None:
    """Write one HTML file with metrics, figures and a transcript browser; it opens offline."""
    from farm.report import build_report

    path = build_report(
        run_dirs,
        output,
        figures_dir=figures,
        confidence=confidence,
        counting=checked_counting(counting),
    )
    typer.echo(f"wrote {path}")
