"""`download_farm` against a static file server on 127.0.0.1: checksums, redirects, atomicity."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from farm.datasets import download_farm, farm_data_dir, is_installed, load_dataset
from farm.errors import DatasetError

OFFICIAL_DIR = Path(__file__).parents[1].parent / "shared" / "datasets" / "farm"


class _Handler(SimpleHTTPRequestHandler):
    """Serves files; paths under /redirect-away/ answer 302 to another host."""

    requested: list[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        if self.path.startswith("/redirect-away/"):
            self.send_response(302)
            self.send_header("Location", "http://downloads.example.invalid/Boolq.jsonl")
            self.end_headers()
            return
        if self.path.startswith("/redirect-here/"):
            self.send_response(301)
            self.send_header("Location", "/files/" + self.path.rsplit("/", 1)[1])
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _serve(root: Path) -> Iterator[tuple[str, list[str]]]:
    requested: list[str] = []
    handler = type("Handler", (_Handler,), {"requested": requested})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, list[str], Path]]:
    if not (OFFICIAL_DIR / "Boolq.jsonl").is_file():
        pytest.skip(f"the official Farm files are not in {OFFICIAL_DIR}")
    root = tmp_path / "www"
    shutil.copytree(OFFICIAL_DIR, root / "files")
    shutil.copytree(OFFICIAL_DIR, root / "tampered")
    with (root / "tampered" / "NQ2.jsonl").open("ab") as handle:
        handle.write(b"\n")
    (root / "partial").mkdir()
    shutil.copy(OFFICIAL_DIR / "Boolq.jsonl", root / "partial" / "Boolq.jsonl")
    with _serve(root) as (url, requested):
        yield url, requested, root


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.parent.iterdir()) if directory.parent.exists() else []


def test_download_installs_verified_files(served: tuple[str, list[str], Path]) -> None:
    url, requested, _ = served
    reported: list[str] = []
    target = download_farm(base_url=f"{url}/files/", report=reported.append)

    assert target == farm_data_dir()
    assert is_installed(target)
    assert reported == ["Boolq.jsonl", "NQ1.jsonl", "NQ2.jsonl", "TruthfulQA.jsonl"]
    assert (target / "SOURCE.json").is_file()
    assert _leftovers(target) == ["farm"]
    assert len(load_dataset("farm").items) == 1952
    assert len(requested) == 4


def test_download_skips_when_installed(served: tuple[str, list[str], Path]) -> None:
    url, requested, _ = served
    download_farm(base_url=f"{url}/files")
    download_farm(base_url=f"{url}/files")
    assert len(requested) == 4

    download_farm(base_url=f"{url}/files", force=True)
    assert len(requested) == 8
    assert _leftovers(farm_data_dir()) == ["farm"]


def test_download_tampered_file_installs_nothing(served: tuple[str, list[str], Path]) -> None:
    url, _, _ = served
    with pytest.raises(DatasetError, match=r"checksum mismatch for NQ2.jsonl") as caught:
        download_farm(base_url=f"{url}/tampered/")
    assert "nothing was installed" in str(caught.value)
    assert not farm_data_dir().exists()
    assert _leftovers(farm_data_dir()) == []


def test_download_tampered_keeps_previous_install(served: tuple[str, list[str], Path]) -> None:
    url, _, _ = served
    target = download_farm(base_url=f"{url}/files/")
    with pytest.raises(DatasetError, match=r"checksum mismatch"):
        download_farm(base_url=f"{url}/tampered/", force=True)
    assert is_installed(target)
    assert _leftovers(target) == ["farm"]


def test_download_missing_file_names_it(served: tuple[str, list[str], Path]) -> None:
    url, _, _ = served
    with pytest.raises(DatasetError, match=r"download of NQ1.jsonl failed: HTTP 404"):
        download_farm(base_url=f"{url}/partial/")
    assert _leftovers(farm_data_dir()) == []


def test_download_redirect_to_other_host_rejected(served: tuple[str, list[str], Path]) -> None:
    url, requested, _ = served
    with pytest.raises(
        DatasetError, match=r"rejected a redirect .* to http://downloads.example.invalid"
    ):
        download_farm(base_url=f"{url}/redirect-away/")
    assert requested == ["/redirect-away/Boolq.jsonl"]
    assert _leftovers(farm_data_dir()) == []


def test_download_redirect_same_host_followed(served: tuple[str, list[str], Path]) -> None:
    url, requested, _ = served
    target = download_farm(base_url=f"{url}/redirect-here/")
    assert is_installed(target)
    assert requested[:2] == ["/redirect-here/Boolq.jsonl", "/files/Boolq.jsonl"]


def test_download_refused_connection_names_file(tmp_path: Path) -> None:
    # A port that was open a moment ago and is closed now, on our own loopback address.
    with _serve(tmp_path) as (url, _):
        pass
    with pytest.raises(DatasetError, match=r"download of Boolq.jsonl from .* failed"):
        download_farm(tmp_path / "dest", base_url=url, timeout=5)
    assert not (tmp_path / "dest").exists()
