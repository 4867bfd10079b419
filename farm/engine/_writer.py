"""A background thread that appends finished records to the run directory.

Writing and fsync happen off the event loop, so disk latency never stalls model calls.
Records queued together share one fsync (group commit).
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from farm.store import ConversationRecord, RunDir

logger = logging.getLogger(__name__)
_STOP = object()


class RecordWriter:
    """Append records from any thread; `close()` waits until every queued record is on disk."""

    def __init__(self, run_dir: RunDir) -> None:
        self._run_dir = run_dir
        self._queue: queue.Queue[object] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="farm-record-writer", daemon=True)
        self._thread.start()

    def put(self, record: ConversationRecord) -> None:
        """Queue a record; raise the writer's error if an earlier write failed."""
        if self._error is not None:
            raise self._error
        self._queue.put(record)

    def close(self) -> None:
        """Flush everything queued and stop the thread."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        path = self._run_dir.records_path
        with path.open("a", encoding="utf-8") as handle:
            while True:
                batch = [self._queue.get()]
                while True:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break

                stop = any(entry is _STOP for entry in batch)
                records = [entry for entry in batch if isinstance(entry, ConversationRecord)]
                if records and self._error is None:
                    try:
                        handle.write("".join(record.model_dump_json() + "\n" for record in records))
                        handle.flush()
                        os.fsync(handle.fileno())
                    except OSError as error:
                        logger.error("cannot write records to %s: %s", path, error)
                        self._error = error
                if stop:
                    return
