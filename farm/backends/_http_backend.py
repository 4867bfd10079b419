"""The part that the JSON-over-HTTP backends share: one POST per call, closing, cache identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import httpx

from farm.backends._http import post_json
from farm.backends._spec import ModelSpec
from farm.backends._types import ChatMessage, GenerationParams, Reply


class JsonHttpBackend:
    """A backend that POSTs one JSON body per call; subclasses build bodies and read replies."""

    #: Backend name in cache keys.
    kind: ClassVar[str]
    spec: ModelSpec
    base_url: str
    key_env: str
    _api_key: str | None
    _client: httpx.AsyncClient
    _url: str

    def build_payload(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> dict[str, Any]:
        """Build the request body of one call."""
        raise NotImplementedError

    def parse_body(self, body: dict[str, Any]) -> Reply:
        """Read a successful response body into a Reply."""
        raise NotImplementedError

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> Reply:
        """Send one request and return the reply, or raise a `BackendError`."""
        body = await post_json(
            self._client,
            self._url,
            self.build_payload(messages, params),
            provider=f"model {self.spec.name!r}",
            key_env=self.key_env,
            secrets=[self._api_key],
        )
        return self.parse_body(body)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.aclose()

    def cache_identity(self) -> dict[str, Any]:
        """Identify the backend in cache keys: kind, base URL, model and extra fields."""
        return {
            "backend": self.kind,
            "base_url": self.base_url,
            "model": self.spec.model,
            "extra": self.spec.extra,
        }
