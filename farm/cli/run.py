"""`farm run`: run the Farm protocol and write a resumable run record."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import typer

from farm.cli import app
from farm.cli._console import console, err_console, print_warning
from farm.engine import RunConfig, Runner, default_run_dir, prepare_config_for_resume
from farm.engine._progress import RunCounters
from farm.errors import ConfigError


@app.command("run")
def run_command(
    model: list[str] | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model to evaluate (repeatable): local, llamacpp:PATH, openai:MODEL, "
        "openai:MODEL@BASE_URL, anthropic:MODEL, scripted:PATH, or a name from farm.toml. "
        "Default: local.",
    ),
    dataset: list[str] | None = typer.Option(
        None,
        "--dataset",
        "-d",
        help="Dataset (repeatable): sample, farm, farm/NQ2, or a file path. Default: sample.",
    ),
    strategy: list[str] | None = typer.Option(
        None,
        "--strategy",
        "-s",
        help="Strategy name, alias or TOML path (repeatable). Default: every strategy found.",
    ),
    limit: int | None = typer.Option(
        None, min=1, help="Use only the first N items of each subset."
    ),
    turns: int | None = typer.Option(
        None, min=1, help="Persuasion turns per conversation. Default: the strategy's count (4)."
    ),
    epochs: int | None = typer.Option(
        None, min=1, help="Independent repeats of every conversation. Default: 1."
    ),
    seed: int | None = typer.Option(
        None, help="Base sampling seed sent to backends that accept one. Default: 0."
    ),
    probe_temperature: float | None = typer.Option(
        None, min=0.0, help="Sampling temperature of belief probes. Default: 0.2."
    ),
    reply_temperature: float | None = typer.Option(
        None, min=0.0, help="Sampling temperature of free replies. Default: 0.8."
    ),
    top_p: float | None = typer.Option(
        None, min=0.0, max=1.0, help="Nucleus sampling mass. Default: not sent."
    ),
    max_tokens: int | None = typer.Option(
        None, min=1, help="Maximum new tokens per reply. Default: 512."
    ),
    system_message: str | None = typer.Option(
        None, help="System message that opens every conversation. Default: 'start chat'."
    ),
    reasks: int | None = typer.Option(
        None, min=0, help="Re-asks of a probe whose answer has no legal form. Default: 3."
    ),
    continue_after_flip: bool | None = typer.Option(
        None,
        "--continue-after-flip/--stop-at-flip",
        help="Run every turn after the first flip, to see flips back. Default: stop at the flip.",
    ),
    final_check: bool | None = typer.Option(
        None,
        "--final-check/--no-final-check",
        help="Ask an explicit belief check after the last turn. Default: on.",
    ),
    confidence: bool | None = typer.Option(
        None,
        "--confidence/--no-confidence",
        help="Ask for a 0-100 confidence after each probe. Default: off.",
    ),
    shuffle_options: int | None = typer.Option(
        None,
        "--shuffle-options",
        metavar="SEED",
        help="Shuffle multiple-choice options with this seed, against position bias.",
    ),
    paper_compat: bool | None = typer.Option(
        None,
        "--paper-compat/--no-paper-compat",
        help="Send exactly the reference script's requests (raw joins, per-strategy initial "
        "check, no final check).",
    ),
    skip_invalid: bool | None = typer.Option(
        None, "--skip-invalid", help="Skip unreadable dataset lines and count them."
    ),
    strategies_dir: list[Path] | None = typer.Option(
        None, "--strategies-dir", help="Extra folder of strategy files (repeatable)."
    ),
    max_concurrency: int | None = typer.Option(
        None, min=1, help="Conversations in flight per model. Default: the model's setting."
    ),
    output: Path = typer.Option(
        Path("results"), "--output", "-o", help="Folder that receives the run folder."
    ),
    resume: Path | None = typer.Option(
        None, help="Continue the run in this folder; finished conversations are kept."
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="With --resume, run failed conversations again."
    ),
    no_cache: bool = typer.Option(
        False,
        "--no-cache",
        help="Do not read or write the response cache (resume then repeats calls).",
    ),
    cache_path: Path | None = typer.Option(
        None, help="Response cache file. Default: the user cache folder, or $FARM_HOME."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="TOML file with [models.NAME] tables. Default: ./farm.toml."
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html at the end."),
) -> None:
    """Run persuasion conversations and track each model's belief after every turn."""
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"config file {config} not found.")
        os.environ["FARM_CONFIG"] = str(config)

    options: dict[str, Any] = {
        "models": model or None,
        "datasets": dataset or None,
        "strategies": strategy or None,
        "limit": limit,
        "turns": turns,
        "epochs": epochs,
        "seed": seed,
        "probe_temperature": probe_temperature,
        "reply_temperature": reply_temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "system_message": system_message,
        "reasks": reasks,
        "continue_after_flip": continue_after_flip,
        "final_check": final_check,
        "confidence": confidence,
        "shuffle_options": shuffle_options,
        "paper_compat": paper_compat,
        "skip_invalid": skip_invalid,
        "strategy_dirs": [str(path) for path in strategies_dir] if strategies_dir else None,
        "max_concurrency": max_concurrency,
    }
    if resume is not None:
        run_config = prepare_config_for_resume(resume, options)
        run_config = run_config.model_copy(update={"retry_failed": retry_failed})
        run_dir = resume
    else:
        if retry_failed:
            raise ConfigError("--retry-failed only works with --resume RUN_DIR.")
        given = {key: value for key, value in options.items() if value is not None}
        if given.get("paper_compat") and "seed" not in given:
            given["seed"] = None  # the reference script sends no seed
        run_config = RunConfig.model_validate(given)
        run_dir = default_run_dir(output)

    cache = None
    if not no_cache:
        from farm.backends import ResponseCache, default_cache_path

        cache = ResponseCache(cache_path or default_cache_path())

    runner = Runner(
        run_config,
        run_dir=run_dir,
        cache=cache,
        console=err_console,
        progress=sys.stderr.isatty(),
    )
    try:
        outcome = asyncio.run(runner.run())
    except KeyboardInterrupt:
        _print_interrupted(run_dir, runner.counters)
        raise typer.Exit(130) from None
    if outcome.interrupted:
        _print_interrupted(run_dir, runner.counters)
        raise typer.Exit(130)

    _print_summary(run_dir, runner.counters)
    if report:
        _write_report(run_dir)
    if runner.counters.failed:
        err_console.print(
            f"{runner.counters.failed} conversations failed; their errors are in the records. "
            f"Run them again with: farm run --resume {shlex.quote(str(run_dir))} --retry-failed"
        )
        raise typer.Exit(1)


