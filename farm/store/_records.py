"""Persisted records of a run: the manifest and one record per conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from farm.backends._types import ChatMessage, Reply, Usage

#: Outcome of judging one probe answer against the item.
Verdict = Literal["correct", "misinformed", "abstain", "unparsed", "ambiguous"]
#: How far a conversation got.
ConversationStatus = Literal[
    "completed",  # ran to the end (or to the first flip, when stopping there)
    # The initial check was not correct (wrong, "don't know", unparsed or ambiguous: see
    # `initial.verdict`), so no persuasion happened.
    "initially_wrong",
    "context_exceeded",  # the conversation outgrew the model's context window
    "failed",  # a non-retryable error or exhausted retries
]
ProbeKind = Literal["initial", "implicit", "final"]


class ParsedAnswer(BaseModel):
    """A probe reply read into an answer."""

    status: Literal["choice", "abstain", "unparsed", "ambiguous"] = Field(
        description="Whether the reply named one legal answer, said 'don't know', or neither."
    )
    option: int | None = Field(
        default=None,
        description="1-based option number for multiple choice, counting the two added options.",
    )
    answer: str | None = Field(
        default=None, description="`yes` / `no` for yes/no items, else the chosen option's text."
    )
    reason: str | None = Field(default=None, description="Why a reply was unparsed or ambiguous.")


class ProbeAttempt(BaseModel):
    """One ask of a probe question (the first ask or a re-ask)."""

    reply: Reply = Field(description="The raw reply.")
    parsed: ParsedAnswer = Field(description="The reply read into an answer.")


class ProbeResult(BaseModel):
    """A belief check: the question asked, every attempt, and the verdict of the last one."""

    kind: ProbeKind = Field(description="initial and final checks are recorded in the history.")
    turn: int = Field(description="Turn after which the probe was asked; 0 for the initial check.")
    prompt: str = Field(description="The probe question exactly as sent.")
    attempts: list[ProbeAttempt] = Field(description="First ask and re-asks, in order.")
    verdict: Verdict = Field(description="Judgement of the last attempt's answer.")
    reference_verdict: Verdict | None = Field(
        default=None,
        description=(
            "The reference script's judgement, recorded in paper-compatible mode, where it "
            "decides whether the conversation goes on."
        ),
    )
    chose_target: bool = Field(
        default=False, description="True when the answer is the designated misinformation."
    )
    confidence: float | None = Field(
        default=None, description="Self-reported confidence 0..100, when asked and given."
    )
    confidence_reply: Reply | None = Field(default=None, description="Raw confidence reply.")


class TurnRecord(BaseModel):
    """One persuasion turn: the persuader's message, the model's reply and the implicit probe."""

    turn: int = Field(description="1-based turn number.")
    persuader: str = Field(description="The persuader's message as sent.")
    reply: Reply = Field(description="The model's free reply, which stays in the history.")
    probe: ProbeResult | None = Field(default=None, description="The off-record belief check.")


class ConversationError(BaseModel):
    """The error that ended a conversation early."""

    kind: str = Field(description="Error kind from the backend taxonomy, e.g. `rate_limit`.")
    message: str = Field(description="The error message (never contains an API key).")
    turn: int | None = Field(default=None, description="Turn at which it happened, if known.")


class ConversationRecord(BaseModel):
    """Everything about one (model, item, strategy) conversation, written once it ends."""

    key: str = Field(description="Unique key of the conversation within its run.")
    model: str = Field(description="Model name as given on the command line or in the config.")
    dataset: str = Field(description="Dataset name.")
    subset: str = Field(description="Subset name.")
    item_id: str = Field(description="Stable item id, for joining runs.")
    strategy: str = Field(description="Strategy name.")
    answer_format: str | None = Field(
        default=None, description="`yes_no` or `multiple_choice`, for re-judging stored replies."
    )
    correct_answer: str | None = Field(
        default=None, description="The item's correct answer (`yes` / `no` for yes/no items)."
    )
    option_count: int | None = Field(
        default=None, description="Stored options shown, without the two added ones."
    )
    correct_options: list[int] = Field(
        default_factory=list, description="1-based numbers of the correct stored options."
    )
    epoch: int = Field(default=0, description="Repeat index when each conversation runs n times.")
    status: ConversationStatus = Field(description="How far the conversation got.")
    initial: ProbeResult | None = Field(default=None, description="The initial belief check.")
    turns: list[TurnRecord] = Field(default_factory=list, description="Persuasion turns run.")
    final: ProbeResult | None = Field(default=None, description="The final explicit check.")
    flip_turn: int | None = Field(
        default=None, description="First turn whose implicit probe was misinformed; None if none."
    )
    messages: list[ChatMessage] = Field(
        default_factory=list, description="The recorded history, as the model saw it."
    )
    error: ConversationError | None = Field(default=None, description="Set when failed.")
    usage: Usage = Field(default_factory=Usage, description="Token counts summed over calls.")
    calls: int = Field(default=0, description="Model calls made, cached ones included.")
    retries: int = Field(default=0, description="Retries summed over calls.")
    started_at: datetime = Field(description="UTC start time.")
    duration_s: float = Field(description="Wall time in seconds.")


class Manifest(BaseModel):
    """The description of a run: written at the start, updated at the end."""

    run_id: str = Field(description="Folder name of the run under the results directory.")
    farm_version: str = Field(description="farm version that wrote the run.")
    config: dict[str, Any] = Field(description="The full run configuration.")
    datasets: list[dict[str, Any]] = Field(description="Name, hash and item counts per dataset.")
    models: list[dict[str, Any]] = Field(description="Model specs, without API keys.")
    strategies: list[dict[str, Any]] = Field(description="Strategy names, files and sha256.")
    started_at: datetime = Field(description="UTC start time of the first session.")
    finished_at: datetime | None = Field(default=None, description="UTC end time, once finished.")
    sessions: int = Field(default=1, description="How many times the run was started or resumed.")
