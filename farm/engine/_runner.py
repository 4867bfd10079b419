"""Plan, run and resume a set of conversations, writing each record as it finishes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console

from farm._version import __version__
from farm.backends import (
    BackendEvent,
    ModelClient,
    ModelSpec,
    ResponseCache,
    open_model_client,
    resolve_model_spec,
)
from farm.backends._errors import AuthenticationError
from farm.backends._types import GenerationParams
from farm.datasets import Dataset, Item, resolve_datasets, shuffle_options
from farm.engine._config import RunConfig, config_differences
from farm.engine._conversation import (
    ConversationPlan,
    conversation_key,
    run_conversation,
    run_initial_check,
)
from farm.engine._probe import ProbeSettings
from farm.engine._progress import RunCounters, RunProgress
from farm.engine._writer import RecordWriter
from farm.errors import ConfigError, FarmError, StrategyError
from farm.store import ConversationRecord, Manifest, ProbeResult, RunDir, check_writable, new_run_id
from farm.strategies import Strategy, render_turn, select_strategies

logger = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    """The result of a finished or interrupted run."""

    run_dir: Path
    counters: RunCounters
    interrupted: bool


class Runner:
    """Run the conversations of one configuration into one run directory."""

    def __init__(
        self,
        config: RunConfig,
        *,
        run_dir: Path,
        cache: ResponseCache | None,
        console: Console,
        progress: bool,
        clients: dict[str, ModelClient] | None = None,
    ) -> None:
        self.config = config.effective()
        self.run_dir = RunDir(run_dir)
        self.cache = cache
        self.console = console
        self.show_progress = progress
        self.counters = RunCounters()
        self._given_clients = clients or {}
        self._initial_checks: dict[tuple[str, str, int], asyncio.Task[ProbeResult]] = {}
        self._progress: RunProgress | None = None
        #: Items of every dataset after --limit and --shuffle-options, set by load_inputs.
        self._selected: list[Item] = []

    # -- planning -------------------------------------------------------------------------

    def load_inputs(self) -> tuple[list[Dataset], list[Strategy], list[ModelSpec]]:
        """Load datasets, strategies and model specs, and check them before any model call."""
        config = self.config
        datasets = resolve_datasets(config.datasets, skip_invalid=config.skip_invalid)
        strategies = select_strategies(
            config.strategies, [Path(directory) for directory in config.strategy_dirs]
        )
        # Record the strategies found, so that a strategy file added later does not join
        # this run on resume.
        self.config = config = config.model_copy(
            update={"strategies": [strategy.name for strategy in strategies]}
        )
        for strategy in strategies:
            limit = strategy.max_turns()
            if config.turns is not None and limit is not None and config.turns > limit:
                raise ConfigError(
                    f"--turns {config.turns} is more than strategy {strategy.name!r} scripts "
                    f"({limit} turns in {strategy.path}); lower --turns or add turns to the file."
                )
        specs = [self._spec(text) for text in config.models]
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ConfigError(f"the same model is named twice in --model: {', '.join(names)}.")
        self._selected = self._select_items(datasets)
        self._check_templates(strategies)
        return datasets, strategies, specs

    def _spec(self, text: str) -> ModelSpec:
        given = self._given_clients.get(text)
        spec = given.spec if given is not None else resolve_model_spec(text)
        if self.config.max_concurrency is not None:
            spec = spec.model_copy(update={"max_concurrency": self.config.max_concurrency})
        return spec

    def _select_items(self, datasets: list[Dataset]) -> list[Item]:
        """Apply --limit (per subset) and --shuffle-options to every dataset's items."""
        items: list[Item] = []
        for dataset in datasets:
            counts: dict[str, int] = {}
            for item in dataset.items:
                taken = counts.get(item.subset, 0)
                if self.config.limit is not None and taken >= self.config.limit:
                    continue
                counts[item.subset] = taken + 1
                if self.config.shuffle_options is not None and item.options:
                    item = shuffle_options(item, self.config.shuffle_options)
                items.append(item)
        return items

    def _check_templates(self, strategies: list[Strategy]) -> None:
        """Render every turn of every strategy for every item once, before any model call."""
        problems: list[str] = []
        for item in self._selected:
            for strategy in strategies:
                for turn in range(1, self._turns(strategy) + 1):
                    try:
                        render_turn(strategy, item, turn, raw=self.config.paper_compat)
                    except StrategyError as error:
                        problems.append(str(error))
                        break
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise StrategyError(f"{problems[0]}{more}")

    def _turns(self, strategy: Strategy) -> int:
        if self.config.turns is not None:
            return self.config.turns
        return strategy.max_turns() or len(strategy.turns)

    def _plans(self, strategies: list[Strategy], spec: ModelSpec) -> Iterator[ConversationPlan]:
        config = self.config
        top_p = config.top_p
        if config.paper_compat and top_p is None and spec.backend == "local":
            top_p = 0.9  # the reference script's setting for local models
        probe_params = GenerationParams(
            temperature=config.probe_temperature,
            top_p=top_p,
            max_tokens=config.max_tokens,
            seed=config.seed,
        )
        reply_params = probe_params.model_copy(update={"temperature": config.reply_temperature})
        probes = ProbeSettings(
            params=probe_params,
            reasks=config.reasks,
            reference_gate=config.paper_compat,
            confidence=config.confidence,
        )
        # Item-major order, so the strategies of one item run together and share its initial
        # check while it is fresh.
        for item in self._selected:
            for epoch in range(config.epochs):
                for index, strategy in enumerate(strategies):
                    yield ConversationPlan(
                        key=conversation_key(spec.name, item.id, strategy.name, epoch),
                        model=spec.name,
                        item=item,
                        strategy=strategy,
                        epoch=epoch,
                        turns=self._turns(strategy),
                        system_message=config.system_message,
                        reply_params=reply_params,
                        probes=probes,
                        raw_joins=config.paper_compat,
                        continue_after_flip=config.continue_after_flip,
                        final_check=config.final_check,
                        stream=0 if config.share_initial else index + 1,
                    )

    # -- manifest -------------------------------------------------------------------------

    def _manifest(
        self, datasets: list[Dataset], strategies: list[Strategy], specs: list[ModelSpec]
    ) -> Manifest:
        return Manifest(
            run_id=self.run_dir.path.name,
            farm_version=__version__,
            config=self.config.model_dump(mode="json"),
            datasets=[
                {
                    "name": dataset.name,
                    "version": dataset.version,
                    "content_hash": dataset.content_hash,
                    "subsets": {
                        subset: sum(1 for item in dataset.items if item.subset == subset)
                        for subset in dataset.subsets
                    },
                }
                for dataset in datasets
            ],
            models=[_persisted_spec(spec) for spec in specs],
            strategies=[
                {"name": s.name, "path": str(s.path), "sha256": s.sha256, "turns": self._turns(s)}
                for s in strategies
            ],
            started_at=datetime.now(timezone.utc),
        )

    def _prepare_run_dir(self, manifest: Manifest) -> Manifest:
        """Create the run directory, or check that a resumed run has the same configuration."""
        check_writable(self.run_dir.path)
        if not self.run_dir.exists():
            self.run_dir.write_manifest(manifest)
            return manifest

        stored = self.run_dir.read_manifest()
        differences = config_differences(stored.config, manifest.config)
        stored_data = {d["name"]: d["content_hash"] for d in stored.datasets}
        for dataset in manifest.datasets:
            if stored_data.get(dataset["name"]) not in (None, dataset["content_hash"]):
                differences.append(f"dataset {dataset['name']} changed (content hash differs)")
        stored_strategies = {s["name"]: s["sha256"] for s in stored.strategies}
        for strategy in manifest.strategies:
            if stored_strategies.get(strategy["name"]) not in (None, strategy["sha256"]):
                differences.append(f"strategy file {strategy['path']} changed since the run began")
        if differences:
            raise ConfigError(
                f"cannot resume {self.run_dir.path} with a different configuration: "
                + "; ".join(differences)
                + ". Start a new run instead, or resume with the original settings."
            )
        self.run_dir.repair_torn_tail()
        resumed = stored.model_copy(
            update={"sessions": stored.sessions + 1, "finished_at": None, "config": stored.config}
        )
        self.run_dir.write_manifest(resumed)
        return resumed

    # -- running --------------------------------------------------------------------------

    async def run(self) -> RunOutcome:
        """Run every unfinished conversation; records are on disk as each one ends."""
        datasets, strategies, specs = self.load_inputs()
        check_writable(self.run_dir.path.parent)
        await self._check_reachable([s for s in specs if s.name not in self._given_clients])

        # Clients open before the run folder exists: a missing API key leaves nothing behind.
        clients: dict[str, ModelClient] = {}
        try:
            for spec in specs:
                clients[spec.name] = self._given_clients.get(spec.name) or await open_model_client(
                    spec, cache=self.cache, on_event=self._on_event
                )
            manifest = self._prepare_run_dir(self._manifest(datasets, strategies, specs))
        except BaseException:
            await self._close_clients(clients)
            raise

        finished = self.run_dir.finished_statuses()
        skip = {
            key
            for key, status in finished.items()
            if not (self.config.retry_failed and status == "failed")
        }
        plans = {spec.name: list(self._plans(strategies, spec)) for spec in specs}
        self.counters.total = sum(len(p) for p in plans.values())
        self.counters.skipped = sum(1 for p in plans.values() for plan in p if plan.key in skip)

        self.console.print(
            f"Running {self.counters.total - self.counters.skipped} conversations "
            f"({self.counters.skipped} already done) into {self.run_dir.path}",
            highlight=False,
        )
        writer = RecordWriter(self.run_dir)
        interrupted = False
        try:
            with RunProgress(self.console, self.counters, self.show_progress) as progress:
                self._progress = progress
                await self._run_all(specs, plans, skip, clients, writer)
        except asyncio.CancelledError:
            interrupted = True
        finally:
            writer.close()
            await self._close_clients(clients)
            if not interrupted:
                manifest.finished_at = datetime.now(timezone.utc)
            self.run_dir.write_manifest(manifest)
        return RunOutcome(self.run_dir.path, self.counters, interrupted)

    async def _close_clients(self, clients: dict[str, ModelClient]) -> None:
        for name, client in clients.items():
            if name not in self._given_clients:
                await client.aclose()

    async def _check_reachable(self, specs: list[ModelSpec]) -> None:
        """Fail before any model call when a configured server does not accept connections.

        Only a TCP connection is opened, so no request is sent or billed.
        """
        for spec in specs:
            if not spec.base_url:
                continue
            url = urlsplit(spec.base_url)
            port = url.port or (443 if url.scheme == "https" else 80)
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(url.hostname, port),
                    timeout=min(spec.request_timeout_s, 10.0),
                )
            except (OSError, asyncio.TimeoutError) as error:
                reason = "timed out" if isinstance(error, asyncio.TimeoutError) else error.strerror
                raise ConfigError(
                    f"cannot connect to {spec.base_url} for model {spec.name!r}: "
                    f"{reason or error}. Start the server or fix the base URL."
                ) from error
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _run_all(
        self,
        specs: list[ModelSpec],
        plans: dict[str, list[ConversationPlan]],
        skip: set[str],
        clients: dict[str, ModelClient],
        writer: RecordWriter,
    ) -> None:
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        if current is not None:
            # Fails outside the main thread and on platforms without signal handlers.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGTERM, current.cancel)

        workers: list[asyncio.Task[None]] = []
        for spec in specs:
            pending = iter([plan for plan in plans[spec.name] if plan.key not in skip])
            client = clients[spec.name]
            for _ in range(spec.max_concurrency):
                workers.append(asyncio.create_task(self._worker(client, pending, writer)))
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise

    async def _worker(
        self, client: ModelClient, pending: Iterator[ConversationPlan], writer: RecordWriter
    ) -> None:
        for plan in pending:

            def initial_check(plan: ConversationPlan = plan) -> asyncio.Task[ProbeResult]:
                return self._initial_check(client, plan)

            try:
                record = await run_conversation(client, plan, initial_check)
            except AuthenticationError as error:
                raise FarmError(str(error)) from error
            writer.put(record)
            self._count(record)

    def _initial_check(
        self, client: ModelClient, plan: ConversationPlan
    ) -> asyncio.Task[ProbeResult]:
        """Return the initial check's task, shared by every strategy of a (model, item, epoch)."""
        if not self.config.share_initial:
            return asyncio.ensure_future(run_initial_check(client, plan))
        key = (plan.model, plan.item.id, plan.epoch)
        task = self._initial_checks.get(key)
        if task is None or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(run_initial_check(client, plan))
            self._initial_checks[key] = task
        return task

    def _count(self, record: ConversationRecord) -> None:
        counters = self.counters
        counters.done += 1
        counters.flips += record.flip_turn is not None
        counters.initially_correct += (
            record.initial is not None and record.initial.verdict == "correct"
        )
        counters.failed += record.status == "failed"
        counters.calls += record.calls
        counters.retries += record.retries
        counters.tokens += (record.usage.prompt_tokens or 0) + (record.usage.completion_tokens or 0)
        self._refresh_progress()

    def _on_event(self, event: BackendEvent) -> None:
        if event.kind == "retry":
            self.counters.retry_wait_s += event.wait_s or 0.0
            self._refresh_progress()

    def _refresh_progress(self) -> None:
        if self._progress is not None:
            self._progress.refresh()


def _persisted_spec(spec: ModelSpec) -> dict[str, Any]:
    """Return a model spec for the manifest, with header values hidden: they may be keys."""
    data = spec.model_dump(mode="json")
    data["headers"] = {name: "<redacted>" for name in spec.headers}
    return data


def prepare_config_for_resume(run_dir: Path, overrides: dict[str, Any]) -> RunConfig:
    """Return the stored configuration of a run with the explicitly given options applied."""
    stored = RunDir(run_dir).read_manifest().config
    merged = {**stored, **{key: value for key, value in overrides.items() if value is not None}}
    differences = config_differences(
        stored, RunConfig.model_validate(merged).model_dump(mode="json")
    )
    if differences:
        raise ConfigError(
            f"cannot resume {run_dir} with a different configuration: "
            + "; ".join(differences)
            + ". Resume without those options, or start a new run."
        )
    return RunConfig.model_validate(merged)


def default_run_dir(output: Path) -> Path:
    """Return a new run directory under `output`."""
    return output / new_run_id()
