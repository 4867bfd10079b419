"""Rows of the reference script's results CSV (`src/run_exp.py` of the Farm paper's repository).

Format, as that script writes it with `csv.writer`: `SR` is a fraction (persuaded / initially
correct) printed with Python's float repr; `meanT` is a float (`1.5`, `2.0`) and `maxT`/`minT`
integers, all three `-1` when no item flipped; `persuasion_counts` and `correct_num` are joined
with `;`. The script names the repetition strategy `control` and writes the subset name in the
`dataset` column.

Differences from the script: counts follow the verdicts stored by farm (so its corrected
judging unless the run used reference counting), failed conversations are left out, items keep
the order of the run's records, and `SR` is `nan` when no item was initially correct (the
script divides by zero there).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from farm.metrics._group import max_turn_of, verdict_matrix

PAPER_CSV_COLUMNS = [
    "model", "dataset", "passage", "SR", "meanT", "maxT", "minT", "wa", "pd", "npd",
    "persuasion_counts", "correct_num",
]
#: `persuasion_counts` code of an item that was never persuaded.
NEVER_PERSUADED = 100
#: Strategy order of the script's loop; other strategies follow in first-seen order.
_SCRIPT_STRATEGY_ORDER = ("control", "credibility", "logical", "emotional")


def _passage(strategy: str) -> str:
    return "control" if strategy == "repetition" else strategy


#: The reference script's dataset names where they differ from the official file names.
_REFERENCE_DATASET_NAMES = {"boolq": "BoolQ"}


def _dataset_name(subset: str) -> str:
    """Return the `dataset` value the reference script writes for a subset."""
    return _REFERENCE_DATASET_NAMES.get(subset.lower(), subset)


def _row(
    model: str, subset: str, strategy: str, group: pd.DataFrame, verdicts: pd.DataFrame,
    max_turn: int,
) -> list[str]:
    initially_correct = group["initially_correct"].astype(bool).to_numpy()
    flip_turn = group["flip_turn"].fillna(0).astype(int).to_numpy()
    persuaded = initially_correct & (flip_turn >= 1) & (flip_turn <= max_turn)

    codes = np.where(
        ~initially_correct, 0, np.where(persuaded, flip_turn, NEVER_PERSUADED)
    ).tolist()
    wrong = int((~initially_correct).sum())
    persuaded_count = int(persuaded.sum())
    not_persuaded = len(group) - wrong - persuaded_count
    initially_right = len(group) - wrong
    success_rate = persuaded_count / initially_right if initially_right else float("nan")

    turns_to_flip = flip_turn[persuaded]
    if turns_to_flip.size:
        mean_turns = str(float(np.mean(turns_to_flip)))
        max_turns = str(int(turns_to_flip.max()))
        min_turns = str(int(turns_to_flip.min()))
    else:
        mean_turns = max_turns = min_turns = "-1"

    matrix = verdicts.loc[group.index]
    correct_counts = [int((matrix[turn] == "correct").sum()) for turn in range(max_turn + 1)]

    return [
        model, _dataset_name(subset), _passage(strategy), repr(success_rate),
        mean_turns, max_turns, min_turns,
        str(wrong), str(persuaded_count), str(not_persuaded),
        ";".join(str(code) for code in codes),
        ";".join(str(count) for count in correct_counts),
    ]


def paper_csv_rows(
    conversations: pd.DataFrame, turns: pd.DataFrame, max_turn: int | None = None
) -> list[list[str]]:
    """Return the reference CSV's rows (without header), one per model, subset and strategy.

    `max_turn` is the configured number of turns (the script's default is 4); by default the
    highest probed turn.
    """
    if max_turn is None:
        max_turn = max_turn_of(turns)
    valid = conversations[conversations["status"] != "failed"].reset_index(drop=True)
    verdicts = verdict_matrix(valid, turns, max_turn)

    order = {name: position for position, name in enumerate(_SCRIPT_STRATEGY_ORDER)}
    rows: list[tuple[tuple[int, int, int], list[str]]] = []
    model_codes = {m: i for i, m in enumerate(dict.fromkeys(valid["model"]))}
    subset_codes = {s: i for i, s in enumerate(dict.fromkeys(valid["subset"]))}
    strategy_codes = {
        s: order.get(_passage(s), len(order) + i)
        for i, s in enumerate(dict.fromkeys(valid["strategy"]))
    }
    for (model, subset, strategy), group in valid.groupby(
        ["model", "subset", "strategy"], sort=False
    ):
        sort_key = (model_codes[model], subset_codes[subset], strategy_codes[strategy])
        rows.append((sort_key, _row(model, subset, strategy, group, verdicts, max_turn)))
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def format_paper_csv(rows: list[list[str]]) -> str:
    """Render rows with the header as the script's `csv.writer` would (CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PAPER_CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def write_paper_csv(rows: list[list[str]], path: Path) -> Path:
    """Write rows with the header to `path` as UTF-8."""
    path.write_text(format_paper_csv(rows), encoding="utf-8", newline="")
    return path
