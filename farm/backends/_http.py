"""HTTP plumbing shared by the HTTP backends: one POST, and its failures mapped to the taxonomy.

Mapping of failures to `farm.backends` errors:

- connection errors and other transport failures -> `TransientError`; timeouts ->
  `RequestTimeoutError`;
- 429 -> `RateLimitError` carrying the wait the headers ask for;
- 401, 403 -> `AuthenticationError` naming the environment variable that holds the key;
- a message about the context window (any status from 400 up, 500 included, because some local
  servers report it as a server error) -> `ContextLengthError`, which is never retried;
- 400, 404, 413, 422 and other 4xx -> `RequestRejectedError`; 408 and 409 -> `TransientError`;
- 5xx, 529, HTML error pages and bodies that are not valid JSON -> `TransientError`.

Every message passes through `redact_secrets`, so an API key echoed by a provider never reaches
a log or a result file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from farm.backends._errors import (
    AuthenticationError,
    BackendError,
    ContextLengthError,
    RateLimitError,
    RequestRejectedError,
    RequestTimeoutError,
    TransientError,
)
from farm.backends._retry_after import retry_after_seconds

#: Bytes of an unreadable body quoted in an error message.
BODY_EXCERPT_BYTES = 200

_SECRET_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-*.]{3,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9_\-*.=]+"),
    re.compile(r"(?i)\b(api[_-]?key|x-api-key)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
)
_CONTEXT_PATTERN = re.compile(
    r"(?i)context[_ ]length|maximum context|available context size|context window"
    r"|prompt is too long"
)
_CONTEXT_CODES = {"context_length_exceeded", "string_above_max_length"}
_RETRYABLE_CLIENT_STATUSES = {408, 409}


def redact_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace API keys and bearer tokens in `text` with `[redacted]`.

    Besides the patterns of common key formats, every non-empty string in `secrets` (the
    actual key in use) is removed wherever it appears.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _SECRET_PATTERNS[0].sub("[redacted]", text)
    text = _SECRET_PATTERNS[1].sub("Bearer [redacted]", text)
    return _SECRET_PATTERNS[2].sub(r"\1\2[redacted]", text)


def body_excerpt(content: bytes) -> str:
    """Return the first bytes of a body as text, for error messages."""
    excerpt = content[:BODY_EXCERPT_BYTES].decode("utf-8", errors="replace")
    suffix = "..." if len(content) > BODY_EXCERPT_BYTES else ""
    return f"{excerpt!r}{suffix}"


def _error_details(response: httpx.Response) -> tuple[str, str | None]:
    """Return the provider's error message and error code, from a JSON body or the raw text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body_excerpt(response.content), None

    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, str):
            return error, None
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("detail") or json.dumps(error)
            code = error.get("code") or error.get("type")
            return str(message), str(code) if code is not None else None
    return body_excerpt(response.content), None


def is_context_error(message: str, code: str | None = None) -> bool:
    """Tell whether an error message or code says the prompt does not fit the context window."""
    return code in _CONTEXT_CODES or bool(_CONTEXT_PATTERN.search(message))


def error_from_response(
    response: httpx.Response,
    *,
    provider: str,
    key_env: str | None,
    secrets: Iterable[str | None] = (),
) -> BackendError:
    """Map an unsuccessful HTTP response to the backend error taxonomy."""
    status = response.status_code
    message, code = _error_details(response)
    where = f"{provider} at {response.request.url}"
    text = redact_secrets(f"{where} returned HTTP {status}: {message}", secrets)

    if status == 429:
        wait = retry_after_seconds(response.headers)
        return RateLimitError(text, status=status, retry_after=wait)
    if status in (401, 403):
        if key_env:
            advice = f"Set the environment variable {key_env} to a valid API key."
        else:
            advice = "Set api_key_env in the model's config to the variable that holds the key."
        return AuthenticationError(f"{text}. {advice}", status=status, key_env=key_env)
    if status >= 400 and is_context_error(message, code):
        return ContextLengthError(text, status=status)
    if 400 <= status < 500 and status not in _RETRYABLE_CLIENT_STATUSES:
        return RequestRejectedError(text, status=status)
    return TransientError(text, status=status)


def error_from_transport(error: httpx.HTTPError, *, provider: str, url: str) -> BackendError:
    """Map an httpx transport failure (no HTTP response) to the backend error taxonomy."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeoutError(f"{provider} at {url} timed out: {detail}")
    return TransientError(f"{provider} at {url} failed: {type(error).__name__}: {detail}")


def decode_json_body(response: httpx.Response, *, provider: str) -> dict[str, Any]:
    """Decode a successful response's JSON object, or raise `TransientError` quoting the body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise TransientError(
            f"{provider} at {response.request.url} returned HTTP {response.status_code} with a "
            f"body that is not valid JSON ({error}): {body_excerpt(response.content)}",
            status=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise TransientError(
            f"{provider} at {response.request.url} returned a JSON {type(body).__name__} "
            f"instead of an object: {body_excerpt(response.content)}",
            status=response.status_code,
        )
    return body


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    *,
    provider: str,
    key_env: str | None,
    secrets: Iterable[str | None] = (),
) -> dict[str, Any]:
    """POST `payload` as JSON and return the decoded JSON object, or raise a `BackendError`."""
    try:
        response = await client.post(url, json=payload)
    except httpx.HTTPError as error:
        raise error_from_transport(error, provider=provider, url=url) from None

    if response.status_code >= 400:
        raise error_from_response(response, provider=provider, key_env=key_env, secrets=secrets)
    body = decode_json_body(response, provider=provider)

    # Some proxies answer 200 with an error object instead of a result.
    if "error" in body and body.get("error") and "choices" not in body and "content" not in body:
        failed = httpx.Response(500, json=body, request=response.request)
        raise error_from_response(failed, provider=provider, key_env=key_env, secrets=secrets)
    return body
