"""Where conversations live between messages (memory, SQLite, Redis) and how they are locked.

``create_store(config.tracker_store)`` picks the store named in endpoints.yml.
"""

from __future__ import annotations

from action_server.config.endpoints import TrackerStoreConfig
from action_server.stores.locks import ConversationLockTimeout
from action_server.stores.store import (
    ConversationState,
    ConversationStore,
    ConversationStoreError,
    InMemoryConversationStore,
)

__all__ = [
    "ConversationLockTimeout",
    "ConversationState",
    "ConversationStore",
    "ConversationStoreError",
    "InMemoryConversationStore",
    "create_store",
]


def create_store(config: TrackerStoreConfig | None = None) -> ConversationStore:
    """The store endpoints.yml asks for; no ``tracker_store`` section means SQLite defaults."""
    config = config or TrackerStoreConfig()
    kind = config.kind
    if kind == "memory":
        return InMemoryConversationStore()
    if kind == "sqlite":
        from action_server.stores.sqlite_store import SQLiteConversationStore

        return SQLiteConversationStore(config.path)
    if kind == "redis":
        # Imported here so memory and SQLite users never pay for the redis client import.
        from action_server.stores.redis_store import RedisConversationStore

        return RedisConversationStore(
            url=config.url,
            host=config.host,
            port=config.port,
            db=config.db,
            password=config.password,
            use_ssl=config.use_ssl,
            key_prefix=config.key_prefix,
            record_exp=config.record_exp,
            lock_expiry=config.lock_expiry,
        )
    raise ConversationStoreError(
        f"tracker_store.type: unknown store '{config.type}' (use memory, sqlite or redis)"
    )
