"""Run `python -m farm` as a subprocess, the way a user runs it, for reliability tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

#: Maximum run time of one farm command in these tests, in seconds. A hang fails the test.
COMMAND_TIMEOUT_S = 120


def farm_env(home: Path, **extra: str) -> dict[str, str]:
    """Return an environment with FARM_HOME at `home`, no API keys and no config file."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "FARM_CONFIG", "FARM_DEBUG")
    }
    env["FARM_HOME"] = str(home)
    env.update(extra)
    return env


def run_farm(
    *args: str, env: dict[str, str], timeout: float = COMMAND_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run `python -m farm ARGS` from the repository root and return its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "farm", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def start_farm(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `python -m farm ARGS` in the background, with stdout and stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "farm", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def closed_port() -> int:
    """Reserve a free port on 127.0.0.1 and close it again, so nothing listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def error_lines(stderr: str) -> list[str]:
    """Return the lines of `stderr` that start a farm error message (`error: ...`)."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def one_paragraph(text: str) -> str:
    """Join lines wrapped by the console into one line, for checks on message content."""
    return " ".join(text.split())


def unwrapped(text: str) -> str:
    """Remove the line breaks of `text`, so that a path the console wrapped reads whole again.

    The console keeps the space before a break, so words stay apart.
    """
    return text.replace("\n", "")
