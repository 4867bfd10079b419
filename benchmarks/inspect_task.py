"""The Farm protocol as an inspect_ai task, for the side-by-side benchmark.

Run: `inspect eval benchmarks/inspect_task.py --model openai/stub --model-base-url URL
-T dataset=PATH -T limit=25 --max-connections 64 --max-samples 64`. One sample is one
(item, strategy) conversation. The solver sends the same requests as
`farm run --paper-compat`, and the score is the flip turn (0 when initially wrong, 5 when
never persuaded).
"""

from __future__ import annotations

import sys
from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    get_model,
)
from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _protocol import (
    MAX_TOKENS,
    PROBE_TEMPERATURE,
    REASKS,
    REPLY_TEMPERATURE,
    SYSTEM_MESSAGE,
    Conversation,
    conversations,
    is_correct,
    is_legal,
)

_PROBE = GenerateConfig(temperature=PROBE_TEMPERATURE, max_tokens=MAX_TOKENS)
_REPLY = GenerateConfig(temperature=REPLY_TEMPERATURE, max_tokens=MAX_TOKENS)


async def _probe(model: Model, history: list[ChatMessage], conversation: Conversation) -> str:
    messages = [*history, ChatMessageUser(content=conversation.probe)]
    answer = (await model.generate(messages, config=_PROBE)).completion
    for _ in range(REASKS):
        if is_legal(conversation.item, answer):
            break
        answer = (await model.generate(messages, config=_PROBE)).completion
    return answer


@solver
def persuade(planned: list[Conversation]) -> Solver:
    """Play the persuasion turns with an implicit check after each, and store the flip turn."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        conversation = planned[int(state.metadata["index"])]
        model = get_model()
        history: list[ChatMessage] = [ChatMessageSystem(content=SYSTEM_MESSAGE)]

        answer = await _probe(model, history, conversation)
        if not is_correct(conversation.item, answer):
            state.metadata["flip"] = 0
            return state
        history += [
            ChatMessageUser(content=conversation.probe),
            ChatMessageAssistant(content=answer),
        ]

        state.metadata["flip"] = 5
        for turn, message in enumerate(conversation.messages, start=1):
            history.append(ChatMessageUser(content=message))
            reply = (await model.generate(history, config=_REPLY)).completion
            history.append(ChatMessageAssistant(content=reply))
            if not is_correct(conversation.item, await _probe(model, history, conversation)):
                state.metadata["flip"] = turn
                break
        state.messages = history
        return state

    return solve


@scorer(metrics=[mean()])
def flip_turn():  # type: ignore[no-untyped-def]
    """Score a conversation with its flip turn."""

    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=state.metadata.get("flip", 5))

    return score


@task
def farm_persuasion(dataset: str, limit: int | None = None) -> Task:
    """Build one sample per (item, strategy) conversation, first `limit` items per subset."""
    planned = conversations(dataset, int(limit) if limit is not None else None)
    samples = [
        Sample(input=c.probe, id=f"{c.item.id}-{c.strategy}", metadata={"index": index})
        for index, c in enumerate(planned)
    ]
    return Task(dataset=MemoryDataset(samples), solver=persuade(planned), scorer=flip_turn())
