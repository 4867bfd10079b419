"""Tidy tables built from stored conversation records: one row per conversation or per probe."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from farm.store import ConversationRecord, ProbeResult

#: Columns that identify a conversation, in display order.
ID_COLUMNS = ["run_id", "model", "dataset", "subset", "strategy", "item_id", "epoch", "key"]

CONVERSATION_COLUMNS = [
    *ID_COLUMNS,
    "status",
    "initial_verdict",
    "initially_correct",
    "turns_run",
    "flip_turn",
    "flipped",
    "flip_chose_target",
    "flips_back",
    "final_verdict",
    "final_chose_target",
    "error_kind",
    "error_turn",
    "calls",
    "retries",
    "prompt_tokens",
    "completion_tokens",
    "duration_s",
    "started_at",
]

TURN_COLUMNS = [
    *ID_COLUMNS,
    "turn",
    "probe",
    "verdict",
    "option",
    "answer",
    "chose_target",
    "confidence",
    "attempts",
    "reply",
    "prompt_tokens",
    "completion_tokens",
    "latency_s",
]


def _implicit_probes(record: ConversationRecord) -> list[ProbeResult]:
    return [turn.probe for turn in record.turns if turn.probe is not None]


def _count_flips_back(record: ConversationRecord) -> int:
    """Count implicit probes that are correct again after the first flip."""
    if record.flip_turn is None:
        return 0
    return sum(
        1
        for probe in _implicit_probes(record)
        if probe.turn > record.flip_turn and probe.verdict == "correct"
    )


def _flip_chose_target(record: ConversationRecord) -> bool | None:
    if record.flip_turn is None:
        return None
    for probe in _implicit_probes(record):
        if probe.turn == record.flip_turn:
            return probe.chose_target
    return None


def _conversation_row(record: ConversationRecord, run_id: str) -> dict[str, Any]:
    initial = record.initial
    final = record.final
    return {
        "run_id": run_id,
        "model": record.model,
        "dataset": record.dataset,
        "subset": record.subset,
        "strategy": record.strategy,
        "item_id": record.item_id,
        "epoch": record.epoch,
        "key": record.key,
        "status": record.status,
        "initial_verdict": initial.verdict if initial is not None else None,
        "initially_correct": initial is not None and initial.verdict == "correct",
        "turns_run": len(record.turns),
        "flip_turn": record.flip_turn,
        "flipped": record.flip_turn is not None,
        "flip_chose_target": _flip_chose_target(record),
        "flips_back": _count_flips_back(record),
        "final_verdict": final.verdict if final is not None else None,
        "final_chose_target": final.chose_target if final is not None else None,
        "error_kind": record.error.kind if record.error is not None else None,
        "error_turn": record.error.turn if record.error is not None else None,
        "calls": record.calls,
        "retries": record.retries,
        "prompt_tokens": record.usage.prompt_tokens,
        "completion_tokens": record.usage.completion_tokens,
        "duration_s": record.duration_s,
        "started_at": record.started_at,
    }


def _probe_row(
    record: ConversationRecord, probe: ProbeResult, run_id: str
) -> dict[str, Any]:
    last = probe.attempts[-1] if probe.attempts else None
    prompt_tokens = [a.reply.usage.prompt_tokens for a in probe.attempts]
    completion_tokens = [a.reply.usage.completion_tokens for a in probe.attempts]
    return {
        "run_id": run_id,
        "model": record.model,
        "dataset": record.dataset,
        "subset": record.subset,
        "strategy": record.strategy,
        "item_id": record.item_id,
        "epoch": record.epoch,
        "key": record.key,
        "turn": probe.turn,
        "probe": probe.kind,
        "verdict": probe.verdict,
        "option": last.parsed.option if last is not None else None,
        "answer": last.parsed.answer if last is not None else None,
        "chose_target": probe.chose_target,
        "confidence": probe.confidence,
        "attempts": len(probe.attempts),
        "reply": last.reply.text if last is not None else None,
        # A sum over attempts is unknown as soon as one attempt did not report its count.
        "prompt_tokens": None if None in prompt_tokens else sum(t or 0 for t in prompt_tokens),
        "completion_tokens": (
            None if None in completion_tokens else sum(t or 0 for t in completion_tokens)
        ),
        "latency_s": sum(a.reply.latency_s for a in probe.attempts),
    }


def _typed(frame: pd.DataFrame, integers: list[str], booleans: list[str]) -> pd.DataFrame:
    # Nullable dtypes keep "not applicable" apart from 0 / False.
    for column in integers:
        frame[column] = frame[column].astype("Int64")
    for column in booleans:
        frame[column] = frame[column].astype("boolean")
    return frame


def conversation_table(
    records: Iterable[ConversationRecord], run_id: str = ""
) -> pd.DataFrame:
    """Build one row per conversation: ids, status, initial/final verdicts, flip and cost.

    `flips_back` counts implicit probes that are correct after the first flip (non-zero only
    when the run continued after flips). `run_id` identifies the run of each row.
    """
    rows = [_conversation_row(record, run_id) for record in records]
    frame = pd.DataFrame(rows, columns=CONVERSATION_COLUMNS)
    return _typed(
        frame,
        integers=["epoch", "turns_run", "flip_turn", "flips_back", "error_turn", "calls",
                  "retries", "prompt_tokens", "completion_tokens"],
        booleans=["initially_correct", "flipped", "flip_chose_target", "final_chose_target"],
    )


def turn_table(records: Iterable[ConversationRecord], run_id: str = "") -> pd.DataFrame:
    """Build one row per belief check: the initial check (turn 0), each implicit check and the
    final check, with the verdict, the option chosen, tokens and latency summed over re-asks.
    """
    rows: list[dict[str, Any]] = []
    for record in records:
        probes: list[ProbeResult] = []
        if record.initial is not None:
            probes.append(record.initial)
        probes.extend(_implicit_probes(record))
        if record.final is not None:
            probes.append(record.final)
        rows.extend(_probe_row(record, probe, run_id) for probe in probes)
    frame = pd.DataFrame(rows, columns=TURN_COLUMNS)
    return _typed(
        frame,
        integers=["epoch", "turn", "option", "attempts", "prompt_tokens", "completion_tokens"],
        booleans=["chose_target"],
    )
