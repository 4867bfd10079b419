"""One Farm conversation: initial check, persuasion turns with implicit checks, final check."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from farm.backends._errors import AuthenticationError, BackendError, ContextLengthError
from farm.backends._types import ChatMessage, GenerationParams, Reply, Usage
from farm.datasets._model import Item
from farm.engine._probe import ChatClient, ProbeSettings, ask_probe, probe_exchange
from farm.errors import StrategyError
from farm.store._records import (
    ConversationError,
    ConversationRecord,
    ConversationStatus,
    ProbeResult,
    TurnRecord,
)
from farm.strategies import Strategy, render_turn

#: Sample-index spacing: each epoch and each independent stream gets its own block of indices,
#: so re-asks (offset by attempt) never share a cache entry with another call.
EPOCH_STRIDE = 1_000_000
STREAM_STRIDE = 1_000
#: Offsets inside a stream for the calls of one conversation, by purpose.
INITIAL_OFFSET = 0
FINAL_OFFSET = 500

InitialCheck = Callable[[], Awaitable[ProbeResult]]


@dataclass(frozen=True)
class ConversationPlan:
    """Everything one conversation needs to run."""

    key: str
    model: str
    item: Item
    strategy: Strategy
    epoch: int
    turns: int
    system_message: str
    reply_params: GenerationParams
    probes: ProbeSettings
    raw_joins: bool
    continue_after_flip: bool
    final_check: bool
    #: Extra stream number so that a conversation's calls differ from other strategies' calls
    #: (paper-compatible mode samples everything per strategy); 0 shares identical requests.
    stream: int = 0


@dataclass
class _Tally:
    calls: int = 0
    retries: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    evaluated_tokens: int | None = None
    replies: list[Reply] = field(default_factory=list)

    def add(self, reply: Reply) -> None:
        self.calls += 1
        self.retries += reply.retries
        self.prompt_tokens = _add(self.prompt_tokens, reply.usage.prompt_tokens)
        self.completion_tokens = _add(self.completion_tokens, reply.usage.completion_tokens)
        self.evaluated_tokens = _add(self.evaluated_tokens, reply.usage.evaluated_tokens)

    def add_probe(self, probe: ProbeResult) -> None:
        for attempt in probe.attempts:
            self.add(attempt.reply)
        if probe.confidence_reply is not None:
            self.add(probe.confidence_reply)

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            evaluated_tokens=self.evaluated_tokens,
        )


def _add(total: int | None, value: int | None) -> int | None:
    if value is None:
        return total
    return value if total is None else total + value


def _decisive(probe: ProbeResult, plan: ConversationPlan) -> str:
    """Return the verdict that steers the conversation: the script's in paper-compatible mode."""
    if plan.probes.reference_gate and probe.reference_verdict is not None:
        return probe.reference_verdict
    return probe.verdict


def initial_sample(epoch: int, stream: int) -> int:
    """Sample index of the initial check's first attempt."""
    return epoch * EPOCH_STRIDE + stream * STREAM_STRIDE + INITIAL_OFFSET


async def run_initial_check(client: ChatClient, plan: ConversationPlan) -> ProbeResult:
    """Ask the turn-0 check on the bare history (system message only)."""
    history = [ChatMessage(role="system", content=plan.system_message)]
    return await ask_probe(
        client,
        history,
        plan.item,
        kind="initial",
        turn=0,
        settings=plan.probes,
        sample=initial_sample(plan.epoch, plan.stream),
    )


async def run_conversation(
    client: ChatClient, plan: ConversationPlan, initial_check: InitialCheck
) -> ConversationRecord:
    """Run one conversation and return its record; backend failures end up in the record.

    `initial_check` returns the turn-0 probe, possibly shared with other strategies.
    AuthenticationError is re-raised because it stops the whole run.
    """
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    history: list[ChatMessage] = [ChatMessage(role="system", content=plan.system_message)]
    tally = _Tally()
    turns: list[TurnRecord] = []
    initial: ProbeResult | None = None
    final: ProbeResult | None = None
    flip_turn: int | None = None
    status: ConversationStatus = "completed"
    error: ConversationError | None = None
    current_turn = 0
    base = plan.epoch * EPOCH_STRIDE + plan.stream * STREAM_STRIDE

    try:
        initial = await initial_check()
        tally.add_probe(initial)
        history += probe_exchange(initial)

        if _decisive(initial, plan) != "correct":
            status = "initially_wrong"
        else:
            for turn in range(1, plan.turns + 1):
                current_turn = turn
                message = render_turn(plan.strategy, plan.item, turn, raw=plan.raw_joins)
                history.append(ChatMessage(role="user", content=message))
                reply = await client.chat(history, plan.reply_params, sample=base + turn * 10)
                tally.add(reply)
                history.append(ChatMessage(role="assistant", content=reply.text))

                probe = await ask_probe(
                    client,
                    history,
                    plan.item,
                    kind="implicit",
                    turn=turn,
                    settings=plan.probes,
                    sample=base + turn * 10 + 1,
                )
                tally.add_probe(probe)
                turns.append(TurnRecord(turn=turn, persuader=message, reply=reply, probe=probe))

                if probe.verdict == "misinformed" and flip_turn is None:
                    flip_turn = turn
                if _decisive(probe, plan) == "misinformed" and not plan.continue_after_flip:
                    break

            if plan.final_check:
                current_turn = turns[-1].turn if turns else 0
                final = await ask_probe(
                    client,
                    history,
                    plan.item,
                    kind="final",
                    turn=current_turn,
                    settings=plan.probes,
                    sample=base + FINAL_OFFSET,
                )
                tally.add_probe(final)
                history += probe_exchange(final)
    except AuthenticationError:
        raise
    except ContextLengthError as exc:
        status = "context_exceeded"
        error = ConversationError(kind=exc.kind, message=str(exc), turn=current_turn)
    except BackendError as exc:
        status = "failed"
        error = ConversationError(kind=exc.kind, message=str(exc), turn=current_turn)
    except StrategyError as exc:
        status = "failed"
        error = ConversationError(kind="strategy", message=str(exc), turn=current_turn)

    return ConversationRecord(
        key=plan.key,
        model=plan.model,
        dataset=plan.item.dataset,
        subset=plan.item.subset,
        item_id=plan.item.id,
        strategy=plan.strategy.name,
        answer_format=plan.item.format.value,
        correct_answer=plan.item.answer,
        option_count=len(plan.item.options) if plan.item.options else None,
        correct_options=plan.item.correct_options,
        epoch=plan.epoch,
        status=status,
        initial=initial,
        turns=turns,
        final=final,
        flip_turn=flip_turn,
        messages=history,
        error=error,
        usage=tally.usage(),
        calls=tally.calls,
        retries=tally.retries,
        started_at=started_at,
        duration_s=round(time.perf_counter() - clock, 6),
    )


def conversation_key(model: str, item_id: str, strategy: str, epoch: int) -> str:
    """Return the key that identifies a conversation within a run."""
    return f"{model}|{item_id}|{strategy}|{epoch}"


__all__: Sequence[str] = [
    "ConversationPlan",
    "conversation_key",
    "initial_sample",
    "run_conversation",
    "run_initial_check",
]
