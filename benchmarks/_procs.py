"""Start the stub server and run measured child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


@dataclass
class Measured:
    """Wall time and resource usage of one finished child process."""

    command: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    stdout: str
    stderr: str


def run_measured(
    command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run `command` to the end and read its own CPU time and peak RSS with wait4.

    wait4 reports the usage of that one child (and of its waited-for children), so the
    stub server's CPU, which runs in a sibling process, is not counted.
    """
    out_path = HERE / "out" / ".child_stdout"
    err_path = HERE / "out" / ".child_stderr"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        command=command,
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


class Stub:
    """A running stub server process on 127.0.0.1."""

    def __init__(self, *, dataset: str, latency_ms: float, reply_chars: int, wrong_rate: float):
        self.process = subprocess.Popen(
            [
                PYTHON,
                str(HERE / "stub_server.py"),
                "--dataset", dataset,
                "--latency-ms", str(latency_ms),
                "--reply-chars", str(reply_chars),
                "--wrong-rate", str(wrong_rate),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the stub server exited before printing its port")
        self.port = int(json.loads(line)["port"])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def set_latency(self, latency_ms: float) -> None:
        self._call("POST", "/config", {"latency_ms": latency_ms})

    def reset(self) -> None:
        self._call("POST", "/reset", {})

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/stats")
        return result

    def cpu_s(self) -> float:
        """CPU seconds the stub process has used so far (user + system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
