"""Reports of real runs: the sample dataset with known outcomes, and HTML in data and replies."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from farm.backends import ChatMessage, GenerationParams, ModelClient, ModelSpec, ScriptedBackend
from farm.datasets import AnswerFormat, load_dataset
from farm.engine import RunConfig, Runner
from farm.metrics import wilson_interval
from farm.report import build_report
from farm.results import load_run
from tests.test_report_browser import LoadedPage, browser  # noqa: F401

CASES = Path(__file__).parent / "data" / "cases" / "datasets"
_OPTION_LINE = re.compile(r"^Option (\d+)\. (.*)$", re.MULTILINE)


def _persuasions(messages: Sequence[ChatMessage]) -> list[str]:
    return [
        m.content
        for m in messages[:-1]
        if m.role == "user" and not m.content.startswith("Question:")
    ]


def scripted_believer(dataset: str) -> ScriptedBackend:
    """A model whose behaviour is known per item and strategy.

    It answers every "capital" question wrongly at turn 0 and every other one correctly. It
    gives in after its second appeal (turn 3 of an appeal strategy) and never to repetition.
    """
    items = {item.question: item for item in load_dataset(dataset).items}

    def respond(messages: Sequence[ChatMessage], params: GenerationParams) -> str:
        last = messages[-1].content
        if not last.startswith("Question:"):
            return "<b>I</b> disagree <script>window.__pwned=9</script>"
        question = last.split("\n", 1)[0].removeprefix("Question: ")
        item = next(item for text, item in items.items() if question.startswith(text))
        appeals = sum("Therefore, we have to accept" in m for m in _persuasions(messages))
        wrong = appeals >= 2 or ("capital" in item.question and not _persuasions(messages))
        if item.format is AnswerFormat.YES_NO:
            if not wrong:
                return item.answer.title()
            return "No." if item.answer == "yes" else "Yes."
        shown = {text: int(n) for n, text in _OPTION_LINE.findall(last)}
        if wrong:
            return f"Option {next(n for t, n in shown.items() if t != item.answer)}"
        return f"Option {shown[item.answer]}"

    return ScriptedBackend(respond)


async def _run(dataset: str, folder: Path) -> Path:
    spec = ModelSpec(name="scripted", backend="scripted", model="believer", max_concurrency=4)
    client = ModelClient(spec, scripted_believer(dataset))
    config = RunConfig(models=["scripted"], datasets=[dataset])
    runner = Runner(
        config,
        run_dir=folder,
        cache=None,
        console=Console(quiet=True),
        progress=False,
        clients={"scripted": client},
    )
    await runner.run()
    return folder


async def test_sample_report_matches_hand_counts(tmp_path: Path) -> None:
    run = await _run("sample", tmp_path / "run")
    items = load_dataset("sample").items
    n = len(items)
    n_0 = sum("capital" not in item.question for item in items)

    metrics = load_run(run).metrics(level="subset").set_index("strategy")
    html = build_report([run], tmp_path / "report.html").read_text(encoding="utf-8")

    assert (n, n_0) == (24, 19)
    for strategy in ("repetition", "logical", "credibility", "emotional"):
        row = metrics.loc[strategy]
        assert row["n"] == n
        assert row["n_0"] == n_0
        assert row["acc@0"] == pytest.approx(n_0 / n)
        assert row["mr@1"] == 0
        assert row["mr@2"] == 0
    for strategy in ("logical", "credibility", "emotional"):
        assert metrics.loc[strategy, "mr@3"] == 1.0
        assert metrics.loc[strategy, "mr@4"] == 1.0
        assert metrics.loc[strategy, "mean_flip_turn"] == 3.0
    assert metrics.loc["repetition", "mr@4"] == 0

    low, high = wilson_interval(n_0, n)
    assert f"{n_0 / n * 100:.1f}% [{low * 100:.1f}, {high * 100:.1f}]" in html
    low, high = wilson_interval(n_0, n_0)
    assert f"100.0% [{low * 100:.1f}, {high * 100:.1f}]" in html


def test_html_payload_renders_literally(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    # Playwright's sync API keeps an event loop in this thread, so the run gets its own thread.
    dataset = str(CASES / "html_payload.jsonl")
    with ThreadPoolExecutor(max_workers=1) as pool:
        run = pool.submit(asyncio.run, _run(dataset, tmp_path / "run")).result()
    loaded = LoadedPage(browser, build_report([run], tmp_path / "report.html"))
    text = loaded.open_row(0)
    time.sleep(0.2)  # give any injected handler time to fire

    question = json.loads((CASES / "html_payload.jsonl").read_text(encoding="utf-8"))["question"]
    assert loaded.page.evaluate("typeof window.__pwned") == "undefined"
    assert loaded.page.evaluate("typeof window.alert_called") == "undefined"
    assert loaded.page.locator("img").count() == 0
    assert question in text
    assert "<b>I</b> disagree <script>window.__pwned=9</script>" in text
    assert loaded.errors == []
    loaded.page.close()
