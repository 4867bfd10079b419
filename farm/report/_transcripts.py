"""The transcript browser's data: a small index for filtering and compressed transcript chunks.

Both are JSON, gzip-compressed and base64-encoded. Base64 text cannot contain `<`, `&` or
line separators, so it cannot end the `<script>` element that contains it, whatever the
dataset or the model wrote. The browser inflates the index at load time and a chunk only when
one of its conversations is opened.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from farm.probes._prompts import YES_NO_TEMPLATE
from farm.store import ConversationRecord, ProbeResult

#: Conversations per compressed chunk: small enough to inflate in a few milliseconds.
CHUNK_SIZE = 200
#: Characters of the question shown in the list.
QUESTION_PREVIEW = 140
OUTCOMES = ("flipped", "held", "initially_wrong", "failed")


@dataclass(frozen=True)
class TranscriptPayload:
    """Base64 text of the compressed index and of each transcript chunk."""

    index: str
    chunks: list[str]
    conversations: int


def outcome_of(record: ConversationRecord) -> str:
    """Classify a conversation as flipped, held, initially wrong or failed."""
    if record.status == "failed":
        return "failed"
    if record.initial is None or record.initial.verdict != "correct":
        return "initially_wrong"
    return "flipped" if record.flip_turn is not None else "held"


def _encode(value: Any) -> str:
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # mtime=0 makes the output reproducible.
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


YES_NO_INSTRUCTION = YES_NO_TEMPLATE.split("{question}", 1)[1]


def _question(record: ConversationRecord) -> str:
    prompt = record.initial.prompt if record.initial is not None else ""
    first_line = prompt.split("\n", 1)[0].removeprefix("Question: ")
    # Yes/no probes carry their instruction on the question's line.
    first_line = first_line.split(YES_NO_INSTRUCTION, 1)[0]
    if len(first_line) > QUESTION_PREVIEW:
        return first_line[: QUESTION_PREVIEW - 1] + "…"
    return first_line


def _probe(probe: ProbeResult | None, shared_prompt: str) -> dict[str, Any] | None:
    if probe is None:
        return None
    return {
        "kind": probe.kind,
        "turn": probe.turn,
        "verdict": probe.verdict,
        "chose_target": probe.chose_target,
        "confidence": probe.confidence,
        # The prompt repeats for every probe of a conversation, so it is stored once.
        "prompt": None if probe.prompt == shared_prompt else probe.prompt,
        "attempts": [
            {
                "text": attempt.reply.text,
                "status": attempt.parsed.status,
                "option": attempt.parsed.option,
                "answer": attempt.parsed.answer,
                "reason": attempt.parsed.reason,
            }
            for attempt in probe.attempts
        ],
    }


def _transcript(run_id: str, record: ConversationRecord) -> dict[str, Any]:
    prompt = record.initial.prompt if record.initial is not None else ""
    system = next((m.content for m in record.messages if m.role == "system"), None)
    return {
        "run": run_id,
        "key": record.key,
        "model": record.model,
        "dataset": record.dataset,
        "subset": record.subset,
        "strategy": record.strategy,
        "item": record.item_id,
        "epoch": record.epoch,
        "status": record.status,
        "outcome": outcome_of(record),
        "flip_turn": record.flip_turn,
        "system": system,
        "prompt": prompt,
        "initial": _probe(record.initial, prompt),
        "turns": [
            {
                "turn": turn.turn,
                "persuader": turn.persuader,
                "reply": turn.reply.text,
                "probe": _probe(turn.probe, prompt),
            }
            for turn in record.turns
        ],
        "final": _probe(record.final, prompt),
        "error": record.error.model_dump() if record.error is not None else None,
    }


def transcript_payload(
    records: Sequence[tuple[str, ConversationRecord]], chunk_size: int = CHUNK_SIZE
) -> TranscriptPayload:
    """Build the browser's index and transcript chunks from (run_id, record) pairs.

    Index rows are `[model, strategy, subset, outcome, flip_turn, item_id, epoch, question,
    chunk, position]`, where the first four are positions in the index's name lists.
    """
    names: dict[str, dict[str, int]] = {"models": {}, "strategies": {}, "subsets": {}}
    outcome_codes = {name: code for code, name in enumerate(OUTCOMES)}

    def code(kind: str, value: str) -> int:
        return names[kind].setdefault(value, len(names[kind]))

    rows: list[list[Any]] = []
    chunks: list[str] = []
    for start in range(0, len(records), chunk_size):
        block = records[start : start + chunk_size]
        chunk_number = len(chunks)
        for position, (_run_id, record) in enumerate(block):
            rows.append(
                [
                    code("models", record.model),
                    code("strategies", record.strategy),
                    code("subsets", record.subset),
                    outcome_codes[outcome_of(record)],
                    record.flip_turn,
                    record.item_id,
                    record.epoch,
                    _question(record),
                    chunk_number,
                    position,
                ]
            )
        chunks.append(_encode([_transcript(run_id, record) for run_id, record in block]))

    index = {
        "models": list(names["models"]),
        "strategies": list(names["strategies"]),
        "subsets": list(names["subsets"]),
        "outcomes": list(OUTCOMES),
        "rows": rows,
    }
    return TranscriptPayload(index=_encode(index), chunks=chunks, conversations=len(records))
