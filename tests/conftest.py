"""Suite-wide settings: isolated farm home folders, and no skipped tests in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The official Farm dataset, shared beside the repository (never committed into it).
OFFICIAL_DATASET_DIR = REPO_ROOT.parent / "shared" / "datasets" / "farm"


@pytest.fixture(autouse=True)
def _isolated_farm_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point FARM_HOME (cache, downloads) at a fresh folder so tests never touch the user's."""
    home = tmp_path_factory.mktemp("farm-home")
    monkeypatch.setenv("FARM_HOME", str(home))
    monkeypatch.delenv("FARM_CONFIG", raising=False)
    yield home


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI every optional component is installed, so a skipped test is a failure there."""
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) were skipped; CI must install every component they need.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
