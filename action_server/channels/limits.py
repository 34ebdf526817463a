"""How much user text one message may carry, the same on every channel.

The limit keeps one message from occupying the event loop (command parsing, conditions and
stores are linear, but 10 MB of text is still 10 MB of work) and from filling the store.
"""

from __future__ import annotations

__all__ = ["MAX_MESSAGE_CHARS", "message_too_long"]

MAX_MESSAGE_CHARS = 10_000


def message_too_long(text: str, field: str = "message") -> str | None:
    """The error to answer when ``text`` is over the limit, else None."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return None
    return (
        f"'{field}' is {len(text):,} characters long; the limit is "
        f"{MAX_MESSAGE_CHARS:,} characters per message"
    )
