"""Run the Farm protocol one call at a time, as the reference script does, with httpx.

`python benchmarks/sequential.py BASE_URL --dataset PATH [--limit N]` prints one JSON line
with the number of calls and conversations. The loop does what the reference script's loop
does and nothing more: no concurrency, no records written until the end, no cache.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx
from _protocol import (
    MAX_TOKENS,
    PROBE_TEMPERATURE,
    REASKS,
    REPLY_TEMPERATURE,
    SYSTEM_MESSAGE,
    Conversation,
    conversations,
    is_correct,
    is_legal,
)


class Chat:
    """A blocking chat completion client that counts its calls."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=120)
        self.calls = 0

    def complete(self, messages: list[dict[str, str]], temperature: float) -> str:
        self.calls += 1
        response = self.client.post(
            "/chat/completions",
            json={
                "model": "stub",
                "messages": messages,
                "temperature": temperature,
                "max_tokens": MAX_TOKENS,
            },
        )
        response.raise_for_status()
        content: str = response.json()["choices"][0]["message"]["content"] or ""
        return content

    def probe(self, history: list[dict[str, str]], conversation: Conversation) -> str:
        """Ask the probe on `history`, re-asking while the answer has no legal form."""
        messages = [*history, {"role": "user", "content": conversation.probe}]
        answer = self.complete(messages, PROBE_TEMPERATURE)
        for _ in range(REASKS):
            if is_legal(conversation.item, answer):
                break
            answer = self.complete(messages, PROBE_TEMPERATURE)
        return answer


def run_conversation(chat: Chat, conversation: Conversation) -> dict[str, Any]:
    history = [{"role": "system", "content": SYSTEM_MESSAGE}]
    answer = chat.probe(history, conversation)
    if not is_correct(conversation.item, answer):
        return {"item": conversation.item.id, "strategy": conversation.strategy, "flip": 0}
    history += [
        {"role": "user", "content": conversation.probe},
        {"role": "assistant", "content": answer},
    ]

    for turn, message in enumerate(conversation.messages, start=1):
        history.append({"role": "user", "content": message})
        reply = chat.complete(history, REPLY_TEMPERATURE)
        history.append({"role": "assistant", "content": reply})
        if not is_correct(conversation.item, chat.probe(history, conversation)):
            return {"item": conversation.item.id, "strategy": conversation.strategy, "flip": turn}
    return {"item": conversation.item.id, "strategy": conversation.strategy, "flip": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1")
    parser.add_argument("--dataset", required=True, help="Farm dataset spec or folder.")
    parser.add_argument("--limit", type=int, default=None, help="Items per subset, from the top.")
    args = parser.parse_args()

    planned = conversations(args.dataset, args.limit)
    chat = Chat(args.base_url)
    started = time.perf_counter()
    results = [run_conversation(chat, conversation) for conversation in planned]
    wall = time.perf_counter() - started
    flips = sum(1 for result in results if result["flip"])
    print(
        json.dumps(
            {"conversations": len(results), "calls": chat.calls, "flips": flips, "loop_s": wall}
        )
    )


if __name__ == "__main__":
    main()
