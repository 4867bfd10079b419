"""Number formatting shared by the report's tables."""

from __future__ import annotations

import math
from typing import Any

NOT_AVAILABLE = "n/a"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: Any, low: Any = None, high: Any = None, digits: int = 1) -> str:
    """Format a rate as `23.4% [19.1, 28.2]`; a missing rate shows as `n/a`."""
    if _missing(value):
        return NOT_AVAILABLE
    text = f"{value * 100:.{digits}f}%"
    if not _missing(low) and not _missing(high):
        text += f" [{low * 100:.{digits}f}, {high * 100:.{digits}f}]"
    return text


def points(value: Any, low: Any = None, high: Any = None) -> str:
    """Format a difference of rates in percentage points with its interval."""
    if _missing(value):
        return NOT_AVAILABLE
    text = f"{value * 100:+.1f} pp"
    if not _missing(low) and not _missing(high):
        text += f" [{low * 100:+.1f}, {high * 100:+.1f}]"
    return text


def number(value: Any, low: Any = None, high: Any = None, digits: int = 2) -> str:
    """Format a mean with an optional interval."""
    if _missing(value):
        return NOT_AVAILABLE
    text = f"{value:.{digits}f}"
    if not _missing(low) and not _missing(high):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text
