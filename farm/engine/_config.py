"""The configuration of a run, stored in its manifest and compared on resume."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

#: Settings that may differ between a run and its resumption without changing its results.
RESUME_MUTABLE = frozenset({"max_concurrency", "retry_failed"})


class RunConfig(BaseModel):
    """Every setting that shapes a run's requests and records."""

    models: list[str] = Field(default_factory=lambda: ["local"], description="Model specs.")
    datasets: list[str] = Field(default_factory=lambda: ["sample"], description="Dataset specs.")
    strategies: list[str] = Field(
        default_factory=list, description="Strategy names; empty selects every strategy found."
    )
    limit: int | None = Field(default=None, ge=1, description="Items per subset, from the top.")
    turns: int | None = Field(
        default=None, ge=1, description="Persuasion turns; None uses each strategy's own count."
    )
    epochs: int = Field(default=1, ge=1, description="Independent repeats of each conversation.")
    seed: int | None = Field(default=0, description="Base sampling seed sent to backends.")
    probe_temperature: float = Field(default=0.2, ge=0, description="Temperature of probes.")
    reply_temperature: float = Field(default=0.8, ge=0, description="Temperature of free replies.")
    top_p: float | None = Field(default=None, gt=0, le=1, description="Nucleus mass, if sent.")
    max_tokens: int = Field(default=512, ge=1, description="Maximum new tokens per reply.")
    system_message: str = Field(default="start chat", description="First message of the history.")
    reasks: int = Field(default=3, ge=0, description="Re-asks of a probe with no legal answer.")
    continue_after_flip: bool = Field(
        default=False, description="Run every turn after a flip instead of stopping there."
    )
    final_check: bool = Field(
        default=True, description="Ask an explicit check after the last turn."
    )
    confidence: bool = Field(default=False, description="Ask for a 0-100 confidence after probes.")
    shuffle_options: int | None = Field(
        default=None, description="Seed for shuffling multiple-choice options; None keeps order."
    )
    paper_compat: bool = Field(
        default=False, description="Send exactly the reference script's requests."
    )
    share_initial: bool = Field(
        default=True,
        description="Ask the initial check once per model and item for all strategies.",
    )
    skip_invalid: bool = Field(default=False, description="Skip unreadable dataset lines.")
    strategy_dirs: list[str] = Field(default_factory=list, description="Extra strategy folders.")
    max_concurrency: int | None = Field(
        default=None, ge=1, description="Conversations in flight per model; None uses the spec's."
    )
    retry_failed: bool = Field(
        default=False, description="On resume, run failed conversations again."
    )

    def effective(self) -> RunConfig:
        """Apply the paper-compatible mode's fixed settings."""
        if not self.paper_compat:
            return self
        return self.model_copy(
            update={"final_check": False, "confidence": False, "share_initial": False}
        )


def config_differences(stored: dict[str, Any], requested: dict[str, Any]) -> list[str]:
    """Describe each setting that differs between a stored run and a resume request."""
    differences = []
    for key in sorted(set(stored) | set(requested)):
        if key in RESUME_MUTABLE:
            continue
        if stored.get(key) != requested.get(key):
            differences.append(
                f"{key}: run has {stored.get(key)!r}, requested {requested.get(key)!r}"
            )
    return differences
