"""The response cache: replies stored in SQLite, keyed by everything that shapes the reply.

The key is the sha256 of canonical JSON of the backend's `cache_identity()`, the full message
list, every `GenerationParams` field and the sample index, so that repeated samples of the same
request stay distinct. Each insert is committed at once; in WAL mode a committed row survives a
SIGKILL of the process right after the call. Only replies are stored, never errors.

The sqlite3 calls run on the event loop thread: each is a single indexed lookup or insert that
takes tens of microseconds, far less than handing it to a worker thread would cost. A lock
makes one cache object safe to share between threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field

from farm.backends._types import ChatMessage, GenerationParams, Reply

FARM_HOME_ENV = "FARM_HOME"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    label TEXT NOT NULL,
    reply TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS replies_model ON replies (model);
CREATE INDEX IF NOT EXISTS replies_label ON replies (label);
"""


def default_cache_path() -> Path:
    """Return `$FARM_HOME/cache.sqlite`, or `cache.sqlite` in the user cache dir for farm."""
    home = os.environ.get(FARM_HOME_ENV)
    if home:
        return Path(home) / "cache.sqlite"
    return Path(platformdirs.user_cache_dir("farm")) / "cache.sqlite"


def cache_key(
    identity: dict[str, Any],
    messages: Sequence[ChatMessage],
    params: GenerationParams,
    sample: int,
) -> str:
    """Return the hex sha256 key of one request."""
    document = {
        "backend": identity,
        "messages": [[message.role, message.content] for message in messages],
        "params": params.model_dump(mode="json"),
        "sample": sample,
    }
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CacheInfo(BaseModel):
    """Size of a response cache."""

    path: Path = Field(description="SQLite file of the cache.")
    entries: int = Field(description="Stored replies.")
    size_bytes: int = Field(description="Bytes on disk, WAL file included.")


class ResponseCache:
    """Replies stored in one SQLite file (WAL mode), shared by every model client of a run."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL keeps committed rows across a process crash; only an OS crash or power
            # loss can drop the last transactions.
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.executescript(_SCHEMA)
            self._connection.commit()

    def get(self, key: str) -> Reply | None:
        """Return the stored reply of `key`, or None."""
        with self._lock:
            row = self._connection.execute(
                "SELECT reply FROM replies WHERE key = ?", (key,)
            ).fetchone()
        return Reply.model_validate_json(row[0]) if row else None

    def put(self, key: str, reply: Reply, identity: dict[str, Any], label: str = "") -> None:
        """Store `reply` under `key` and commit at once."""
        stored = reply.model_dump_json(exclude={"cached"})
        with self._lock:
            self._connection.execute(
                "INSERT OR REPLACE INTO replies (key, backend, model, label, reply, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key,
                    str(identity.get("backend", "")),
                    str(identity.get("model", "")),
                    label,
                    stored,
                    time.time(),
                ),
            )
            self._connection.commit()

    def clear(self, model: str | None = None) -> int:
        """Delete all replies, or those whose model id or model name equals `model`.

        Returns the number of replies deleted.
        """
        with self._lock:
            if model is None:
                cursor = self._connection.execute("DELETE FROM replies")
            else:
                cursor = self._connection.execute(
                    "DELETE FROM replies WHERE model = ? OR label = ?", (model, model)
                )
            self._connection.commit()
            return cursor.rowcount

    def info(self) -> CacheInfo:
        """Return the path, number of entries and size on disk."""
        with self._lock:
            (entries,) = self._connection.execute("SELECT COUNT(*) FROM replies").fetchone()
        size = sum(
            candidate.stat().st_size
            for candidate in (self.path, Path(f"{self.path}-wal"))
            if candidate.exists()
        )
        return CacheInfo(path=self.path, entries=entries, size_bytes=size)

    def models(self) -> list[tuple[str, str, int]]:
        """Return (model name, model id, entries) for every model with stored replies."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT label, model, COUNT(*) FROM replies GROUP BY label, model ORDER BY label"
            ).fetchall()
        return [(str(label), str(model), int(count)) for label, model, count in rows]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
