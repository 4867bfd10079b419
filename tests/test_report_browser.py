"""The HTML report in a real headless Chromium: numbers, transcript browser, no injection."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from farm.report import build_report
from farm.report._screenshot import CHROMIUM_ARGS
from tests.support.records import make_manifest, make_record, write_run

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
PAYLOADS = [
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=2\">",
    "</script><script>window.__pwned=3</script>",
    "<!--<script>window.__pwned=4</script>",
    "\u2028<svg onload=window.__pwned=5>",
]
ALL_PAYLOADS = "".join(PAYLOADS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class LoadedPage:
    """A report page with its console errors and every non-file request it attempted."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self._on_route)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("body[data-transcripts-ready='true']", timeout=30_000)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _on_route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def open_row(self, number: int = 0) -> str:
        self.page.locator("#conversation-list tr").nth(number).click()
        self.page.wait_for_selector("#conversation-view h3", timeout=30_000)
        return self.page.locator("#conversation-view").inner_text()


def _records() -> list:
    records = []
    for model in ("model-a", "model-b"):
        for strategy in ("repetition", "logical"):
            for item in range(5):
                flips = item < (3 if strategy == "logical" else 1)
                records.append(
                    make_record(model=model, strategy=strategy, item_id=f"NQ1-{item}",
                                question=f"Question number {item} about 지구?",
                                implicit=["correct", "misinformed"] if flips else ["correct"] * 4,
                                final=None if flips else "correct")
                )
    records.append(make_record(model="model-a", strategy="logical", item_id="NQ1-9",
                               status="failed", implicit=["correct"], error_turn=2))
    return records


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    run = write_run(folder / "run", _records(),
                    make_manifest("run-1", models=["model-a", "model-b"]))
    return build_report([run], folder / "report.html")


def test_browser_loads_without_errors_or_network(browser: Any, report_path: Path):
    loaded = LoadedPage(browser, report_path)
    assert loaded.errors == []
    assert loaded.requests == []
    loaded.page.close()


def test_browser_shows_key_numbers(browser: Any, report_path: Path):
    loaded = LoadedPage(browser, report_path)
    table = loaded.page.locator("#metrics-table").inner_text()
    # logical: 3 of 5 flipped at turn 2 -> MR@1 0%, MR@4 60%.
    assert "60.0% [23.1, 88.2]" in table
    assert "20.0% [3.6, 62.4]" in table
    assert loaded.page.locator("#failed-count").inner_text().startswith("1")
    assert loaded.page.locator("figure svg").count() == 4
    loaded.page.close()


def test_browser_opens_a_conversation(browser: Any, report_path: Path):
    loaded = LoadedPage(browser, report_path)
    assert loaded.page.locator("#match-count").inner_text() == "21 of 21 conversations"
    # Row 6 is model-a, logical, NQ1-1, which flips at turn 2.
    text = loaded.open_row(6)
    assert "model-a / NQ1 / logical" in text
    assert "Question number 1 about 지구?" in text
    assert "I believe the earth is flat." in text
    assert "verdict: misinformed (chose the target)" in text
    assert "flip: turn 2" in text
    # Role labels are upper-cased by CSS, which inner_text applies.
    labels = text.lower()
    assert "persuader, turn 1" in labels
    assert "implicit check after turn 2 (not recorded)" in labels
    assert loaded.errors == []
    loaded.page.close()


def test_browser_filters_by_outcome_and_model(browser: Any, report_path: Path):
    loaded = LoadedPage(browser, report_path)
    loaded.page.select_option("#filter-outcome", label="failed")
    assert loaded.page.locator("#match-count").inner_text() == "1 of 21 conversations"
    text = loaded.open_row(0)
    assert "server_error at turn 2" in text
    loaded.page.select_option("#filter-outcome", label="flipped")
    loaded.page.select_option("#filter-model", label="model-b")
    assert loaded.page.locator("#match-count").inner_text() == "4 of 21 conversations"
    loaded.page.fill("#filter-text", "NQ1-2")
    assert loaded.page.locator("#match-count").inner_text() == "1 of 21 conversations"
    loaded.page.close()


def test_browser_runs_no_injected_script(browser: Any, tmp_path: Path):
    record = make_record(
        model=f"m{ALL_PAYLOADS}", strategy=f"s{ALL_PAYLOADS}", subset=f"u{ALL_PAYLOADS}",
        item_id=f"i{ALL_PAYLOADS}", question=ALL_PAYLOADS, persuader=ALL_PAYLOADS,
        reply=ALL_PAYLOADS, probe_reply=ALL_PAYLOADS, implicit=["misinformed"],
        final="misinformed",
    )
    run = write_run(tmp_path / "run", [record, make_record(item_id="plain")])
    loaded = LoadedPage(browser, build_report([run], tmp_path / "report.html"))
    text = loaded.open_row(0)
    time.sleep(0.2)  # give any injected onerror/onload handler time to fire

    assert loaded.page.evaluate("typeof window.__pwned") == "undefined"
    assert loaded.page.locator("img").count() == 0
    assert loaded.page.evaluate("document.scripts.length") == 3
    for payload in PAYLOADS:
        assert payload.strip("\u2028") in text
    assert f"m{ALL_PAYLOADS}".replace("\u2028", " ") in loaded.page.locator(
        "#metrics-table"
    ).inner_text().replace("\u2028", " ")
    options = loaded.page.locator("#filter-model option").all_inner_texts()
    assert any(PAYLOADS[0] in option for option in options)
    assert loaded.errors == []
    loaded.page.close()


def test_browser_large_report(browser: Any, tmp_path: Path):
    records = []
    verdict_cycle = (["correct"] * 4, ["correct", "misinformed"], ["abstain", "misinformed"])
    for number in range(8000):
        model = f"model-{number % 4}"
        strategy = ("repetition", "logical", "credibility", "emotional")[number // 4 % 4]
        item = number // 16
        records.append(
            make_record(model=model, strategy=strategy, subset=("NQ1", "NQ2")[item % 2],
                        item_id=f"item-{item:04d}", question=f"Large question {item}?",
                        implicit=verdict_cycle[number % 3])
        )
    run = write_run(tmp_path / "run", records,
                    make_manifest("big", models=[f"model-{i}" for i in range(4)]))

    started = time.monotonic()
    path = build_report([run], tmp_path / "report.html")
    build_seconds = time.monotonic() - started
    size = path.stat().st_size
    assert size < 10 * 1024 * 1024, f"report is {size} bytes"
    assert build_seconds < 60

    started = time.monotonic()
    loaded = LoadedPage(browser, path)
    load_seconds = time.monotonic() - started
    assert load_seconds < 15
    assert loaded.page.locator("#match-count").inner_text() == "8000 of 8000 conversations"
    assert loaded.page.locator("#conversation-list tr").count() == 100
    loaded.page.click("#show-more")
    assert loaded.page.locator("#conversation-list tr").count() == 200
    loaded.page.fill("#filter-text", "Large question 499?")
    text = loaded.open_row(15)
    assert "Large question 499?" in text
    assert loaded.errors == []
    loaded.page.close()