def _print_interrupted(run_dir: Path, counters: RunCounters) -> None:
    err_console.print(
        f"Interrupted after {counters.done} of {counters.total - counters.skipped} conversations; "
        f"finished ones are saved in {run_dir}."
    )
    err_console.print(f"Resume with: farm run --resume {shlex.quote(str(run_dir))}")


def _print_summary(run_dir: Path, counters: RunCounters) -> None:
    console.print(
        f"Ran {counters.done} conversations ({counters.skipped} already done): "
        f"{counters.initially_correct} correct at turn 0 (so persuaded), "
        f"{counters.flips} flipped, {counters.failed} failed; {counters.calls} model calls, "
        f"{counters.retries} retries."
    )
    if counters.done and not counters.initially_correct:
        print_warning(
            "no conversation started correct, so no persuasion turn ran; the model may be "
            "too weak for these items, or the probe answers could not be parsed."
        )
    console.print(f"Results: {run_dir}")


def _write_report(run_dir: Path) -> None:
    try:
        from farm.report import build_report
    except ModuleNotFoundError as error:
        if error.name != "matplotlib":
            raise
        print_warning(
            "no report written: matplotlib is not installed. Install the report extra "
            f"(pip install -e '.[report]'), then run: farm report {shlex.quote(str(run_dir))}"
        )
        return
    path = build_report([run_dir], run_dir / "report.html")
    console.print(f"Report: {path}")
