"""`farm report`: build the self-contained HTML report of one or more runs."""

from __future__ import annotations

from pathlib import Path

import typer

from farm.cli import app
from farm.errors import ConfigError


@app.command("report")
def report_command(
    run_dirs: list[Path] = typer.Argument(
        ...,
        help="Run directories (results/<run-id>); several are compared side by side.",
        show_default=False,
    ),
    output: Path = typer.Option(
        Path("report.html"), "--output", "-o", help="HTML file to write."
    ),
    figures: Path | None = typer.Option(
        None, "--figures", help="Also write every figure as SVG, PDF and PNG into this directory."
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
    """Write one HTML file with metrics, figures and a transcript browser; it opens offline."""
    from farm.report import build_report

    if counting not in ("farm", "reference"):
        raise ConfigError(f"invalid --counting {counting!r}; use farm or reference.")
    path = build_report(
        run_dirs,
        output,
        figures_dir=figures,
        confidence=confidence,
        counting=counting,  # type: ignore[arg-type]
    )
    typer.echo(f"wrote {path}")
