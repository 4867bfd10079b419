"""Download the official Farm files, check their sha256 and install them atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from farm.datasets._official import FARM_BASE_URL, FARM_COMMIT, FARM_FILES
from farm.datasets._resolve import farm_data_dir
from farm.errors import DatasetError

logger = logging.getLogger("farm.datasets")

#: Largest file accepted, in bytes; the official files are 2 to 2.6 MB each.
MAX_FILE_BYTES = 64 * 1024 * 1024
_MAX_REDIRECTS = 5
_MANIFEST = "SOURCE.json"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_installed(directory: Path) -> bool:
    """Return True when the directory contains all four files with their pinned sha256."""
    return all(
        (directory / name).is_file() and _sha256(directory / name) == sha256
        for name, sha256, _ in FARM_FILES.values()
    )


def _fetch(client: httpx.Client, url: httpx.URL, target: Path) -> str:
    """Stream one URL into `target` and return the sha256 of the bytes written.

    Redirects are followed by hand so that one to another scheme, host or port is rejected
    before any request goes there.
    """
    allowed = _origin(url)
    for _ in range(_MAX_REDIRECTS + 1):
        with client.stream("GET", url) as response:
            if response.is_redirect:
                location = url.join(response.headers.get("location", ""))
                if _origin(location) != allowed:
                    raise DatasetError(
                        f"rejected a redirect from {url} to {location.scheme}://{location.host}: "
                        f"downloads may only come from {allowed[0]}://{allowed[1]}; "
                        "check --base-url"
                    )
                url = location
                continue
            if response.status_code != 200:
                raise DatasetError(
                    f"download of {target.name} failed: HTTP {response.status_code} from {url}"
                )

            digest = hashlib.sha256()
            size = 0
            with target.open("wb") as handle:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        raise DatasetError(
                            f"download of {target.name} failed: larger than "
                            f"{MAX_FILE_BYTES} bytes, which no Farm file is"
                        )
                    digest.update(chunk)
                    handle.write(chunk)
            return digest.hexdigest()
    raise DatasetError(f"download of {target.name} failed: more than {_MAX_REDIRECTS} redirects")


def _download_into(
    directory: Path, base_url: str, timeout: float, report: Callable[[str], None]
) -> None:
    base = httpx.URL(base_url.rstrip("/") + "/")
    if base.scheme not in ("http", "https"):
        raise DatasetError(f"invalid --base-url {base_url!r}; expected an http or https URL")

    with httpx.Client(follow_redirects=False, timeout=timeout) as client:
        for name, expected, _ in FARM_FILES.values():
            url = base.join(name)
            try:
                actual = _fetch(client, url, directory / name)
            except httpx.HTTPError as error:
                raise DatasetError(
                    f"download of {name} from {url} failed: {error}; check the network "
                    "connection or --base-url, then retry"
                ) from error
            if actual != expected:
                raise DatasetError(
                    f"checksum mismatch for {name} from {url}: expected sha256 {expected}, "
                    f"got {actual}; nothing was installed"
                )
            report(name)

    manifest = {
        "commit": FARM_COMMIT,
        "base_url": str(base),
        "files": {name: sha256 for name, sha256, _ in FARM_FILES.values()},
    }
    (directory / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def download_farm(
    dest: Path | None = None,
    *,
    base_url: str = FARM_BASE_URL,
    timeout: float = 60.0,
    force: bool = False,
    report: Callable[[str], None] = lambda name: None,
) -> Path:
    """Download the four official Farm files into `dest` and return the directory.

    `dest` defaults to `$FARM_HOME/datasets/farm` (or the platform's user data dir). Files go
    to a temporary directory beside `dest`, each is checked against its pinned sha256, and
    only then does the directory replace `dest`, so a failure leaves no partial install.
    An install whose files already match is kept unless `force` is set. `report` is called
    with each file name after it is verified.
    """
    dest = (dest or farm_data_dir()).expanduser()
    if not force and is_installed(dest):
        logger.info("the Farm dataset is already installed in %s", dest)
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-download-", dir=dest.parent))
    try:
        _download_into(staging, base_url, timeout, report)
        if dest.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{dest.name}-old-", dir=dest.parent))
            dest.rename(retired / dest.name)
            staging.rename(dest)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

    logger.info("installed the Farm dataset (commit %s) in %s", FARM_COMMIT[:12], dest)
    return dest
