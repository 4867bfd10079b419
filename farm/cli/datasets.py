"""`farm datasets` commands: list, validate, download and convert datasets."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from farm.cli import app
from farm.cli._console import console, err_console
from farm.datasets import (
    FARM_BASE_URL,
    FARM_FILES,
    SAMPLE_NAME,
    Dataset,
    data_files,
    download_farm,
    farm_data_dir,
    load_dataset,
    sample_dataset_path,
    user_datasets_dir,
    validate_paths,
    write_dataset,
)
from farm.datasets._load import DATA_SUFFIXES
from farm.errors import ConfigError, FarmError

datasets_app = typer.Typer(
    help="List, validate, download and convert datasets.", no_args_is_help=True
)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("validate")
def validate_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Dataset files or directories, or specs such as sample, farm or farm/NQ2."
        ),
    ],
) -> None:
    """Check dataset files and list every error and warning; exit 1 if there is an error."""
    issues = validate_paths(paths)
    errors = sum(1 for issue in issues if issue.severity == "error")
    warnings = len(issues) - errors

    # One line per issue, in the `file:line:` form of compilers, so that paths are never
    # cut short and editors can jump to the line.
    for issue in issues:
        place = issue.file if issue.line is None else f"{issue.file}:{issue.line}"
        style = "bold red" if issue.severity == "error" else "yellow"
        field = f"`{issue.field}`: " if issue.field else ""
        console.print(
            f"{escape(place)}: [{style}]{issue.severity}[/]: {escape(field + issue.message)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"{errors} errors, {warnings} warnings in {len(paths)} path(s)",
        highlight=False,
        soft_wrap=True,
    )
    if errors:
        raise typer.Exit(code=1)


@datasets_app.command("download")
def download_command(
    name: Annotated[str, typer.Argument(help="Dataset to download; `farm` is the only one.")],
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest", help="Directory to install the files into. Default: farm's data dir."
        ),
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", help="URL of the folder that holds the four files.")
    ] = FARM_BASE_URL,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even if the files are installed.")
    ] = False,
) -> None:
    """Download the official Farm dataset, check each file's sha256 and install it."""
    if name.lower() != "farm":
        raise ConfigError(f"unknown downloadable dataset {name!r}; the only one is `farm`")

    def report(file_name: str) -> None:
        err_console.print(f"verified {escape(file_name)}", highlight=False)

    directory = download_farm(dest, base_url=base_url, force=force, report=report)
    console.print(
        f"Farm dataset installed in {escape(str(directory))}", highlight=False, soft_wrap=True
    )


def _subset_counts(dataset: Dataset) -> list[tuple[str, int]]:
    counts = Counter(item.subset for item in dataset.items)
    return [(subset, counts[subset]) for subset in dataset.subsets]


def _add_rows(table: Table, name: str, kind: str, location: Path, spec: str) -> None:
    try:
        dataset = load_dataset(spec)
    except FarmError as error:
        table.add_row(name, kind, "", "", f"[red]invalid:[/] {escape(str(error))}")
        return
    for subset, count in _subset_counts(dataset):
        label = f"{name}/{subset}" if subset != name else name
        table.add_row(label, kind, str(count), str(len(dataset.warnings)), escape(str(location)))


@datasets_app.command("list")
def list_command() -> None:
    """List the bundled, downloaded and user datasets with item counts per subset."""
    table = Table("dataset", "kind", "items", "warnings", "location")

    # Loading logs a summary warning per dataset; the table has a warnings column instead.
    dataset_logger = logging.getLogger("farm.datasets")
    previous_level = dataset_logger.level
    dataset_logger.setLevel(logging.ERROR)
    try:
        sample = sample_dataset_path()
        if sample.is_file():
            _add_rows(table, SAMPLE_NAME, "bundled", sample, SAMPLE_NAME)

        farm_dir = farm_data_dir()
        if all((farm_dir / entry[0]).is_file() for entry in FARM_FILES.values()):
            _add_rows(table, "farm", "downloaded", farm_dir, "farm")
        else:
            table.add_row("farm", "not downloaded", "", "", "run `farm datasets download farm`")

        user_dir = user_datasets_dir()
        if user_dir.is_dir():
            for path in sorted(user_dir.iterdir()):
                is_data = path.is_file() and path.suffix.lower() in DATA_SUFFIXES
                if path.resolve() == sample.resolve() or not (is_data or path.is_dir()):
                    continue
                if path.is_dir() and not data_files(path):
                    continue
                name = path.stem if path.is_file() else path.name
                _add_rows(table, name, "user", path, str(path))
    finally:
        dataset_logger.setLevel(previous_level)
    console.print(table)


@datasets_app.command("convert")
def convert_command(
    spec: Annotated[str, typer.Argument(help="Dataset to read: a spec, file or directory.")],
    dest: Annotated[Path, typer.Argument(help="File to write: .jsonl, .csv or .parquet.")],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Skip records with errors instead of stopping."),
    ] = False,
) -> None:
    """Write a dataset (for example the Farm files) in farm's own format."""
    dataset = load_dataset(spec, skip_invalid=skip_invalid)
    write_dataset(dataset.items, dest)
    console.print(
        f"wrote {len(dataset.items)} items to {escape(str(dest))}"
        + (f" ({dataset.skipped} invalid records skipped)" if dataset.skipped else ""),
        highlight=False,
        soft_wrap=True,
    )
