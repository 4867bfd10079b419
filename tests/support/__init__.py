"""Shared test helpers, imported as `tests.support.<module>`.

`http_server` runs a scriptable OpenAI-compatible server on 127.0.0.1; `llama` holds the
session-scoped llama.cpp fixtures.
"""
