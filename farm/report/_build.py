"""Build the self-contained HTML report of one or more runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from farm._version import __version__
from farm.metrics import POOLED, group_metrics
from farm.report import _charts
from farm.report._format import number, percent, points
from farm.report._transcripts import transcript_payload
from farm.results import Counting, RunResults, load_run, run_turns

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _TableRow:
    cells: list[str]
    pooled: bool


def _static(name: str) -> Markup:
    # Our own CSS and JavaScript, inlined verbatim; they contain no data.
    text = (resources.files("farm.report") / "templates" / name).read_text(encoding="utf-8")
    return Markup(text)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("farm.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _run_summaries(results: RunResults) -> list[dict[str, Any]]:
    summaries = []
    for run in results.runs:
        config = run.manifest.config
        failed = sum(1 for record in run.records if record.status == "failed")
        summaries.append(
            {
                "run_id": run.run_id,
                "path": str(run.path),
                "farm_version": run.manifest.farm_version,
                "started_at": f"{run.manifest.started_at:%Y-%m-%d %H:%M} UTC",
                "finished_at": (
                    f"{run.manifest.finished_at:%Y-%m-%d %H:%M} UTC"
                    if run.manifest.finished_at is not None
                    else "not finished"
                ),
                "sessions": run.manifest.sessions,
                "turns": run_turns(run.manifest) or "n/a",
                "seed": config.get("seed", "n/a"),
                "paper_compat": "yes" if config.get("paper_compat") else "no",
                "continue_after_flip": "yes" if config.get("continue_after_flip") else "no",
                "conversations": len(run.records),
                "failed": failed,
            }
        )
    return summaries


def _metric_rows(metrics: pd.DataFrame, max_turn: int) -> list[_TableRow]:
    rows = []
    for row in metrics.to_dict("records"):
        mr_first = percent(row.get("mr@1"), row.get("mr@1_low"), row.get("mr@1_high"))
        last = f"mr@{max_turn}"
        rows.append(
            _TableRow(
                cells=[
                    row["model"],
                    "all subsets" if row["subset"] == POOLED else row["subset"],
                    row["strategy"],
                    str(row["n"]),
                    str(row["n_0"]),
                    str(row["failed"]),
                    percent(row["acc@0"], row["acc@0_low"], row["acc@0_high"]),
                    mr_first if max_turn >= 1 else "n/a",
                    percent(row.get(last), row.get(f"{last}_low"), row.get(f"{last}_high"))
                    if max_turn >= 1
                    else "n/a",
                    number(
                        row["mean_flip_turn"], row["mean_flip_turn_low"], row["mean_flip_turn_high"]
                    ),
                    percent(row["chose_target_rate"]),
                ],
                pooled=row["subset"] == POOLED,
            )
        )
    return rows


def _paired_rows(paired: pd.DataFrame, id_columns: list[str]) -> list[_TableRow]:
    rows = []
    for row in paired.to_dict("records"):
        rows.append(
            _TableRow(
                cells=[
                    "all subsets" if row["subset"] == POOLED else row["subset"],
                    *(str(row[column]) for column in id_columns),
                    str(row["items"]),
                    percent(row["flip_rate_a"]),
                    percent(row["flip_rate_b"]),
                    points(row["difference"], row["difference_low"], row["difference_high"]),
                ],
                pooled=row["subset"] == POOLED,
            )
        )
    return rows


def _has_several_subsets(metrics: pd.DataFrame) -> bool:
    return metrics.loc[metrics["subset"] != POOLED, "subset"].nunique() > 1


def _drop_redundant_pooled(frame: pd.DataFrame, several_subsets: bool) -> pd.DataFrame:
    # With one subset, the pooled rows repeat the subset rows.
    return frame if several_subsets else frame[frame["subset"] != POOLED]


def _charts_for(
    results: RunResults,
    metrics: pd.DataFrame,
    paired: pd.DataFrame,
    confidence: float,
    figures_dir: Path | None,
) -> list[_charts.Chart]:
    conversations = results.conversations()
    turns = results.turns()
    max_turn = results.max_turn
    over_strategies = group_metrics(
        conversations.assign(strategy=POOLED), turns, max_turn=max_turn, confidence=confidence
    )
    overall = group_metrics(
        conversations.assign(strategy=POOLED),
        turns,
        max_turn=max_turn,
        confidence=confidence,
        level="pooled",
    )
    charts = [
        _charts.turn_curves(over_strategies, max_turn, figures_dir),
        _charts.strategy_bars(metrics, max_turn, figures_dir),
    ]
    forest = _charts.paired_forest(paired, figures_dir)
    if forest is not None:
        charts.append(forest)
    charts.append(_charts.probe_failure_rates(overall, max_turn, figures_dir))
    return charts


def render_report(
    results: RunResults, confidence: float = 0.95, figures_dir: Path | None = None
) -> str:
    """Render the report of loaded results as one HTML document."""
    max_turn = results.max_turn
    metrics = results.metrics(confidence=confidence)
    several = _has_several_subsets(metrics)
    metrics = _drop_redundant_pooled(metrics, several)
    paired_strategies = _drop_redundant_pooled(
        results.paired_strategies(confidence=confidence), several
    )
    paired_models = _drop_redundant_pooled(results.paired_models(confidence=confidence), several)

    if metrics.empty:
        charts: list[_charts.Chart] = []
    else:
        charts = _charts_for(results, metrics, paired_strategies, confidence, figures_dir)
    payload = transcript_payload(results.records())

    conversations = results.conversations()
    template = _environment().get_template("report.html.j2")
    return template.render(
        title="farm report: " + ", ".join(run.run_id for run in results.runs),
        counting=results.counting,
        generated_at=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        farm_version=__version__,
        confidence_percent=f"{confidence * 100:g}",
        max_turn=max_turn,
        runs=_run_summaries(results),
        models=list(dict.fromkeys(conversations["model"])),
        datasets=list(dict.fromkeys(conversations["dataset"])),
        subsets=list(dict.fromkeys(conversations["subset"])),
        strategies=list(dict.fromkeys(conversations["strategy"])),
        conversation_count=len(conversations),
        failed_count=int((conversations["status"] == "failed").sum()),
        metric_rows=_metric_rows(metrics, max_turn),
        strategy_rows=_paired_rows(paired_strategies, ["model", "strategy", "baseline"]),
        model_rows=_paired_rows(paired_models, ["strategy", "model_a", "model_b"]),
        charts=[(chart.title, Markup(chart.svg)) for chart in charts],
        index_data=payload.index,
        chunks=payload.chunks,
        style=_static("report.css"),
        script=_static("report.js"),
    )


def build_report(
    run_dirs: list[Path],
    output: Path,
    figures_dir: Path | None = None,
    confidence: float = 0.95,
    counting: Counting = "farm",
) -> Path:
    """Write the HTML report of `run_dirs` to `output` and return `output`.

    The file needs no network: styles, scripts, figures (inline SVG) and transcripts are
    embedded. `figures_dir` also receives every figure as SVG, PDF and PNG.
    """
    results = load_run(*run_dirs, counting=counting)
    html = render_report(results, confidence=confidence, figures_dir=figures_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    logger.info("wrote report %s (%d bytes)", output, len(html.encode("utf-8")))
    return output
