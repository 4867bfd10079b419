"""`farm report`: build the self-contained HTML report of one or more runs."""

from __future__ import annotations

from pathlib import Path

import typer

from farm.cli import app


@app.command("report")
def report_command(
    run_dirs: list[Path] = typer.Argument(  # noqa: B008
        ..., help="Run directories (results/<run-id>); several are compared side by side.",
        show_default=False,
    ),
    output: Path = typer.Option(  # noqa: B008
        Path("report.html"), "--output", "-o", help="HTML file to write."
    ),
    figures: Path | None = typer.Option(  # noqa: B008
        None, "--figures", help="Also write every figure as SVG, PDF and PNG into this directory."
    ),
    confidence: float = typer.Option(
        0.95, "--confidence", min=0.5, max=0.999, help="Confidence level of the intervals."
    ),
) -> None:
    """Write one HTML file with metrics, figures and a transcript browser; it opens offline."""
    from farm.report import build_report

    path = build_report(run_dirs, output, figures_dir=figures, confidence=confidence)
    typer.echo(f"wrote {path}")
