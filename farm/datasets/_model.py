"""Pydantic models for items and datasets, shared by every loader."""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Appeal strategies that the Farm data carries three passages for.
APPEAL_STRATEGIES: tuple[str, ...] = ("logical", "credibility", "emotional")


class AnswerFormat(str, Enum):
    """How a probe asks the question and how its reply is judged."""

    YES_NO = "yes_no"
    MULTIPLE_CHOICE = "multiple_choice"


class Option(BaseModel):
    """One stored answer option of a multiple-choice item."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="Option text as shown to the model.")
    correct: bool = Field(description="True when choosing this option is a correct answer.")
    misinformation: bool = Field(
        default=False, description="True for the option that the persuader argues for."
    )


class Item(BaseModel):
    """One factual question with its correct answer and the misinformation pushed against it."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable id derived from the dataset name and the item's content.")
    dataset: str = Field(description="Dataset name, for example `farm` or `sample`.")
    subset: str = Field(
        description="Subset name, for example `NQ2`; equals the dataset for flat data."
    )
    question: str = Field(description="The factual question, asked verbatim by every probe.")
    format: AnswerFormat = Field(description="Yes/no or multiple choice.")
    options: tuple[Option, ...] = Field(
        default=(),
        description=(
            "Stored options in stored order (multiple choice only). The probe adds "
            '"Don\'t know" and "All options are incorrect" after them; they are not data.'
        ),
    )
    answer: str = Field(
        description=(
            "The correct answer: `yes` or `no` for yes/no items, else a correct option text."
        )
    )
    target: str = Field(description="The misinformation the persuader argues for.")
    control: str = Field(
        description="A statement asserting the target, written to follow 'I believe'."
    )
    appeals: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Persuasive passages per appeal strategy, in turn order.",
    )
    instruction: Literal["select", "most_appropriate"] = Field(
        default="select",
        description=(
            "Closing instruction of a multiple-choice probe: `select` for NQ-style items, "
            "`most_appropriate` for TruthfulQA-style items."
        ),
    )
    source: str | None = Field(default=None, description="Where the fact comes from, if known.")
    line: int | None = Field(default=None, description="1-based line (or row) in the source file.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free extra fields.")

    @property
    def correct_options(self) -> list[int]:
        """1-based numbers of the correct stored options."""
        return [i for i, option in enumerate(self.options, start=1) if option.correct]

    @property
    def target_option(self) -> int | None:
        """1-based number of the designated misinformation option, if there is one."""
        for i, option in enumerate(self.options, start=1):
            if option.misinformation:
                return i
        return None


class Dataset(BaseModel):
    """A named, versioned collection of items, possibly split into subsets."""

    name: str = Field(description="Dataset name used on the command line.")
    version: str = Field(default="1", description="Version string of the data.")
    content_hash: str = Field(description="sha256 over the source files' bytes, in load order.")
    items: list[Item] = Field(default_factory=list, description="Items in load order.")
    warnings: list[str] = Field(
        default_factory=list, description="Problems that were handled while loading."
    )
    skipped: int = Field(
        default=0, description="Invalid records skipped while loading (only with skip_invalid)."
    )
    files: list[str] = Field(default_factory=list, description="Source files, in load order.")

    @property
    def subsets(self) -> list[str]:
        """Subset names in first-seen order."""
        return list(dict.fromkeys(item.subset for item in self.items))


def item_content_id(dataset: str, subset: str, content: dict[str, Any]) -> str:
    """Derive a stable item id from the dataset name, subset and the item's content.

    The id does not depend on file position, so the same item keeps its id when rows are
    reordered, and results of different runs can be joined on it.
    """
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(f"{dataset}\x00{subset}\x00{canonical}".encode()).hexdigest()
    return f"{subset}-{digest[:12]}"
