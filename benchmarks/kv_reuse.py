"""Count the prompt tokens the embedded model evaluates, with and without KV-cache reuse.

`python benchmarks/kv_reuse.py --dataset PATH --items 2` runs the same 4-turn conversations on
the `local` backend twice, with `kv_reuse` on (the default) and off. A conversation is the
logical strategy's: initial check, four turns with an implicit check after each, and a final
check, with every turn run even after a flip. It prints one JSON line with the evaluated and
prompt tokens per conversation and the wall time of each pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from typing import Any

from _protocol import SYSTEM_MESSAGE, conversations

from farm.backends import SMOLLM2_MODEL, ChatMessage, GenerationParams, ModelSpec, open_model_client


async def _measure(dataset: str, items: int, kv_reuse: bool, max_tokens: int) -> dict[str, Any]:
    spec = ModelSpec(
        name="local",
        backend="local",
        model=SMOLLM2_MODEL,
        max_concurrency=1,
        options={"kv_reuse": kv_reuse, "n_ctx": 4096},
    )
    client = await open_model_client(spec)
    probe_params = GenerationParams(temperature=0.2, max_tokens=max_tokens, seed=0)
    reply_params = GenerationParams(temperature=0.8, max_tokens=max_tokens, seed=0)
    planned = [c for c in conversations(dataset, items) if c.strategy == "logical"]

    evaluated = prompt = calls = 0
    started = time.perf_counter()
    for conversation in planned:
        # Every call of one conversation: initial check, four turns each followed by an
        # implicit check on a branch, and the final check. Flips do not end it early, so
        # both passes do the same calls.
        probe = ChatMessage(role="user", content=conversation.probe)
        history = [ChatMessage(role="system", content=SYSTEM_MESSAGE)]
        replies = []
        answer = await client.chat([*history, probe], probe_params)
        replies.append(answer)
        history += [probe, ChatMessage(role="assistant", content=answer.text)]
        for message in conversation.messages:
            history.append(ChatMessage(role="user", content=message))
            reply = await client.chat(history, reply_params)
            replies.append(reply)
            history.append(ChatMessage(role="assistant", content=reply.text))
            replies.append(await client.chat([*history, probe], probe_params))
        replies.append(await client.chat([*history, probe], probe_params))

        calls += len(replies)
        evaluated += sum(reply.usage.evaluated_tokens or 0 for reply in replies)
        prompt += sum(reply.usage.prompt_tokens or 0 for reply in replies)
    wall = time.perf_counter() - started
    await client.aclose()

    count = len(planned)
    return {
        "kv_reuse": kv_reuse,
        "conversations": count,
        "calls": calls,
        "evaluated_tokens_per_conversation": evaluated / count if count else 0.0,
        "prompt_tokens_per_conversation": prompt / count if count else 0.0,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="Dataset spec or file path.")
    parser.add_argument("--items", type=int, default=2, help="Items to run (first N).")
    parser.add_argument("--max-tokens", type=int, default=32, help="Maximum new tokens per reply.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    results = [
        asyncio.run(_measure(args.dataset, args.items, kv_reuse, args.max_tokens))
        for kv_reuse in (True, False)
    ]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
