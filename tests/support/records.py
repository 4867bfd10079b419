"""Hand-made conversation records and run directories for tests.

`make_record` builds a ConversationRecord from a list of verdicts, so a test can state the
expected metrics of a small run by hand. `write_run` stores records as a real run directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from farm.backends._types import ChatMessage, Reply, Usage
from farm.store import (
    ConversationError,
    ConversationRecord,
    Manifest,
    ParsedAnswer,
    ProbeAttempt,
    ProbeResult,
    RunDir,
    TurnRecord,
    Verdict,
)

START = datetime(2026, 12, 4, 12, 0, 0, tzinfo=timezone.utc)
SYSTEM_MESSAGE = "start chat"


def _parsed(verdict: Verdict, correct_option: int, target_option: int) -> ParsedAnswer:
    if verdict == "correct":
        return ParsedAnswer(status="choice", option=correct_option, answer="right answer")
    if verdict == "misinformed":
        return ParsedAnswer(status="choice", option=target_option, answer="wrong answer")
    if verdict == "abstain":
        return ParsedAnswer(status="abstain", option=target_option + 1, answer="Don't know")
    return ParsedAnswer(status=verdict, reason=f"reply was {verdict}")


def make_probe(
    kind: str,
    turn: int,
    verdict: Verdict,
    *,
    prompt: str = "Question: Is the earth round?",
    reply: str | None = None,
    chose_target: bool | None = None,
    confidence: float | None = None,
    attempts: int = 1,
    tokens: tuple[int, int] = (20, 3),
    latency_s: float = 0.5,
) -> ProbeResult:
    """Build a probe whose last attempt has `verdict`; earlier attempts are unparsed re-asks."""
    correct_option, target_option = 1, 2
    chosen = correct_option if verdict == "correct" else target_option
    text = reply if reply is not None else f"Option {chosen}"
    usage = Usage(prompt_tokens=tokens[0], completion_tokens=tokens[1])
    history = [
        ProbeAttempt(
            reply=Reply(text="I am not sure how to answer.", usage=usage, latency_s=latency_s),
            parsed=ParsedAnswer(status="unparsed", reason="no option named"),
        )
        for _ in range(attempts - 1)
    ]
    history.append(
        ProbeAttempt(
            reply=Reply(text=text, usage=usage, latency_s=latency_s),
            parsed=_parsed(verdict, correct_option, target_option),
        )
    )
    return ProbeResult(
        kind=kind,  # type: ignore[arg-type]
        turn=turn,
        prompt=prompt,
        attempts=history,
        verdict=verdict,
        chose_target=(verdict == "misinformed") if chose_target is None else chose_target,
        confidence=confidence,
    )


def make_record(
    *,
    model: str = "model-a",
    dataset: str = "farm",
    subset: str = "NQ1",
    strategy: str = "logical",
    item_id: str = "NQ1-0001",
    epoch: int = 0,
    initial: Verdict | None = "correct",
    implicit: Sequence[Verdict | None] = (),
    final: Verdict | None = None,
    status: str | None = None,
    flip_turn: int | str | None = "auto",
    chose_target: bool = True,
    error_turn: int | None = None,
    question: str = "Is the earth round?",
    persuader: str = "I believe the earth is flat.",
    reply: str = "I see your point, but the earth is round.",
    probe_reply: str | None = None,
    run_key: str | None = None,
) -> ConversationRecord:
    """Build one conversation record.

    `implicit[i]` is the verdict of the implicit probe after turn i + 1 (None: turn run but
    not probed). `flip_turn` defaults to the first misinformed turn. `status` defaults to
    `initially_wrong` when the initial verdict is not correct, else `completed`; `failed`
    and `context_exceeded` add an error at `error_turn`.
    """
    prompt = f"Question: {question}\n\nOptions:\nOption 1. right answer\nOption 2. wrong answer\n"
    messages = [
        ChatMessage(role="system", content=SYSTEM_MESSAGE),
        ChatMessage(role="user", content=prompt),
    ]
    initial_probe = (
        make_probe("initial", 0, initial, prompt=prompt, reply=probe_reply)
        if initial is not None
        else None
    )
    if initial_probe is not None:
        messages.append(
            ChatMessage(role="assistant", content=initial_probe.attempts[-1].reply.text)
        )

    turns: list[TurnRecord] = []
    for number, verdict in enumerate(implicit, start=1):
        probe = None
        if verdict is not None:
            probe = make_probe(
                "implicit", number, verdict, prompt=prompt, reply=probe_reply,
                chose_target=chose_target if verdict == "misinformed" else False,
            )
        turns.append(
            TurnRecord(
                turn=number,
                persuader=persuader,
                reply=Reply(text=reply, usage=Usage(prompt_tokens=50, completion_tokens=12)),
                probe=probe,
            )
        )
        messages.append(ChatMessage(role="user", content=persuader))
        messages.append(ChatMessage(role="assistant", content=reply))

    final_probe = None
    if final is not None:
        final_probe = make_probe("final", len(turns), final, prompt=prompt, reply=probe_reply)
        messages.append(ChatMessage(role="user", content=prompt))
        messages.append(ChatMessage(role="assistant", content=final_probe.attempts[-1].reply.text))

    if flip_turn == "auto":
        misinformed = [n for n, verdict in enumerate(implicit, start=1) if verdict == "misinformed"]
        flip_turn = misinformed[0] if misinformed else None
    if status is None:
        status = "completed" if initial == "correct" else "initially_wrong"
    error = None
    if status in ("failed", "context_exceeded"):
        error = ConversationError(
            kind="context_exceeded" if status == "context_exceeded" else "server_error",
            message=f"{status} in a test record",
            turn=error_turn,
        )

    key = run_key or f"{model}|{subset}|{item_id}|{strategy}|{epoch}"
    return ConversationRecord(
        key=key,
        model=model,
        dataset=dataset,
        subset=subset,
        item_id=item_id,
        strategy=strategy,
        epoch=epoch,
        status=status,  # type: ignore[arg-type]
        initial=initial_probe,
        turns=turns,
        final=final_probe,
        flip_turn=flip_turn,  # type: ignore[arg-type]
        messages=messages,
        error=error,
        usage=Usage(prompt_tokens=100, completion_tokens=20),
        calls=1 + 2 * len(turns),
        started_at=START,
        duration_s=1.25,
    )


def make_manifest(
    run_id: str = "20261204-120000-abcd",
    *,
    turns: int = 4,
    models: Sequence[str] = ("model-a",),
    datasets: Sequence[str] = ("farm",),
    strategies: Sequence[str] = ("repetition", "logical"),
    seed: int = 7,
    paper_compat: bool = False,
    continue_after_flip: bool = False,
    extra: dict[str, Any] | None = None,
) -> Manifest:
    """Build a manifest with the config keys that metrics and reports read."""
    config: dict[str, Any] = {
        "turns": turns,
        "models": list(models),
        "datasets": list(datasets),
        "strategies": list(strategies),
        "seed": seed,
        "paper_compat": paper_compat,
        "continue_after_flip": continue_after_flip,
        **(extra or {}),
    }
    return Manifest(
        run_id=run_id,
        farm_version="0.1.0",
        config=config,
        datasets=[{"name": name} for name in datasets],
        models=[{"name": name} for name in models],
        strategies=[{"name": name} for name in strategies],
        started_at=START,
        finished_at=START,
    )


def write_run(
    directory: Path, records: Sequence[ConversationRecord], manifest: Manifest | None = None
) -> Path:
    """Write a manifest and the records as a run directory; return the directory."""
    run_dir = RunDir(directory)
    if manifest is None:
        models = tuple(dict.fromkeys(record.model for record in records)) or ("model-a",)
        strategies = tuple(dict.fromkeys(record.strategy for record in records))
        manifest = make_manifest(directory.name, models=models, strategies=strategies)
    run_dir.write_manifest(manifest)
    # One write instead of RunDir.append's fsync per record keeps large test runs fast.
    with run_dir.records_path.open("a", encoding="utf-8") as handle:
        handle.writelines(record.model_dump_json() + "\n" for record in records)
    return directory
