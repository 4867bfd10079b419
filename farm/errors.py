"""Errors that a user can fix: each message names the value and what to do next."""

from __future__ import annotations


class FarmError(Exception):
    """A user-fixable problem. The CLI prints the message on one line, without a traceback."""


class ConfigError(FarmError):
    """A bad option, config file entry or model spec."""


class DatasetError(FarmError):
    """A dataset file that cannot be loaded."""


class StrategyError(FarmError):
    """A strategy file that cannot be loaded or rendered."""
