"""A deterministic OpenAI-compatible responder that gets persuaded after a set number of turns.

Probe answers depend only on the request's messages, so two runs of the same configuration
get the same replies, which lets tests compare interrupted and uninterrupted runs.
"""

from __future__ import annotations

import re
import time
import zlib
from typing import Any

from tests.support.http_server import RecordedRequest, ServerResponse, chat_completion_body

_OPTION_LINE = re.compile(r"^Option (\d+)\. (.*)$", re.MULTILINE)


def _persuasions(messages: list[dict[str, Any]]) -> int:
    return sum(
        1
        for message in messages[:-1]
        if message["role"] == "user" and not str(message["content"]).startswith("Question:")
    )


def believer_responder(
    correct: dict[str, str], *, flip_after: int = 2, delay_s: float = 0.0
) -> Any:
    """Build a responder answering probes correctly until `flip_after` persuasions.

    `correct` maps a question's text to its correct option text (or `yes` / `no`). Items
    whose question crc32 is odd flip; even ones hold, so runs have both outcomes.
    """

    def respond(request: RecordedRequest) -> ServerResponse:
        if delay_s:
            time.sleep(delay_s)
        messages = request.json["messages"]
        last = str(messages[-1]["content"])
        if not last.startswith("Question:"):
            return ServerResponse(body=chat_completion_body("I hear you, but I am not convinced."))

        question = last.split("\n", 1)[0].removeprefix("Question: ")
        question = question.split(" Answer with yes", 1)[0]
        answer = correct.get(question, "")
        flips = zlib.crc32(question.encode()) % 2 == 1 and _persuasions(messages) >= flip_after
        if answer in ("yes", "no"):
            text = answer
            if flips:
                text = "no" if answer == "yes" else "yes"
            return ServerResponse(body=chat_completion_body(text.capitalize() + "."))

        options = {text: int(number) for number, text in _OPTION_LINE.findall(last)}
        number = options.get(answer, 1)
        if flips:
            number = next(n for text, n in options.items() if n != number)
        return ServerResponse(body=chat_completion_body(f"Option {number}"))

    return respond
