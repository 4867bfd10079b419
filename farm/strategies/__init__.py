"""Persuasion strategies: TOML files of Jinja templates, one per persuasion turn."""

from farm.strategies._loader import (
    builtin_strategies_dir,
    load_strategies,
    load_strategy_file,
    select_strategies,
    strategy_dirs,
)
from farm.strategies._model import Strategy, TurnTemplate
from farm.strategies._render import TEMPLATE_VARIABLES, render_turn, tidy_whitespace

__all__ = [
    "TEMPLATE_VARIABLES",
    "Strategy",
    "TurnTemplate",
    "builtin_strategies_dir",
    "load_strategies",
    "load_strategy_file",
    "render_turn",
    "select_strategies",
    "strategy_dirs",
    "tidy_whitespace",
]
