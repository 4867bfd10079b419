"""Render persuader messages in Jinja's sandbox.

Templates are user files, so they render in `ImmutableSandboxedEnvironment` with
`StrictUndefined`: reading Python internals or mutating data raises, and an unknown variable
is an error instead of an empty string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from farm.datasets._model import Item
from farm.errors import StrategyError
from farm.strategies._model import Strategy, TurnTemplate

#: Names a template may use.
TEMPLATE_VARIABLES = frozenset(
    {"question", "control", "target", "answer", "appeals", "options", "turn", "format", "item_id"}
)

_ENVIRONMENT = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
)
_SPACES = re.compile(r"[ \t]+")
_SPACE_AROUND_NEWLINE = re.compile(r"[ \t]*\n[ \t]*")


def check_template(strategy_file: str, template: TurnTemplate) -> None:
    """Raise StrategyError for a syntax error or an unknown variable, naming file and line."""
    try:
        parsed = _ENVIRONMENT.parse(template.source)
    except jinja2.TemplateSyntaxError as error:
        line = template.line + (error.lineno or 1) - 1
        raise StrategyError(
            f"{strategy_file}:{line}: template syntax error: {error.message}"
        ) from error

    for node in parsed.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        line = template.line + node.lineno - 1
        tag = {"FromImport": "from-import"}.get(type(node).__name__, type(node).__name__.lower())
        raise StrategyError(
            f"{strategy_file}:{line}: the {tag} tag is not allowed, because templates cannot "
            "read other templates or files. Write the whole message in the strategy file."
        )

    unknown = meta.find_undeclared_variables(parsed) - TEMPLATE_VARIABLES
    if unknown:
        names = ", ".join(sorted(unknown))
        allowed = ", ".join(sorted(TEMPLATE_VARIABLES))
        raise StrategyError(
            f"{strategy_file}:{template.line}: unknown template variable {names}; "
            f"templates can use {allowed}."
        )


@lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    return _ENVIRONMENT.from_string(source)


def template_context(item: Item, turn: int) -> dict[str, Any]:
    """Return the variables a template sees for one item and turn."""
    return {
        "question": item.question,
        "control": item.control,
        "target": item.target,
        "answer": item.answer,
        "appeals": {name: list(passages) for name, passages in item.appeals.items()},
        "options": [option.text for option in item.options],
        "turn": turn,
        "format": item.format.value,
        "item_id": item.id,
    }


def tidy_whitespace(text: str) -> str:
    """Collapse runs of spaces and tabs, drop them around newlines, and trim the ends."""
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    return _SPACES.sub(" ", text).strip()


def render_turn(strategy: Strategy, item: Item, turn: int, *, raw: bool = False) -> str:
    """Render the persuader's message for `turn` (1-based).

    With `raw=True` the strings are joined exactly as the template produces them, as the
    reference script does, so an appeal's trailing space gives a double space. Otherwise runs
    of spaces are collapsed and the ends trimmed.
    """
    template = strategy.template_for(turn)
    try:
        text = _compiled(template.source).render(template_context(item, turn))
    except SecurityError as error:
        raise StrategyError(
            f"{strategy.path}:{template.line}: the template tried an unsafe operation ({error}); "
            "templates can only read the item's fields."
        ) from error
    except jinja2.UndefinedError as error:
        raise StrategyError(
            f"{strategy.path}:{template.line}: turn {turn} of strategy {strategy.name!r} cannot "
            f"render for item {item.id} ({item.subset}, line {item.line}): {error.message}. "
            "The item probably has too few appeals for this strategy; check its appeals."
        ) from error
    except jinja2.TemplateError as error:
        raise StrategyError(
            f"{strategy.path}:{template.line}: turn {turn} of strategy {strategy.name!r} failed "
            f"for item {item.id}: {error}"
        ) from error
    return text if raw else tidy_whitespace(text)
