"""Conversation state and the store interface the flow engine keeps it in; plus the memory store.

A store only persists whole ``ConversationState`` snapshots and hands out per-conversation locks;
it knows nothing about flows. The caller holds ``lock(conversation_id)`` around load-handle-save
so two messages of one conversation never interleave.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from action_server.stores.locks import LocalLocks

__all__ = [
    "ConversationState",
    "ConversationStore",
    "ConversationStoreError",
    "InMemoryConversationStore",
    "LocallyLockedStore",
]

DEFAULT_LOCK_TIMEOUT = 60.0


class ConversationStoreError(Exception):
    """A conversation could not be saved, loaded or locked; the message names which and why."""


@dataclass
class ConversationState:
    """Everything the flow engine remembers about one conversation between messages.

    ``version`` counts saves; it lets tests and logs tell snapshots apart.
    """

    conversation_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    stack: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    latest_message: dict[str, Any] = field(default_factory=dict)
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "events": self.events,
            "slots": self.slots,
            "stack": self.stack,
            "ended": self.ended,
            "metadata": self.metadata,
            "latest_message": self.latest_message,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ConversationState:
        """Rebuild a state from ``to_dict`` output; a wrong shape names the offending field."""
        if not isinstance(data, dict):
            raise ConversationStoreError(
                f"conversation state must be a JSON object, got {type(data).__name__}"
            )
        conversation_id = data.get("conversation_id")
        if not isinstance(conversation_id, str):
            raise ConversationStoreError(
                f"conversation state: 'conversation_id' must be a string, got {conversation_id!r}"
            )
        expected: dict[str, type | tuple[type, ...]] = {
            "events": list,
            "slots": dict,
            "stack": list,
            "ended": bool,
            "metadata": dict,
            "latest_message": dict,
            "version": int,
        }
        values: dict[str, Any] = {}
        for name, kind in expected.items():
            if name not in data:
                continue
            value = data[name]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ConversationStoreError(
                    f"conversation '{conversation_id}': field '{name}' must be "
                    f"{_kind_name(kind)}, got {type(value).__name__}"
                )
            values[name] = value
        return cls(conversation_id=conversation_id, **values)

    def to_json(self, *, version: int | None = None) -> bytes:
        """Serialize; ``version`` overrides the stored counter so ``save`` can bump it last."""
        data = self.to_dict()
        if version is not None:
            data["version"] = version
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        except TypeError as exc:
            raise ConversationStoreError(
                f"conversation '{self.conversation_id}': state is not JSON-serializable: {exc}"
            ) from exc

    @classmethod
    def from_json(cls, raw: bytes | str, *, where: str = "store") -> ConversationState:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ConversationStoreError(
                f"{where}: stored conversation is not JSON: {exc}"
            ) from exc
        try:
            return cls.from_dict(data)
        except ConversationStoreError as exc:
            raise ConversationStoreError(f"{where}: {exc}") from None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {list: "a list", dict: "an object", bool: "true or false", int: "an integer"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


class ConversationStore(abc.ABC):
    """Where conversations live between messages, and who may touch one right now."""

    @abc.abstractmethod
    async def load(self, conversation_id: str) -> ConversationState | None:
        """The last saved state, or None for a conversation never saved (or deleted)."""

    @abc.abstractmethod
    async def save(self, state: ConversationState) -> None:
        """Persist a snapshot of ``state``; increments ``state.version``."""

    @abc.abstractmethod
    async def delete(self, conversation_id: str) -> None:
        """Forget a conversation; deleting an unknown one is not an error."""

    @abc.abstractmethod
    def lock(
        self, conversation_id: str, timeout: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """Hold while handling one message; raises ``ConversationLockTimeout`` after ``timeout``."""

    async def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing
        """Release connections and files."""


class LocallyLockedStore(ConversationStore):
    """Base for stores used by one process: an ``asyncio.Lock`` per conversation suffices."""

    def __init__(self, *, lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT) -> None:
        self._locks = LocalLocks()
        self.lock_timeout = lock_timeout

    @asynccontextmanager
    async def lock(self, conversation_id: str, timeout: float | None = None) -> AsyncIterator[None]:
        async with self._locks.hold(
            conversation_id, self.lock_timeout if timeout is None else timeout
        ):
            yield


class InMemoryConversationStore(LocallyLockedStore):
    """Keeps serialized snapshots in a dict: for tests and throwaway runs.

    Storing JSON rather than the object means a caller mutating its state after ``save`` cannot
    change what was saved, exactly as with the persistent stores.
    """

    def __init__(self, *, lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT) -> None:
        super().__init__(lock_timeout=lock_timeout)
        self._snapshots: dict[str, bytes] = {}

    async def load(self, conversation_id: str) -> ConversationState | None:
        raw = self._snapshots.get(conversation_id)
        if raw is None:
            return None
        return ConversationState.from_json(raw, where=f"memory store, '{conversation_id}'")

    async def save(self, state: ConversationState) -> None:
        self._snapshots[state.conversation_id] = state.to_json(version=state.version + 1)
        state.version += 1

    async def delete(self, conversation_id: str) -> None:
        self._snapshots.pop(conversation_id, None)

    def __len__(self) -> int:
        return len(self._snapshots)
