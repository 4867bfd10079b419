"""Messages, sampling parameters and replies: the contract between the engine and backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role = Field(description="Who wrote the message.")
    content: str = Field(description="Message text.")


class GenerationParams(BaseModel):
    """Sampling parameters of one model call. Every field is part of the cache key."""

    model_config = ConfigDict(frozen=True)

    temperature: float = Field(description="Sampling temperature.")
    top_p: float | None = Field(default=None, description="Nucleus sampling mass; None omits it.")
    max_tokens: int = Field(default=512, description="Maximum new tokens in the reply.")
    seed: int | None = Field(default=None, description="Sampling seed for backends that take one.")


class Usage(BaseModel):
    """Token counts of one call; None means the backend did not report it."""

    prompt_tokens: int | None = Field(default=None, description="Tokens in the request.")
    completion_tokens: int | None = Field(default=None, description="Tokens in the reply.")
    evaluated_tokens: int | None = Field(
        default=None,
        description=(
            "Prompt tokens the model actually evaluated (local models with KV-cache reuse)."
        ),
    )


class Reply(BaseModel):
    """The result of one backend call."""

    text: str = Field(description="Reply text; empty when the model gave none.")
    finish_reason: str | None = Field(
        default=None,
        description="`stop`, `length`, `content_filter`, `refusal` or None if unknown.",
    )
    refusal: bool = Field(default=False, description="True when the provider marked a refusal.")
    reasoning: str | None = Field(default=None, description="Separate reasoning text, if any.")
    usage: Usage = Field(default_factory=Usage, description="Token counts.")
    latency_s: float = Field(default=0.0, description="Wall time of the call in seconds.")
    retries: int = Field(default=0, description="Retries made before this reply.")
    retry_wait_s: float = Field(default=0.0, description="Seconds spent waiting between retries.")
    cached: bool = Field(default=False, description="True when the reply came from the cache.")


@runtime_checkable
class Backend(Protocol):
    """One provider's way of answering a message list. Retries and caching live outside it."""

    async def complete(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> Reply:
        """Send one request and return the reply, or raise a `BackendError`."""
        ...

    async def aclose(self) -> None:
        """Release connections and models."""
        ...

    def cache_identity(self) -> dict[str, Any]:
        """Fields that identify this backend in the cache key (backend kind, base URL, model)."""
        ...
