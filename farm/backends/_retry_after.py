"""Read how long a provider asked us to wait from the headers of a rate-limited response.

Headers understood, in order of precedence:

- `retry-after-ms`: milliseconds (OpenAI).
- `Retry-After`: seconds, or an HTTP date (RFC 9110).
- `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens`: durations in Go syntax such as
  `1s`, `6m0s` or `20ms` (OpenAI).
- `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset`: RFC 3339 times.

For the reset headers, the limits whose `remaining` header is 0 decide the wait. When no
`remaining` header says which limit was hit, the longest reset is used.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import datetime, timezone

_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_GO_UNIT_SECONDS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}

_OPENAI_LIMITS = ("requests", "tokens")
_ANTHROPIC_LIMITS = ("requests", "tokens", "input-tokens", "output-tokens")


def parse_go_duration(text: str) -> float | None:
    """Parse a Go duration such as `6m0s`, `1.5s` or `20ms` into seconds; None if invalid."""
    text = text.strip()
    if not text:
        return None
    position = 0
    total = 0.0
    for match in _GO_DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _GO_UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text):
        return None
    return total


def _seconds_until(moment: datetime, now: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())


def _parse_retry_after(value: str, now: datetime) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return _seconds_until(moment, now)


def _parse_rfc3339(value: str, now: datetime) -> float | None:
    # datetime.fromisoformat only accepts a trailing "Z" from Python 3.11 on.
    value = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return _seconds_until(moment, now)


def _pick_reset(resets: dict[str, float], exhausted: set[str]) -> float | None:
    if not resets:
        return None
    chosen = [seconds for limit, seconds in resets.items() if limit in exhausted]
    return max(chosen) if chosen else max(resets.values())


def _openai_reset(headers: Mapping[str, str]) -> float | None:
    resets: dict[str, float] = {}
    exhausted: set[str] = set()
    for limit in _OPENAI_LIMITS:
        reset = headers.get(f"x-ratelimit-reset-{limit}")
        seconds = parse_go_duration(reset) if reset else None
        if seconds is not None:
            resets[limit] = seconds
        if headers.get(f"x-ratelimit-remaining-{limit}", "").strip() == "0":
            exhausted.add(limit)
    return _pick_reset(resets, exhausted)


def _anthropic_reset(headers: Mapping[str, str], now: datetime) -> float | None:
    resets: dict[str, float] = {}
    exhausted: set[str] = set()
    for limit in _ANTHROPIC_LIMITS:
        reset = headers.get(f"anthropic-ratelimit-{limit}-reset")
        seconds = _parse_rfc3339(reset, now) if reset else None
        if seconds is not None:
            resets[limit] = seconds
        if headers.get(f"anthropic-ratelimit-{limit}-remaining", "").strip() == "0":
            exhausted.add(limit)
    return _pick_reset(resets, exhausted)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Return the wait in seconds that the headers ask for, or None when they name none.

    `headers` must look names up case-insensitively (as `httpx.Headers` does) or use lower-case
    names. `now` is the reference time for absolute dates; the current UTC time by default.
    """
    now = now or datetime.now(timezone.utc)

    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000.0)
        except ValueError:
            pass

    retry_after = headers.get("retry-after")
    if retry_after:
        seconds = _parse_retry_after(retry_after, now)
        if seconds is not None:
            return seconds

    openai = _openai_reset(headers)
    if openai is not None:
        return openai
    return _anthropic_reset(headers, now)
