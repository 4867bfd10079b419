"""Progress of a run: a live bar on a terminal, else a line every minute."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

#: Seconds between progress lines when stderr is not a terminal.
LOG_INTERVAL_S = 60.0


@dataclass
class RunCounters:
    """Counts shown in the progress line and the closing summary."""

    total: int = 0
    skipped: int = 0
    done: int = 0
    flips: int = 0
    initially_correct: int = 0
    failed: int = 0
    calls: int = 0
    cached: int = 0
    retries: int = 0
    tokens: int = 0
    retry_wait_s: float = 0.0


class RunProgress:
    """A rich progress bar fed by RunCounters."""

    def __init__(self, console: Console, counters: RunCounters, enabled: bool) -> None:
        self._counters = counters
        self._console = console
        self._enabled = enabled
        self._last = time.monotonic()
        self._progress = Progress(
            TextColumn("[bold]conversations"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            disable=not enabled,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        if self._enabled:
            self._progress.start()
            self._task = self._progress.add_task(
                "run", total=self._counters.total - self._counters.skipped, detail=""
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            self.refresh(force=True)
            self._progress.stop()

    def refresh(self, force: bool = False) -> None:
        """Redraw at most ten times a second; off a terminal, print a line every minute."""
        now = time.monotonic()
        if not self._enabled:
            if now - self._last >= LOG_INTERVAL_S:
                self._last = now
                c = self._counters
                self._console.print(
                    f"{c.done} of {c.total - c.skipped} conversations done: {c.flips} flips, "
                    f"{c.failed} failed, {c.calls} calls, {c.retries} retries",
                    highlight=False,
                )
            return
        if self._task is None:
            return
        if not force and now - self._last < 0.1:
            return
        self._last = now
        c = self._counters
        detail = (
            f"flips {c.flips}  failed {c.failed}  calls {c.calls} ({c.cached} cached)  "
            f"retries {c.retries}  tokens {c.tokens}"
        )
        if c.retry_wait_s:
            detail += f"  waited {c.retry_wait_s:.0f}s"
        self._progress.update(self._task, completed=c.done, detail=detail)
