"""The `anthropic` backend: the Anthropic Messages API (`POST {base_url}/v1/messages`).

The Messages API accepts a narrower message list than chat completions, so the backend
rewrites the conversation before sending it:

1. System messages move to the top-level `system` field, joined by a blank line, wherever
   they stood in the list.
2. Messages whose content is empty or only whitespace are dropped, because the API rejects
   empty text blocks.
3. Consecutive messages of the same role are merged into one, joined by a blank line.
4. When the first remaining message is from the assistant, a user message
   `(conversation start)` is put before it, because the list must start with a user turn.
5. A final assistant message (a prefill) loses its trailing whitespace, which the API rejects.

The records keep the conversation as farm built it; only the request differs.

`stop_reason` maps to finish_reason: `end_turn` and `stop_sequence` -> `stop`, `max_tokens` and
`model_context_window_exceeded` -> `length`, `refusal` -> `refusal` (with `refusal` True),
`tool_use` -> `tool_calls`; other values pass through unchanged. `thinking` blocks go to
`Reply.reasoning`. The API takes no seed, so `GenerationParams.seed` is not sent.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from farm.backends._aiohttp import default_transport
from farm.backends._errors import RequestRejectedError
from farm.backends._http_backend import JsonHttpBackend
from farm.backends._spec import ModelSpec
from farm.backends._types import ChatMessage, GenerationParams, Reply, Usage
from farm.errors import ConfigError

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
#: Messages API version sent in the `anthropic-version` header unless options override it.
DEFAULT_API_VERSION = "2023-06-01"
#: Text of the user message inserted when a conversation would start with the assistant.
CONVERSATION_START = "(conversation start)"

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "refusal",
    "tool_use": "tool_calls",
}


def to_messages_api(messages: Sequence[ChatMessage]) -> tuple[str | None, list[dict[str, str]]]:
    """Split off the system prompt and make the message list valid for the Messages API."""
    system_parts = [m.content for m in messages if m.role == "system" and m.content.strip()]
    system = "\n\n".join(system_parts) if system_parts else None

    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system" or not message.content.strip():
            continue
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + message.content
        else:
            turns.append({"role": message.role, "content": message.content})

    if turns and turns[0]["role"] == "assistant":
        turns.insert(0, {"role": "user", "content": CONVERSATION_START})
    if turns and turns[-1]["role"] == "assistant":
        turns[-1]["content"] = turns[-1]["content"].rstrip()
    return system, turns


def parse_message(body: dict[str, Any]) -> Reply:
    """Read a Messages API response body into a `Reply`."""
    texts: list[str] = []
    thoughts: list[str] = []
    for block in body.get("content") or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "thinking":
            thoughts.append(str(block.get("thinking", "")))

    stop_reason = body.get("stop_reason")
    finish_reason = _STOP_REASONS.get(stop_reason, stop_reason) if stop_reason else None

    usage_body = body.get("usage") or {}
    input_tokens = usage_body.get("input_tokens")
    if isinstance(input_tokens, int):
        # Cached prompt tokens are reported apart from input_tokens but are part of the prompt.
        for field in ("cache_creation_input_tokens", "cache_read_input_tokens"):
            extra = usage_body.get(field)
            input_tokens += extra if isinstance(extra, int) else 0
    output_tokens = usage_body.get("output_tokens")
    usage = Usage(
        prompt_tokens=input_tokens if isinstance(input_tokens, int) else None,
        completion_tokens=output_tokens if isinstance(output_tokens, int) else None,
    )
    return Reply(
        text="".join(texts),
        finish_reason=finish_reason,
        refusal=stop_reason == "refusal",
        reasoning="".join(thoughts) or None,
        usage=usage,
    )


class AnthropicBackend(JsonHttpBackend):
    """Messages API calls over HTTP."""

    kind = "anthropic"

    def __init__(self, spec: ModelSpec, *, transport: httpx.AsyncBaseTransport | None = None):
        self.spec = spec
        self.base_url = (spec.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.key_env = spec.api_key_env or DEFAULT_KEY_ENV
        self._api_key = os.environ.get(self.key_env) or None

        if self._api_key is None and urlsplit(self.base_url).hostname == "api.anthropic.com":
            raise ConfigError(
                f"Model {spec.name!r} uses {self.base_url} but the environment variable "
                f"{self.key_env} is not set. Export your Anthropic API key as {self.key_env}, or "
                "set api_key_env in the model's config to the variable that holds it."
            )

        headers = {
            "Content-Type": "application/json",
            "anthropic-version": str(spec.options.get("anthropic_version", DEFAULT_API_VERSION)),
            **spec.headers,
        }
        if self._api_key:
            headers["x-api-key"] = self._api_key
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=spec.request_timeout_s,
            transport=transport if transport is not None else default_transport(),
        )
        self._url = f"{self.base_url}/v1/messages"

    def build_payload(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> dict[str, Any]:
        """Build the request body of one call."""
        system, turns = to_messages_api(messages)
        if not turns:
            raise RequestRejectedError(
                f"Model {self.spec.name!r}: the conversation has no user or assistant message "
                "with text, and the Messages API needs at least one."
            )
        payload: dict[str, Any] = {
            "model": self.spec.model,
            "max_tokens": params.max_tokens,
            "messages": turns,
            "temperature": params.temperature,
        }
        if system is not None:
            payload["system"] = system
        if params.top_p is not None:
            payload["top_p"] = params.top_p
        payload.update(self.spec.extra)
        return payload

    def parse_body(self, body: dict[str, Any]) -> Reply:
        """Read a successful response body into a Reply."""
        return parse_message(body)
