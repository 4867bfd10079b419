"""Confidence intervals: Wilson score intervals for rates, percentile bootstrap for means."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

#: Resamples drawn by `bootstrap_mean_ci` by default.
DEFAULT_RESAMPLES = 2000
#: Seed of the bootstrap generator, so that a report built twice shows the same intervals.
DEFAULT_SEED = 0
_BLOCK_ELEMENTS = 2_000_000


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")


def wilson_interval(
    successes: int, total: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Return the Wilson score interval of a binomial proportion.

    An empty sample (`total == 0`) has no defined rate, so both bounds are NaN.
    """
    _check_confidence(confidence)
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"need 0 <= successes <= total, got {successes} of {total}")
    if total == 0:
        return (math.nan, math.nan)

    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    rate = successes / total
    denominator = 1.0 + z * z / total
    centre = (rate + z * z / (2.0 * total)) / denominator
    half_width = (z / denominator) * math.sqrt(
        rate * (1.0 - rate) / total + z * z / (4.0 * total * total)
    )
    # At 0 or `total` successes the bound is exactly 0 or 1; floating point would leave 1e-17.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == total else min(1.0, centre + half_width)
    return (low, high)


def bootstrap_mean_ci(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval for the mean of `values`.

    The generator is seeded, so the same input gives the same interval. An empty input gives
    NaN bounds; a single value gives a zero-width interval at that value.
    """
    _check_confidence(confidence)
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (math.nan, math.nan)
    if data.size == 1:
        return (float(data[0]), float(data[0]))

    # Draw resamples in blocks so that memory stays near `_BLOCK_ELEMENTS` floats for any n.
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_ELEMENTS // data.size)
    means = np.empty(resamples)
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        indices = rng.integers(0, data.size, size=(stop - start, data.size))
        means[start:stop] = data[indices].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))
