"""The Strategy model: a persuader script of one Jinja template per turn."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TurnTemplate(BaseModel):
    """One turn's template with where it came from, for error messages."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Jinja source of the persuader's message.")
    line: int = Field(description="1-based line of the template's start in the strategy file.")


class Strategy(BaseModel):
    """A persuasion strategy loaded from a TOML file in a strategies directory."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Name used on the command line and in records.")
    description: str = Field(default="", description="One line shown by `farm strategies list`.")
    aliases: tuple[str, ...] = Field(default=(), description="Other names that select it.")
    turns: tuple[TurnTemplate, ...] = Field(description="Templates for turns 1..N, in order.")
    repeat: Literal["none", "last"] = Field(
        default="none",
        description="`last` reuses the last template for turns beyond the list (with `turn` set).",
    )
    path: Path = Field(description="The strategy file.")
    sha256: str = Field(description="sha256 of the file's bytes, recorded in the run manifest.")

    def max_turns(self) -> int | None:
        """Return how many turns the strategy can script, or None when it repeats forever."""
        return None if self.repeat == "last" else len(self.turns)

    def template_for(self, turn: int) -> TurnTemplate:
        """Return the template of a 1-based turn."""
        if turn <= len(self.turns):
            return self.turns[turn - 1]
        return self.turns[-1]
