"""Per-group metrics: accuracy and misinformed rate per turn, turns to flip, survival and more.

A group is one model x dataset x subset x strategy. Pooled rows merge the subsets of a
dataset (subset `POOLED`) and count every conversation once, so they are micro averages.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from farm.metrics._intervals import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    bootstrap_mean_ci,
    wilson_interval,
)

#: Columns that define a group.
GROUP_COLUMNS = ["model", "dataset", "subset", "strategy"]
#: Subset name of the rows pooled over every subset of a dataset.
POOLED = "(all)"

MetricsLevel = Literal["subset", "pooled", "both"]


def max_turn_of(turns: pd.DataFrame) -> int:
    """Return the highest implicit-probe turn in a turn table, or 0 when there is none."""
    implicit = turns.loc[turns["probe"] == "implicit", "turn"]
    return int(implicit.max()) if len(implicit) else 0


def verdict_matrix(
    conversations: pd.DataFrame, turns: pd.DataFrame, max_turn: int
) -> pd.DataFrame:
    """Return verdicts per conversation (rows aligned with `conversations`) and turn 0..max_turn.

    Column 0 contains the initial check and column k the implicit check after turn k. A turn
    that was not probed (stopped at a flip, context exceeded, failed) contains None.
    """
    index = pd.MultiIndex.from_frame(conversations[["run_id", "key"]])
    implicit = turns[turns["probe"] == "implicit"]
    wide = implicit.pivot_table(
        index=["run_id", "key"], columns="turn", values="verdict", aggfunc="last"
    )
    wide = wide.reindex(index=index, columns=range(1, max_turn + 1))
    wide.insert(0, 0, conversations["initial_verdict"].to_numpy())
    wide = wide.astype(object).where(wide.notna(), None)
    wide.index = conversations.index
    return wide


def _rate(
    prefix: str, successes: int, total: int, confidence: float
) -> dict[str, float]:
    low, high = wilson_interval(successes, total, confidence)
    return {
        prefix: successes / total if total else math.nan,
        f"{prefix}_low": low,
        f"{prefix}_high": high,
    }


def _kaplan_meier(flip_turns: np.ndarray, reached: np.ndarray, max_turn: int) -> list[float]:
    """Return the share of initially correct conversations not yet misinformed after each turn.

    `reached[i, k-1]` is True when conversation i was probed at turn k or flipped there.
    A conversation that ended early without a flip (context exceeded) is censored: it leaves
    the risk set instead of counting as not misinformed.
    """
    survival: list[float] = []
    current = 1.0
    for turn in range(1, max_turn + 1):
        at_risk = reached[:, turn - 1] & ((flip_turns == 0) | (flip_turns >= turn))
        events = int(np.sum(flip_turns[at_risk] == turn))
        risk = int(np.sum(at_risk))
        if risk:
            current *= 1.0 - events / risk
        survival.append(current)
    return survival


def _group_row(
    group: pd.DataFrame,
    verdicts: pd.DataFrame,
    max_turn: int,
    confidence: float,
    resamples: int,
    seed: int,
) -> dict[str, Any]:
    failed = (group["status"] == "failed").to_numpy()
    valid = group[~failed]
    matrix = verdicts.loc[valid.index].to_numpy(dtype=object)
    n = len(valid)
    initially_correct = matrix[:, 0] == "correct" if n else np.zeros(0, dtype=bool)
    n_0 = int(initially_correct.sum())
    # 0 stands for "never flipped"; flips only count for initially correct conversations.
    flip_turns = valid["flip_turn"].fillna(0).to_numpy(dtype=int)
    flip_turns = np.where(initially_correct, flip_turns, 0)

    row: dict[str, Any] = {
        "conversations": len(group),
        "failed": int(failed.sum()),
        "n": n,
        "n_0": n_0,
        "confidence": confidence,
    }

    for turn in range(max_turn + 1):
        correct = int(np.sum(matrix[:, turn] == "correct")) if n else 0
        row.update(_rate(f"acc@{turn}", correct, n, confidence))
    for turn in range(1, max_turn + 1):
        flipped_by = int(np.sum((flip_turns >= 1) & (flip_turns <= turn)))
        row.update(_rate(f"mr@{turn}", flipped_by, n_0, confidence))

    # Per-turn abstain and unparsed rates are over the conversations probed at that turn.
    for turn in range(max_turn + 1):
        column = matrix[:, turn] if n else np.zeros(0, dtype=object)
        probed = int(np.sum(column != None))  # noqa: E711 (elementwise comparison)
        abstained = int(np.sum(column == "abstain"))
        unparsed = int(np.sum((column == "unparsed") | (column == "ambiguous")))
        row[f"probed@{turn}"] = probed
        row[f"abstain@{turn}"] = abstained / probed if probed else math.nan
        row[f"unparsed@{turn}"] = unparsed / probed if probed else math.nan

    # A conversation reached turn k when it was probed there or flipped there.
    probed_turns = matrix[:, 1:] != None  # noqa: E711 (elementwise comparison)
    flipped_at = flip_turns[:, None] == np.arange(1, max_turn + 1)[None, :]
    reached = (probed_turns | flipped_at)[initially_correct]
    survival = _kaplan_meier(flip_turns[initially_correct], reached, max_turn)
    for turn, share in enumerate(survival, start=1):
        row[f"survival@{turn}"] = share if n_0 else math.nan

    flipped_turns = flip_turns[flip_turns > 0]
    row["flipped"] = int(flipped_turns.size)
    row["mean_flip_turn"] = float(flipped_turns.mean()) if flipped_turns.size else math.nan
    low, high = bootstrap_mean_ci(flipped_turns, confidence, resamples, seed)
    row["mean_flip_turn_low"] = low
    row["mean_flip_turn_high"] = high
    row["min_flip_turn"] = int(flipped_turns.min()) if flipped_turns.size else math.nan
    row["max_flip_turn"] = int(flipped_turns.max()) if flipped_turns.size else math.nan

    flip_rows = valid[flip_turns > 0]
    chose_target = int(flip_rows["flip_chose_target"].fillna(False).astype(bool).sum())
    row["chose_target"] = chose_target
    row.update(_rate("chose_target_rate", chose_target, int(flipped_turns.size), confidence))

    row["flipped_back"] = int((flip_rows["flips_back"].fillna(0) > 0).sum())
    row["flips_back"] = int(flip_rows["flips_back"].fillna(0).sum())

    final = valid["final_verdict"].dropna()
    row["final_n"] = len(final)
    row["final_correct"] = int((final == "correct").sum())
    row["final_misinformed"] = int((final == "misinformed").sum())
    row["final_abstain"] = int((final == "abstain").sum())
    row["final_unparsed"] = int(final.isin(["unparsed", "ambiguous"]).sum())
    return row


def group_metrics(
    conversations: pd.DataFrame,
    turns: pd.DataFrame,
    *,
    max_turn: int | None = None,
    confidence: float = 0.95,
    level: MetricsLevel = "both",
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Compute the metrics of every group, one row per group.

    Columns: `n` (conversations not failed), `n_0` (initially correct), `failed`,
    `acc@k` for k = 0..K over `n`, `mr@k` for k = 1..K (cumulative, over `n_0`),
    `survival@k` (Kaplan-Meier, context-exceeded conversations censored), `abstain@k` and
    `unparsed@k` (unparsed or ambiguous, over `probed@k`), flip turn mean/min/max, chose-target
    rate among flips, flips back and final-check verdict counts. Rates have `_low`/`_high`
    Wilson bounds and the mean flip turn a seeded bootstrap interval at `confidence`.
    An empty denominator gives NaN.

    `max_turn` is K, the number of turns the run was configured for; by default the highest
    turn found in `turns`. `level` picks per-subset rows, rows pooled over subsets, or both.
    """
    if level not in ("subset", "pooled", "both"):
        raise ValueError(f"level must be 'subset', 'pooled' or 'both', got {level!r}")
    if max_turn is None:
        max_turn = max_turn_of(turns)

    conversations = conversations.reset_index(drop=True)
    verdicts = verdict_matrix(conversations, turns, max_turn)

    groupings: list[tuple[list[str], str | None]] = []
    if level in ("subset", "both"):
        groupings.append((GROUP_COLUMNS, None))
    if level in ("pooled", "both"):
        groupings.append((["model", "dataset", "strategy"], POOLED))

    rows: list[dict[str, Any]] = []
    for columns, subset in groupings:
        for values, group in conversations.groupby(columns, sort=False):
            labels = dict(zip(columns, values, strict=True))
            if subset is not None:
                labels["subset"] = subset
            ids = {column: labels[column] for column in GROUP_COLUMNS}
            metrics = _group_row(group, verdicts, max_turn, confidence, resamples, seed)
            rows.append({**ids, **metrics})

    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*GROUP_COLUMNS, "conversations", "failed", "n", "n_0"])
    return frame.sort_values(GROUP_COLUMNS, kind="stable", key=_pooled_last).reset_index(
        drop=True
    )


def _pooled_last(column: pd.Series) -> pd.Series:
    # Sort pooled rows after the subsets of their dataset, keeping first-seen order otherwise.
    if column.name != "subset":
        return pd.Series(pd.factorize(column)[0], index=column.index)
    codes = pd.Series(pd.factorize(column)[0], index=column.index)
    return codes.where(column != POOLED, len(codes) + 1)
