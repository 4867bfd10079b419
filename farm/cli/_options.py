"""Options shared by the commands that read finished runs (`farm report`, `farm export`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import typer

from farm.errors import ConfigError

if TYPE_CHECKING:  # farm.results imports pandas, which the CLI loads only when needed
    from farm.results import Counting

CONFIDENCE_OPTION = typer.Option(
    0.95, "--confidence", min=0.5, max=0.999, help="Confidence level of the intervals."
)
COUNTING_OPTION = typer.Option(
    "farm",
    "--counting",
    help="farm: farm's corrected rules. reference: re-judge stored replies with the "
    "reference script's rules, defects included, to compare with published numbers.",
)


def checked_counting(value: str) -> Counting:
    """Return a valid --counting value, or raise a ConfigError naming the choices."""
    if value not in ("farm", "reference"):
        raise ConfigError(f"invalid --counting {value!r}; use farm or reference.")
    return cast("Counting", value)
