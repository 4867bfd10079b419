"""The `scripted` backend: canned replies for tests and dry runs, no model involved.

In Python, `ScriptedBackend(responder)` calls `responder(messages, params)` for every request.
The responder returns the reply text or a full `Reply`, and may be a coroutine function.

The spec `scripted:PATH` reads rules from a JSON or TOML file::

    # rules.toml
    default = "I am not sure."      # optional: reply when no rule matches

    [[rules]]
    match = "Option"                # regex searched in the last user message
    reply = "Option 2"

    [[rules]]
    match = "(?i)i believe"
    reply = ["I disagree.", "You may be right."]   # a list is replied in order, then cycled

The JSON form is the same data: `{"default": ..., "rules": [{"match": ..., "reply": ...}]}`,
or just the list of rules. Rules are tried in file order and the first match wins. A rule
without `match` matches every message. When nothing matches and there is no `default`, the
call raises `RequestRejectedError`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from farm.backends._errors import RequestRejectedError
from farm.backends._spec import ModelSpec
from farm.backends._types import ChatMessage, GenerationParams, Reply
from farm.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ResponderResult = str | Reply
#: A function that produces the reply to a message list, synchronously or as a coroutine.
Responder = Callable[
    [Sequence[ChatMessage], GenerationParams], ResponderResult | Awaitable[ResponderResult]
]


class ScriptedBackend:
    """A backend whose replies come from a Python function."""

    def __init__(self, responder: Responder, *, name: str = "scripted") -> None:
        self._responder = responder
        self.name = name
        #: Every message list received, in call order, for assertions in tests.
        self.requests: list[list[ChatMessage]] = []

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> Reply:
        """Return the responder's reply to `messages`."""
        self.requests.append(list(messages))
        result = self._responder(messages, params)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Reply):
            return result
        return Reply(text=str(result), finish_reason="stop")

    async def aclose(self) -> None:
        """Nothing to release."""

    def cache_identity(self) -> dict[str, Any]:
        """Identify the backend in cache keys by its name."""
        return {"backend": "scripted", "model": self.name}


@dataclass
class ScriptRule:
    """One rule of a script file: a pattern and the replies it gives, cycled."""

    pattern: re.Pattern[str] | None
    replies: list[str]
    uses: int = field(default=0)

    def next_reply(self) -> str:
        reply = self.replies[self.uses % len(self.replies)]
        self.uses += 1
        return reply


def _last_user_message(messages: Sequence[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


class ScriptFile:
    """Rules read from a script file, used as the responder of a `ScriptedBackend`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ConfigError(
                f"Cannot read the script file {path}: {error.strerror}. Check the path after "
                "`scripted:`."
            ) from None
        self.sha256 = hashlib.sha256(raw).hexdigest()
        data = self._parse(raw)
        self.default: str | None = None
        self.rules = self._read_rules(data)

    def _parse(self, raw: bytes) -> Any:
        text = raw.decode("utf-8")
        try:
            if self.path.suffix.lower() == ".toml":
                return tomllib.loads(text)
            return json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
            raise ConfigError(f"The script file {self.path} is not valid: {error}.") from None

    def _read_rules(self, data: Any) -> list[ScriptRule]:
        if isinstance(data, dict):
            default = data.get("default")
            if default is not None and not isinstance(default, str):
                raise ConfigError(f"{self.path}: `default` must be a string, not {default!r}.")
            self.default = default
            data = data.get("rules", [])
        if not isinstance(data, list):
            raise ConfigError(f"{self.path}: `rules` must be a list of {{match, reply}} tables.")

        rules = []
        for number, entry in enumerate(data, start=1):
            rules.append(self._read_rule(number, entry))
        if not rules and self.default is None:
            raise ConfigError(f"{self.path}: the script has no rules and no default reply.")
        return rules

    def _read_rule(self, number: int, entry: Any) -> ScriptRule:
        where = f"{self.path}: rule {number}"
        if not isinstance(entry, dict) or "reply" not in entry:
            raise ConfigError(f"{where} must be a table with a `reply` (and optional `match`).")
        unknown = set(entry) - {"match", "reply"}
        if unknown:
            raise ConfigError(
                f"{where} has unknown field(s) {', '.join(sorted(unknown))}; "
                "valid fields: match, reply."
            )

        replies = entry["reply"]
        if isinstance(replies, str):
            replies = [replies]
        if not replies or not all(isinstance(reply, str) for reply in replies):
            raise ConfigError(f"{where}: `reply` must be a string or a non-empty list of strings.")

        pattern = None
        if entry.get("match") is not None:
            try:
                pattern = re.compile(str(entry["match"]))
            except re.error as error:
                raise ConfigError(
                    f"{where}: `match` {entry['match']!r} is not a valid regex: {error}."
                ) from None
        return ScriptRule(pattern=pattern, replies=list(replies))

    def __call__(self, messages: Sequence[ChatMessage], params: GenerationParams) -> str:
        last = _last_user_message(messages)
        for rule in self.rules:
            if rule.pattern is None or rule.pattern.search(last):
                return rule.next_reply()
        if self.default is not None:
            return self.default
        raise RequestRejectedError(
            f"No rule of the script {self.path} matches the message {last[:80]!r}; add a rule "
            "or a `default` reply."
        )


class ScriptFileBackend(ScriptedBackend):
    """A `ScriptedBackend` driven by a script file; its cache identity includes the file hash."""

    def __init__(self, path: Path, *, name: str) -> None:
        self.script = ScriptFile(path)
        super().__init__(self.script, name=name)

    def cache_identity(self) -> dict[str, Any]:
        """Identify the backend by script path and content hash."""
        return {"backend": "scripted", "model": str(self.script.path), "sha256": self.script.sha256}


def create_scripted_backend(spec: ModelSpec) -> ScriptFileBackend:
    """Build the backend of a `scripted:PATH` spec."""
    return ScriptFileBackend(Path(spec.model), name=spec.name)
