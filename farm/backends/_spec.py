"""Model specs: which backend, which model, and the limits that apply to it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ModelSpec(BaseModel):
    """A model as the user named it, resolved to a backend and its settings.

    Persisted in the run manifest, so it never holds an API key: only the name of the
    environment variable that holds one.
    """

    name: str = Field(description="Display name used in records and reports.")
    backend: str = Field(description="Registered backend name: openai, anthropic, local, scripted.")
    model: str = Field(description="Model id sent to the provider, or a GGUF path for local.")
    base_url: str | None = Field(default=None, description="API base URL for HTTP backends.")
    api_key_env: str | None = Field(
        default=None, description="Environment variable holding the API key."
    )
    max_concurrency: int = Field(default=8, ge=1, description="Conversations in flight at once.")
    requests_per_minute: float | None = Field(default=None, gt=0, description="Request rate cap.")
    tokens_per_minute: float | None = Field(default=None, gt=0, description="Token rate cap.")
    request_timeout_s: float = Field(default=120.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(default=6, ge=0, description="Retries of one call before failing.")
    max_retry_wait_s: float = Field(
        default=120.0, ge=0, description="Longest single wait between retries, in seconds."
    )
    retry_backoff_s: float = Field(
        default=0.5,
        ge=0,
        description=(
            "Base of the exponential backoff between retries, in seconds. The n-th retry waits "
            "a random time up to min(max_retry_wait_s, retry_backoff_s * 2**n)."
        ),
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers (never put secrets here)."
    )
    extra: dict[str, Any] = Field(
        default_factory=dict, description="Extra request fields sent as-is, e.g. top_k."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Backend-specific settings, e.g. n_ctx for local."
    )
