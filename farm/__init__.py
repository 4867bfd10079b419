"""farm: measure how well language models keep a correct belief under persuasion."""

from farm._version import __version__

__all__ = ["__version__"]
