"""Seeded option shuffling, to measure and remove position bias of multiple-choice items."""

from __future__ import annotations

import hashlib
import random

from farm.datasets._model import Item


def shuffle_options(item: Item, seed: int) -> Item:
    """Return the item with its options in a seeded random order.

    The order depends only on the seed and the item id, so it is the same on every machine
    and in every run. The correct and misinformation flags move with their options; the
    original 1-based positions are stored in `metadata["option_order"]`. Yes/no items and
    items with one option come back unchanged.
    """
    if len(item.options) < 2:
        return item

    # random.Random seeded with an int is stable across Python versions and processes,
    # unlike hash(), which is randomised per process for strings.
    key = hashlib.sha256(f"{seed}\x00{item.id}".encode()).digest()
    order = list(range(len(item.options)))
    random.Random(int.from_bytes(key[:8], "big")).shuffle(order)

    metadata = {
        **item.metadata,
        "option_order": [position + 1 for position in order],
        "shuffle_seed": seed,
    }
    return item.model_copy(
        update={"options": tuple(item.options[i] for i in order), "metadata": metadata}
    )
