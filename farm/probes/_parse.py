"""Read a probe reply into an answer: one legal choice, "don't know", unparsed or ambiguous.

`parse_answer` is the parser the engine uses. It is strict where a wrong reading would count as
a belief: a reply that names two options without committing to one is `ambiguous`, a number
outside the listed options is `unparsed`, and words such as "know", "not" or "nothing" never
read as "no". Reasoning blocks (`<think>...</think>`) are ignored for parsing; the transcript
keeps them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from farm.datasets._model import AnswerFormat
from farm.store._records import ParsedAnswer

_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_UNOPENED_CLOSE = re.compile(r"^.*</(?:think|thinking|reasoning)>", re.IGNORECASE | re.DOTALL)
_UNCLOSED_OPEN = re.compile(r"<(?:think|thinking|reasoning)>.*$", re.IGNORECASE | re.DOTALL)
_MARKDOWN = re.compile(r"[*_`#]+")
# The instruction's own example, echoed back, is not a choice.
_ECHOED_EXAMPLE = re.compile(r"\(?\s*e\.?\s*g\.?\s*,?\s*[\"“']?\s*option\s*1\s*[\"”']?\s*\)?", re.I)

_OPTION_MENTION = re.compile(r"(?<![a-z])options?\s*[:#]?\s*\(?\s*([0-9]+)", re.IGNORECASE)
# A second number joined to a mention ("Option 1 or 2") is a mention too.
_ALTERNATIVE = re.compile(r"\s*\)?\s*(?:or|and|/|,)\s*\(?([0-9]+)(?![0-9])", re.IGNORECASE)
# Words right before a mention that commit to it ("I choose Option 3").
_COMMITMENT = re.compile(
    r"(?:choose|chose|choosing|select|selected|selecting|pick|picked|go with|going with|"
    r"opt for|answer is|answer would be|answer:|answer -|final answer|my answer|my choice|"
    r"choice is|correct one is|correct option is|i say|i'd say|i would say)\s*[:\-]?\s*$",
    re.IGNORECASE,
)
_LEADING_NUMBER = re.compile(r"^\s*\(?\s*([0-9]+)\s*(?:[.):\]]|$)\s*(.*)$", re.DOTALL)
_ANSWER_PREFIX = re.compile(
    r"^\s*(?:the\s+)?(?:correct\s+|final\s+)?answer\s*(?:is|:)\s*", re.IGNORECASE
)

_DONT_KNOW = re.compile(
    r"\b(?:i\s+)?(?:don'?t|do\s+not|dont)\s+know\b|\bnot\s+sure\b|\bunsure\b|\bno\s+idea\b",
    re.IGNORECASE,
)
_ALL_INCORRECT = re.compile(
    r"\ball\s+(?:of\s+the\s+)?options\s+are\s+(?:incorrect|wrong)\b|\bnone\s+of\s+the\s+"
    r"(?:above|options)\b",
    re.IGNORECASE,
)

_YES_WORDS = {"yes", "yeah", "yep", "true", "correct"}
_NO_WORDS = {"no", "nope", "false", "incorrect"}
_LEADING_WORD = re.compile(r"^[\W_]*([a-z']+)", re.IGNORECASE)
_YES_NO_CLAIM = re.compile(
    r"\b(?:answer|response)\s*(?:is|:)\s*[\W_]*(yes|no)\b|\b(yes|no)[\W_]*$", re.IGNORECASE
)


_YES_NO_WORD = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def strip_reasoning(reply: str) -> str:
    """Remove reasoning blocks, a reasoning tail cut off by the token limit, and stray closers."""
    text = _REASONING_BLOCK.sub(" ", reply)
    text = _UNOPENED_CLOSE.sub(" ", text)
    return _UNCLOSED_OPEN.sub(" ", text)


def _clean(reply: str) -> str:
    text = unicodedata.normalize("NFKC", strip_reasoning(reply))
    return _MARKDOWN.sub("", text).strip()


def _normalize_text(text: str) -> str:
    """Casefold and drop punctuation, for comparing a reply with option texts."""
    kept = [char if char.isalnum() else " " for char in text.casefold()]
    return " ".join("".join(kept).split())


def parse_answer(
    reply: str, answer_format: AnswerFormat, options: Sequence[str] = ()
) -> ParsedAnswer:
    """Read a probe reply.

    `options` are the texts shown to the model for multiple choice, the two added options
    ("Don't know", "All options are incorrect") included as the last two. The returned
    `option` is 1-based in that list.
    """
    if answer_format is AnswerFormat.YES_NO:
        return _parse_yes_no(reply)
    return _parse_choice(reply, list(options))


def _parse_yes_no(reply: str) -> ParsedAnswer:
    text = _clean(reply)
    if not text:
        return ParsedAnswer(status="unparsed", reason="empty reply")

    leading = _LEADING_WORD.match(text)
    first = leading.group(1).casefold() if leading else ""
    if first in _YES_WORDS:
        return ParsedAnswer(status="choice", answer="yes")
    if first in _NO_WORDS:
        return ParsedAnswer(status="choice", answer="no")

    if _DONT_KNOW.search(text):
        return ParsedAnswer(status="abstain", answer="dont_know")

    claims = {
        (match.group(1) or match.group(2)).casefold() for match in _YES_NO_CLAIM.finditer(text)
    }
    mentioned = {word.casefold() for word in _YES_NO_WORD.findall(text)}
    if len(claims) == 1 and len(mentioned) == 1:
        return ParsedAnswer(status="choice", answer=claims.pop())
    if claims:
        return ParsedAnswer(status="ambiguous", reason="states both yes and no")
    return ParsedAnswer(status="unparsed", reason="no yes, no or don't know")


def _choice(number: int, options: list[str]) -> ParsedAnswer:
    if not 1 <= number <= len(options):
        return ParsedAnswer(
            status="unparsed", reason=f"option {number} is not one of 1..{len(options)}"
        )
    if number == len(options) - 1:
        return ParsedAnswer(status="abstain", option=number, answer=options[number - 1])
    return ParsedAnswer(status="choice", option=number, answer=options[number - 1])


def _parse_choice(reply: str, options: list[str]) -> ParsedAnswer:
    text = _ECHOED_EXAMPLE.sub(" ", _clean(reply))
    if not text.strip():
        return ParsedAnswer(status="unparsed", reason="empty reply")

    mentions: list[tuple[int, int]] = []
    for match in _OPTION_MENTION.finditer(text):
        mentions.append((match.start(), int(match.group(1))))
        alternative = _ALTERNATIVE.match(text, match.end())
        if alternative:
            mentions.append((alternative.start(1), int(alternative.group(1))))
    if mentions:
        return _from_mentions(text, mentions, options)

    leading = _LEADING_NUMBER.match(text)
    if leading:
        return _from_leading_number(int(leading.group(1)), leading.group(2), options)

    by_text = _match_option_text(text, options) or _match_option_mention(text, options)
    if by_text is not None:
        return by_text
    if _ALL_INCORRECT.search(text):
        return _choice(len(options), options)
    if _DONT_KNOW.search(text):
        return _choice(len(options) - 1, options)
    return ParsedAnswer(status="unparsed", reason="no option named")


def _from_mentions(text: str, mentions: list[tuple[int, int]], options: list[str]) -> ParsedAnswer:
    distinct = {number for _, number in mentions}
    if len(distinct) == 1:
        return _choice(distinct.pop(), options)

    committed = {
        number for start, number in mentions if _COMMITMENT.search(text[max(0, start - 40) : start])
    }
    if len(committed) == 1:
        return _choice(committed.pop(), options)
    listed = ", ".join(str(number) for number in sorted(distinct))
    return ParsedAnswer(status="ambiguous", reason=f"names options {listed} without choosing one")


def _from_leading_number(number: int, rest: str, options: list[str]) -> ParsedAnswer:
    """Read replies such as "3. Uruguay" or "(3)": the number counts if its text agrees."""
    rest_normalized = _normalize_text(rest)
    if not rest_normalized or not 1 <= number <= len(options):
        return _choice(number, options)

    own = _normalize_text(options[number - 1])
    if own and (rest_normalized.startswith(own) or own.startswith(rest_normalized)):
        return _choice(number, options)

    other = _match_option_text(rest, options)
    if other is not None and other.option != number:
        return ParsedAnswer(
            status="ambiguous", reason=f"number {number} but the text of option {other.option}"
        )
    return ParsedAnswer(
        status="unparsed", reason=f"number {number} with text that is not option {number}"
    )


def _match_option_text(text: str, options: list[str]) -> ParsedAnswer | None:
    """Match a reply that is an option's text, or starts with it and a punctuation mark.

    "Uruguay, in 1930." and "Uruguay" on a line of its own read as Uruguay; "Uruguay did not
    win" does not.
    """
    reply = _ANSWER_PREFIX.sub("", text).strip().strip("\"'“”‘’").strip()
    if not reply:
        return None

    best: tuple[int, int] | None = None  # (length of the matched text, option number)
    for number, option in enumerate(options, start=1):
        candidate = option.strip()
        if not candidate:
            continue
        # The option's text ends the reply, its first line, or is followed by punctuation.
        pattern = re.compile(
            rf"{re.escape(candidate)}(?:\s*$|[ \t]*\n|\s*[.,;:!?)(\-–—\"”'’])", re.IGNORECASE
        )
        if pattern.match(reply) and (best is None or len(candidate) > best[0]):
            best = (len(candidate), number)
    return _choice(best[1], options) if best else None


_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|isn't|wasn't|aren't|weren't|didn't|doesn't)\b|n't\b", re.I
)
#: Longest free-text reply in which a single named option still counts as the answer.
MAX_MENTION_WORDS = 40


def _match_option_mention(text: str, options: list[str]) -> ParsedAnswer | None:
    """Match a short sentence that names exactly one stored option and negates nothing.

    "The largest planet is Jupiter." names Jupiter; "Yale did not win" is left unparsed,
    because a negated option is not a choice of it.
    """
    if _NEGATION.search(text) or len(text.split()) > MAX_MENTION_WORDS:
        return None
    reply = f" {_normalize_text(text)} "
    named = [
        number
        for number, option in enumerate(options[:-2], start=1)
        if _normalize_text(option) and f" {_normalize_text(option)} " in reply
    ]
    # Drop an option whose text is part of another named option's text ("Yale" in "Yale Law").
    texts = {number: _normalize_text(options[number - 1]) for number in named}
    named = [n for n in named if not any(n != m and texts[n] in texts[m] for m in named)]
    if len(named) == 1:
        return _choice(named[0], options)
    return None


def passes_reference_gate(reply: str, answer_format: AnswerFormat) -> bool:
    """Return True when the reference script would accept the reply's format.

    This reproduces the reference script's own check, defects included: for yes/no it is a
    substring search, so "know" or "cannot" pass as "no". The paper-compatible mode uses it
    to decide re-asks exactly where the script does.
    """
    lowered = reply.lower()
    if answer_format is AnswerFormat.YES_NO:
        return "yes" in lowered or "no" in lowered or "don't know" in lowered
    return re.search(r"option\s+\d+|\(\d+\)", reply, re.IGNORECASE) is not None
