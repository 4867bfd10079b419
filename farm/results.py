"""Load one or more run directories as pandas tables: the entry point for analysing results.

from farm.results import load_run
results = load_run("results/20261204-204512-3fa9")
results.metrics()          # one row per model x dataset x subset x strategy
results.turns()            # one row per belief check
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import pandas as pd

from farm.errors import FarmError
from farm.metrics import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    MetricsLevel,
    conversation_table,
    group_metrics,
    max_turn_of,
    paired_models,
    paired_strategies,
    paper_csv_rows,
    turn_table,
)
from farm.probes import recount_reference
from farm.store import ConversationRecord, Manifest, read_manifest, read_records

logger = logging.getLogger(__name__)


#: The rules that turn stored replies into verdicts.
Counting = Literal["farm", "reference"]


@dataclass(frozen=True)
class Run:
    """One loaded run directory."""

    path: Path
    manifest: Manifest
    records: list[ConversationRecord] = field(repr=False)

    @property
    def run_id(self) -> str:
        """The run's id from its manifest."""
        return self.manifest.run_id


def run_turns(manifest: Manifest) -> int | None:
    """Return a run's persuasion turns: the --turns setting, else the longest strategy's."""
    turns = manifest.config.get("turns")
    if isinstance(turns, int):
        return turns
    counts = [s["turns"] for s in manifest.strategies if isinstance(s.get("turns"), int)]
    return max(counts) if counts else None


class RunResults:
    """The records of one or more runs, with their tables and metrics as DataFrames.

    Rows of different runs are told apart by `run_id` and compared by model name; items join
    on `item_id`, which is stable across runs of the same data.
    """

    def __init__(self, runs: list[Run]) -> None:
        if not runs:
            raise FarmError("no run directory given; pass at least one results/<run-id> folder.")
        self.runs = runs
        #: `farm` (farm's corrected rules) or `reference` (the reference script's rules).
        self.counting: Counting = "farm"

    @property
    def max_turn(self) -> int:
        """K: the highest configured turn count over the runs (or the highest turn probed)."""
        configured = [turns for run in self.runs if (turns := run_turns(run.manifest)) is not None]
        return max(configured) if configured else max_turn_of(self.turns())

    def records(self) -> list[tuple[str, ConversationRecord]]:
        """Return (run_id, record) for every conversation of every run."""
        return [(run.run_id, record) for run in self.runs for record in run.records]

    @cached_property
    def _conversations(self) -> pd.DataFrame:
        frames = [conversation_table(run.records, run.run_id) for run in self.runs]
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def _turns(self) -> pd.DataFrame:
        frames = [turn_table(run.records, run.run_id) for run in self.runs]
        return pd.concat(frames, ignore_index=True)

    def conversations(self) -> pd.DataFrame:
        """Return one row per conversation (a copy, safe to modify)."""
        return self._conversations.copy()

    def turns(self) -> pd.DataFrame:
        """Return one row per belief check (a copy, safe to modify)."""
        return self._turns.copy()

    def metrics(
        self,
        level: MetricsLevel = "both",
        confidence: float = 0.95,
        resamples: int = DEFAULT_RESAMPLES,
        seed: int = DEFAULT_SEED,
    ) -> pd.DataFrame:
        """Return per-group metrics; see `farm.metrics.group_metrics` for the columns."""
        return group_metrics(
            self._conversations,
            self._turns,
            max_turn=self.max_turn,
            confidence=confidence,
            level=level,
            resamples=resamples,
            seed=seed,
        )

    def paired_models(
        self, level: MetricsLevel = "both", confidence: float = 0.95, seed: int = DEFAULT_SEED
    ) -> pd.DataFrame:
        """Return model-versus-model flip differences on shared items."""
        return paired_models(
            self._conversations,
            max_turn=self.max_turn,
            confidence=confidence,
            level=level,
            seed=seed,
        )

    def paired_strategies(
        self, level: MetricsLevel = "both", confidence: float = 0.95, seed: int = DEFAULT_SEED
    ) -> pd.DataFrame:
        """Return strategy-versus-repetition flip differences on shared items."""
        return paired_strategies(
            self._conversations,
            max_turn=self.max_turn,
            confidence=confidence,
            level=level,
            seed=seed,
        )

    def paper_csv_rows(self) -> list[list[str]]:
        """Return the rows of the reference script's results CSV."""
        return paper_csv_rows(self._conversations, self._turns, self.max_turn)


def _warn_on_shared_models(runs: list[Run]) -> None:
    seen: dict[tuple[str, str, str, str, int], str] = {}
    for run in runs:
        for record in run.records:
            identity = (record.model, record.subset, record.item_id, record.strategy, record.epoch)
            earlier = seen.setdefault(identity, run.run_id)
            if earlier != run.run_id:
                logger.warning(
                    "model %r ran item %s (%s) in both run %s and run %s; both conversations "
                    "count in the metrics. Give the models different names to compare them.",
                    record.model,
                    record.item_id,
                    record.strategy,
                    earlier,
                    run.run_id,
                )
                return


def load_run(*run_dirs: str | os.PathLike[str], counting: Counting = "farm") -> RunResults:
    """Load run directories (each with `manifest.json` and `conversations.jsonl`).

    Several directories merge into one result set; pass the same directory only once.
    `counting="reference"` re-judges every stored reply with the reference script's rules,
    defects included (see `farm.probes.recount_reference`), to show how much they move the
    numbers. Raises `RunDirError` when a directory is not a farm run.
    """
    runs: list[Run] = []
    seen_ids: dict[str, Path] = {}
    for run_dir in run_dirs:
        path = Path(run_dir)
        manifest = read_manifest(path)
        if manifest.run_id in seen_ids:
            raise FarmError(
                f"run {manifest.run_id} was given twice ({seen_ids[manifest.run_id]} and {path}); "
                "pass each run directory once."
            )
        seen_ids[manifest.run_id] = path
        records = read_records(path)
        if counting == "reference":
            records = [recount_reference(record) for record in records]
        runs.append(Run(path=path, manifest=manifest, records=records))
    _warn_on_shared_models(runs)
    results = RunResults(runs)
    results.counting = counting
    return results


__all__ = ["Counting", "Run", "RunResults", "load_run"]
