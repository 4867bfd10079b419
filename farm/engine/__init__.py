"""The dialogue engine: runs Farm conversations against model clients and records them."""

from farm.engine._config import RunConfig, config_differences
from farm.engine._conversation import ConversationPlan, conversation_key, run_conversation
from farm.engine._probe import ChatClient, ProbeSettings, ask_probe
from farm.engine._runner import Runner, RunOutcome, default_run_dir, prepare_config_for_resume

__all__ = [
    "ChatClient",
    "ConversationPlan",
    "ProbeSettings",
    "RunConfig",
    "RunOutcome",
    "Runner",
    "ask_probe",
    "config_differences",
    "conversation_key",
    "default_run_dir",
    "prepare_config_for_resume",
    "run_conversation",
]
