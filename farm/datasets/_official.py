"""Facts about the official Farm dataset: where it is published and how its files hash."""

from __future__ import annotations

#: Commit of the paper's repository (Xu et al., ACL 2024) that the pinned files come from.
FARM_COMMIT = "61e8239993bc4ea825aca5df593f5213c834ba59"

#: Folder of the four files at that commit, served as raw files by GitHub.
FARM_BASE_URL = (
    "https://raw.githubusercontent.com/LLMs-believe-the-earth-is-flat/"
    f"llms-believe-the-earth-is-flat/{FARM_COMMIT}/src/Farm_dataset/"
)

#: Subset name -> (file name, sha256 of the file at FARM_COMMIT, number of records).
FARM_FILES: dict[str, tuple[str, str, int]] = {
    "Boolq": (
        "Boolq.jsonl",
        "84d3d9a67b735b71fe32842d92cddf98f2a88ed660a7bb6160f71d5956a97468",
        491,
    ),
    "NQ1": (
        "NQ1.jsonl",
        "7b4a73f43086361ef9b0ee1006110239192ff8060ee64ca740c31ea5fb0bb85b",
        488,
    ),
    "NQ2": (
        "NQ2.jsonl",
        "55cc02124f64baac96b9f15ef5d540f8e225415accdc1ed8ff43041d6e4b41cb",
        489,
    ),
    "TruthfulQA": (
        "TruthfulQA.jsonl",
        "af75c2055ab4cd91ef981aa20f318042af03206bdb235e984a98958e98ac0355",
        484,
    ),
}

#: Name of the official dataset on the command line.
FARM_NAME = "farm"


def canonical_subset(name: str) -> str | None:
    """Return the official subset name matching `name` in any letter case, or None."""
    for subset in FARM_FILES:
        if subset.lower() == name.lower():
            return subset
    return None
