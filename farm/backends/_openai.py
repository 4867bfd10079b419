"""The `openai` backend: OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, Ollama).

Request: `POST {base_url}/chat/completions` with `model`, `messages`, `temperature`,
`max_tokens`, `top_p` and `seed` when set, and the spec's `extra` fields as-is (for example
`top_k` for vLLM or llama.cpp). Set `options.max_tokens_field = "max_completion_tokens"` for
OpenAI models that reject `max_tokens`.

Reading the reply:

- `content` is the reply text. A list of content parts is joined from its text parts.
- `content` null with a `refusal` string: the refusal becomes the text and `refusal` is True.
- an empty `choices` list: an empty reply with finish_reason `content_filter`.
- `reasoning_content` (or `reasoning`) is kept in `Reply.reasoning`.
- missing `usage` leaves the token counts None, never zero.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from farm.backends._aiohttp import default_transport
from farm.backends._http_backend import JsonHttpBackend
from farm.backends._spec import ModelSpec
from farm.backends._types import ChatMessage, GenerationParams, Reply, Usage
from farm.errors import ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
_MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")


def _text_of(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "".join(parts)
    return str(content)


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def parse_chat_completion(body: dict[str, Any]) -> Reply:
    """Read a chat completion response body into a `Reply`."""
    usage_body = body.get("usage") or {}
    usage = Usage(
        prompt_tokens=_optional_int(usage_body.get("prompt_tokens")),
        completion_tokens=_optional_int(usage_body.get("completion_tokens")),
    )

    choices = body.get("choices") or []
    if not choices:
        return Reply(text="", finish_reason="content_filter", usage=usage)

    choice = choices[0]
    message = choice.get("message") or {}
    text = _text_of(message.get("content"))
    refusal_text = message.get("refusal")
    reasoning = message.get("reasoning_content") or message.get("reasoning")

    refusal = text is None and bool(refusal_text)
    if refusal:
        text = str(refusal_text)
    return Reply(
        text=text or "",
        finish_reason=choice.get("finish_reason"),
        refusal=refusal,
        reasoning=reasoning if isinstance(reasoning, str) else None,
        usage=usage,
    )


class OpenAIBackend(JsonHttpBackend):
    """Chat completions over HTTP for any OpenAI-compatible server."""

    kind = "openai"

    def __init__(self, spec: ModelSpec, *, transport: httpx.AsyncBaseTransport | None = None):
        self.spec = spec
        self.base_url = (spec.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.key_env = spec.api_key_env or DEFAULT_KEY_ENV
        self._api_key = os.environ.get(self.key_env) or None

        if self._api_key is None and urlsplit(self.base_url).hostname == "api.openai.com":
            raise ConfigError(
                f"Model {spec.name!r} uses {self.base_url} but the environment variable "
                f"{self.key_env} is not set. Export your OpenAI API key as {self.key_env}, or set "
                "api_key_env in the model's config to the variable that holds it."
            )
        self._max_tokens_field = str(spec.options.get("max_tokens_field", "max_tokens"))
        if self._max_tokens_field not in _MAX_TOKENS_FIELDS:
            raise ConfigError(
                f"Model {spec.name!r}: options.max_tokens_field is {self._max_tokens_field!r}; "
                f"use one of {', '.join(_MAX_TOKENS_FIELDS)}."
            )

        headers = {"Content-Type": "application/json", **spec.headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=spec.request_timeout_s,
            transport=transport if transport is not None else default_transport(),
        )
        self._url = f"{self.base_url}/chat/completions"

    def build_payload(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> dict[str, Any]:
        """Build the request body of one call."""
        payload: dict[str, Any] = {
            "model": self.spec.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": params.temperature,
            self._max_tokens_field: params.max_tokens,
        }
        if params.top_p is not None:
            payload["top_p"] = params.top_p
        if params.seed is not None:
            payload["seed"] = params.seed
        payload.update(self.spec.extra)
        return payload

    def parse_body(self, body: dict[str, Any]) -> Reply:
        """Read a successful response body into a Reply."""
        return parse_chat_completion(body)
