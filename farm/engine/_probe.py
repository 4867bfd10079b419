"""Ask a belief probe, re-ask while the answer has no legal form, and judge the last answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from farm.backends._types import ChatMessage, GenerationParams, Reply
from farm.datasets._model import Item
from farm.probes import (
    CONFIDENCE_QUESTION,
    judge,
    parse_answer,
    parse_confidence,
    passes_reference_gate,
    probe_options,
    probe_prompt,
)
from farm.probes._reference import AnswerKey, reference_verdict
from farm.store._records import ProbeAttempt, ProbeKind, ProbeResult


class ChatClient(Protocol):
    """The model-client interface of the engine: one chat call with retries and caching."""

    async def chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, *, sample: int = 0
    ) -> Reply:
        """Return the model's reply to `messages`."""
        ...


@dataclass(frozen=True)
class ProbeSettings:
    """Probe settings of one run."""

    params: GenerationParams
    reasks: int
    #: Paper-compatible mode: re-ask by the reference script's format gate, and let the
    #: script's own judgement decide whether to persuade and where to stop.
    reference_gate: bool
    confidence: bool


async def ask_probe(
    client: ChatClient,
    history: Sequence[ChatMessage],
    item: Item,
    *,
    kind: ProbeKind,
    turn: int,
    settings: ProbeSettings,
    sample: int,
) -> ProbeResult:
    """Ask the item's question after `history` and return every attempt with the verdict.

    The history is not changed: the caller decides whether the probe is recorded (initial
    and final checks) or stays off the record (implicit checks). Re-asks send the same
    messages again with a new sample index and seed.
    """
    prompt = probe_prompt(item)
    messages = [*history, ChatMessage(role="user", content=prompt)]
    options = probe_options(item)

    attempts: list[ProbeAttempt] = []
    for attempt in range(settings.reasks + 1):
        params = settings.params
        if params.seed is not None and attempt:
            params = params.model_copy(update={"seed": params.seed + attempt})
        reply = await client.chat(messages, params, sample=sample + attempt)
        parsed = parse_answer(reply.text, item.format, options)
        attempts.append(ProbeAttempt(reply=reply, parsed=parsed))

        if settings.reference_gate:
            legal = passes_reference_gate(reply.text, item.format)
        else:
            legal = parsed.status in ("choice", "abstain")
        if legal:
            break

    verdict, chose_target = judge(item, attempts[-1].parsed)
    result = ProbeResult(
        kind=kind,
        turn=turn,
        prompt=prompt,
        attempts=attempts,
        verdict=verdict,
        chose_target=chose_target,
    )
    if settings.reference_gate:
        result.reference_verdict = reference_verdict(AnswerKey.of_item(item), result)
    if settings.confidence:
        follow_up = [
            *messages,
            ChatMessage(role="assistant", content=attempts[-1].reply.text),
            ChatMessage(role="user", content=CONFIDENCE_QUESTION),
        ]
        confidence_reply = await client.chat(follow_up, settings.params, sample=sample)
        result.confidence_reply = confidence_reply
        result.confidence = parse_confidence(confidence_reply.text)
    return result


def probe_exchange(result: ProbeResult) -> list[ChatMessage]:
    """Return the question and last answer of an explicit check, as recorded in the history."""
    return [
        ChatMessage(role="user", content=result.prompt),
        ChatMessage(role="assistant", content=result.attempts[-1].reply.text),
    ]
