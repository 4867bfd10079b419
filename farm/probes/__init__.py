"""Belief probes: the question formats, the reply parser and the verdict."""

from farm.probes._confidence import parse_confidence
from farm.probes._judge import judge
from farm.probes._parse import parse_answer, passes_reference_gate, strip_reasoning
from farm.probes._prompts import (
    ALL_INCORRECT,
    CONFIDENCE_QUESTION,
    DONT_KNOW,
    probe_options,
    probe_prompt,
)
from farm.probes._reference import AnswerKey, recount_reference, reference_verdict

__all__ = [
    "ALL_INCORRECT",
    "CONFIDENCE_QUESTION",
    "DONT_KNOW",
    "AnswerKey",
    "judge",
    "parse_answer",
    "parse_confidence",
    "passes_reference_gate",
    "probe_options",
    "probe_prompt",
    "recount_reference",
    "reference_verdict",
    "strip_reasoning",
]
