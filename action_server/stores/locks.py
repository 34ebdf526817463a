"""Per-conversation locks inside one process, so one conversation handles one message at a time.

The Redis store has its own cross-process lock (``redis_store.RedisConversationLock``); the
errors and the waiting policy live here so every store fails in the same words.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["ConversationLockTimeout", "LocalLocks", "jittered_backoff"]


class ConversationLockTimeout(Exception):
    """Another turn of the same conversation kept the lock longer than we were willing to wait."""

    def __init__(self, conversation_id: str, waited: float) -> None:
        self.conversation_id = conversation_id
        self.waited = waited
        super().__init__(
            f"Could not lock conversation '{conversation_id}' within {waited:g} s: "
            "another message of this conversation is still being handled."
        )


@dataclass
class _Entry:
    lock: asyncio.Lock
    users: int = 0


class LocalLocks:
    """One ``asyncio.Lock`` per conversation id, dropped as soon as nobody holds or waits for it.

    Dropping unused locks keeps memory flat however many conversations pass through a long-lived
    process.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, conversation_id: str, timeout: float | None = None) -> AsyncIterator[None]:
        entry = self._entries.get(conversation_id)
        if entry is None:
            entry = self._entries[conversation_id] = _Entry(asyncio.Lock())
        entry.users += 1
        try:
            try:
                if timeout is None:
                    await entry.lock.acquire()
                else:
                    await asyncio.wait_for(entry.lock.acquire(), timeout)
            except asyncio.TimeoutError:
                raise ConversationLockTimeout(conversation_id, timeout or 0.0) from None
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0 and self._entries.get(conversation_id) is entry:
                del self._entries[conversation_id]


def jittered_backoff(attempt: int, first: float = 0.005, cap: float = 0.1) -> float:
    """Delay before retry ``attempt`` (0-based): doubling from ``first`` up to ``cap``, +-50 %.

    Jitter keeps several waiters from hammering Redis in lock-step.
    """
    base = min(cap, first * (2**attempt))
    return base * random.uniform(0.5, 1.5)
