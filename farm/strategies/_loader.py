"""Find and load strategy files (TOML) from the built-in and user strategy directories."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from farm.errors import StrategyError
from farm.strategies._model import Strategy, TurnTemplate
from farm.strategies._render import check_template

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

logger = logging.getLogger(__name__)

#: Environment variable with extra strategy directories, separated like PATH.
STRATEGIES_ENV = "FARM_STRATEGIES"
_ALLOWED_KEYS = {"name", "description", "aliases", "turns", "repeat"}
#: The Farm protocol's four strategies (Xu et al., ACL 2024) come first, in its order.
_PAPER_ORDER = ("repetition", "logical", "credibility", "emotional")


def builtin_strategies_dir() -> Path:
    """Return the folder of the four built-in strategies.

    `farm/_bundled/strategies` links to the repository's top-level `strategies/` folder in a
    source checkout, and wheels carry a copy of it.
    """
    return Path(__file__).resolve().parents[1] / "_bundled" / "strategies"


def strategy_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    """Return the directories searched, lowest priority first: built-in, ./strategies, extras."""
    candidates = [builtin_strategies_dir(), Path.cwd() / "strategies"]
    candidates += [
        Path(part) for part in os.environ.get(STRATEGIES_ENV, "").split(os.pathsep) if part
    ]
    candidates += list(extra)

    unique: list[Path] = []
    for directory in candidates:
        resolved = directory.resolve()
        if resolved.is_dir() and resolved not in unique:
            unique.append(resolved)
    return unique


def _template_lines(text: str, sources: Iterable[str]) -> list[int]:
    """Find the 1-based line where each template starts in the file, for error messages."""
    lines: list[int] = []
    start = max(text.find("turns"), 0)
    for source in sources:
        snippet = source.strip().splitlines()[0][:40] if source.strip() else ""
        position = text.find(snippet, start) if snippet else -1
        if position < 0:
            position = start
        else:
            start = position + len(snippet)
        lines.append(text.count("\n", 0, position) + 1)
    return lines


def load_strategy_file(path: Path) -> Strategy:
    """Load and check one strategy file; errors name the file and line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        data: dict[str, Any] = tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise StrategyError(f"{path}: not valid UTF-8 at byte {error.start}.") from error
    except tomllib.TOMLDecodeError as error:
        raise StrategyError(f"{path}: invalid TOML: {error}") from error

    unknown = set(data) - _ALLOWED_KEYS
    if unknown:
        raise StrategyError(
            f"{path}: unknown key {', '.join(sorted(unknown))}; "
            f"allowed keys are {', '.join(sorted(_ALLOWED_KEYS))}."
        )
    turns = data.get("turns")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        raise StrategyError(
            f"{path}: `turns` must be a non-empty list of template strings, one per turn."
        )

    lines = _template_lines(text, turns)
    templates = tuple(
        TurnTemplate(source=source, line=line) for source, line in zip(turns, lines, strict=True)
    )
    try:
        strategy = Strategy(
            name=data.get("name", path.stem),
            description=data.get("description", ""),
            aliases=tuple(data.get("aliases", ())),
            turns=templates,
            repeat=data.get("repeat", "none"),
            path=path,
            sha256=hashlib.sha256(raw).hexdigest(),
        )
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise StrategyError(f"{path}: invalid `{field}`: {problem['msg']}.") from error

    for template in templates:
        check_template(str(path), template)
    return strategy


def load_strategies(extra_dirs: Sequence[Path] = ()) -> dict[str, Strategy]:
    """Load every `*.toml` strategy; a later directory overrides an earlier one by name."""
    found: dict[str, Strategy] = {}
    for directory in strategy_dirs(extra_dirs):
        for path in sorted(directory.glob("*.toml")):
            strategy = load_strategy_file(path)
            if strategy.name in found and found[strategy.name].path != path:
                logger.info(
                    "strategy %s from %s overrides %s",
                    strategy.name,
                    path,
                    found[strategy.name].path,
                )
            found[strategy.name] = strategy
    return found


def select_strategies(names: Sequence[str], extra_dirs: Sequence[Path] = ()) -> list[Strategy]:
    """Resolve strategy names, aliases or file paths; no names selects every strategy found."""
    available = load_strategies(extra_dirs)
    by_alias = {alias: strategy for strategy in available.values() for alias in strategy.aliases}
    if not names:
        if not available:
            raise StrategyError("no strategy files found; add a TOML file to ./strategies.")
        return sorted(
            available.values(),
            key=lambda s: (_PAPER_ORDER.index(s.name) if s.name in _PAPER_ORDER else 99, s.name),
        )

    selected: list[Strategy] = []
    for name in names:
        if name.endswith(".toml") and Path(name).is_file():
            strategy = load_strategy_file(Path(name))
        elif name in available:
            strategy = available[name]
        elif name in by_alias:
            strategy = by_alias[name]
        else:
            choices = ", ".join(sorted(available)) or "none"
            raise StrategyError(
                f"unknown strategy {name!r}; available: {choices}. "
                "Add a TOML file to ./strategies or pass a path to one."
            )
        if strategy.name not in {chosen.name for chosen in selected}:
            selected.append(strategy)
    return selected
