"""Metrics of a run: tidy tables, per-group rates with intervals, paired comparisons and the
reference script's CSV."""

from farm.metrics._group import (
    GROUP_COLUMNS,
    POOLED,
    MetricsLevel,
    group_metrics,
    max_turn_of,
    verdict_matrix,
)
from farm.metrics._intervals import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    bootstrap_mean_ci,
    wilson_interval,
)
from farm.metrics._paired import (
    BASELINE_STRATEGIES,
    item_flips,
    paired_models,
    paired_strategies,
)
from farm.metrics._paper_csv import (
    PAPER_CSV_COLUMNS,
    format_paper_csv,
    paper_csv_rows,
    write_paper_csv,
)
from farm.metrics._tables import (
    CONVERSATION_COLUMNS,
    TURN_COLUMNS,
    conversation_table,
    turn_table,
)

__all__ = [
    "BASELINE_STRATEGIES",
    "CONVERSATION_COLUMNS",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "GROUP_COLUMNS",
    "PAPER_CSV_COLUMNS",
    "POOLED",
    "TURN_COLUMNS",
    "MetricsLevel",
    "bootstrap_mean_ci",
    "conversation_table",
    "format_paper_csv",
    "group_metrics",
    "item_flips",
    "max_turn_of",
    "paired_models",
    "paired_strategies",
    "paper_csv_rows",
    "turn_table",
    "verdict_matrix",
    "wilson_interval",
    "write_paper_csv",
]
