"""Turning a user message into commands for the dialogue engine; LLM helpers for actions."""

from action_server.understanding.llm_helpers import (
    configure_llm_helpers,
    llm_classify_binary,
    llm_classify_category,
)

__all__ = ["configure_llm_helpers", "llm_classify_binary", "llm_classify_category"]
