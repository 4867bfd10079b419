"""Read a self-reported confidence (0 to 100) from a reply."""

from __future__ import annotations

import re

from farm.probes._parse import strip_reasoning

_NUMBER = re.compile(r"(?<![0-9.])([0-9]{1,3}(?:\.[0-9]+)?)\s*(%|percent)?")


def parse_confidence(reply: str) -> float | None:
    """Return the first number from 0 to 100 in the reply, or None when there is none."""
    for match in _NUMBER.finditer(strip_reasoning(reply)):
        value = float(match.group(1))
        if 0 <= value <= 100:
            return value
    return None
