"""SQLite conversation store: the embedded default that survives restarts with no server to run.

sqlite3 blocks, so every statement runs on one dedicated worker thread; one thread also means
one connection and no cross-thread sharing rules to think about. WAL mode lets another process
(a CLI reading a conversation) read while this one writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from action_server.stores.store import (
    DEFAULT_LOCK_TIMEOUT,
    ConversationState,
    ConversationStoreError,
    LocallyLockedStore,
)

__all__ = ["SQLiteConversationStore"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    state BLOB NOT NULL,
    version INTEGER NOT NULL,
    updated_at REAL NOT NULL
)
"""


class SQLiteConversationStore(LocallyLockedStore):
    """One row per conversation holding its JSON snapshot."""

    def __init__(
        self, path: str | Path, *, lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        super().__init__(lock_timeout=lock_timeout)
        self.path = str(path)
        # Open now so a bad path fails at start-up, not on the first user message.
        try:
            self._connection: sqlite3.Connection | None = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConversationStoreError(
                f"cannot open SQLite conversation store '{self.path}': {exc}"
            ) from exc
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")

    async def _run(self, what: str, job: Callable[[sqlite3.Connection], _T]) -> _T:
        connection = self._connection
        if connection is None:
            raise ConversationStoreError(f"SQLite store '{self.path}' is closed ({what})")

        def call() -> _T:
            return job(connection)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, call)
        except sqlite3.Error as exc:
            raise ConversationStoreError(f"SQLite store '{self.path}': {what}: {exc}") from exc

    async def load(self, conversation_id: str) -> ConversationState | None:
        row = await self._run(
            f"loading '{conversation_id}'",
            lambda db: db.execute(
                "SELECT state FROM conversations WHERE conversation_id = ?", (conversation_id,)
            ).fetchone(),
        )
        if row is None:
            return None
        return ConversationState.from_json(
            row[0], where=f"SQLite store '{self.path}', conversation '{conversation_id}'"
        )

    async def save(self, state: ConversationState) -> None:
        version = state.version + 1
        payload = state.to_json(version=version)
        await self._run(
            f"saving '{state.conversation_id}'",
            lambda db: db.execute(
                "INSERT INTO conversations (conversation_id, state, version, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(conversation_id) DO UPDATE SET "
                "state = excluded.state, version = excluded.version, "
                "updated_at = excluded.updated_at",
                (state.conversation_id, payload, version, time.time()),
            ),
        )
        state.version = version

    async def delete(self, conversation_id: str) -> None:
        await self._run(
            f"deleting '{conversation_id}'",
            lambda db: db.execute(
                "DELETE FROM conversations WHERE conversation_id = ?", (conversation_id,)
            ),
        )

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        await asyncio.get_running_loop().run_in_executor(self._worker, connection.close)
        self._worker.shutdown(wait=False)
