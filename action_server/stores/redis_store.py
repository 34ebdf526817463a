"""Redis conversation store, for several replicas serving the same conversations.

The per-conversation lock lives in Redis too (SET NX PX with a random token), so two replicas
never handle two messages of one conversation at once. The holder keeps the lock alive while it
works; a crashed holder stops doing so and its lock expires after ``lock_expiry`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from action_server.stores.locks import ConversationLockTimeout, jittered_backoff
from action_server.stores.store import (
    DEFAULT_LOCK_TIMEOUT,
    ConversationState,
    ConversationStore,
    ConversationStoreError,
)

__all__ = ["RedisConversationLock", "RedisConversationStore"]

logger = logging.getLogger(__name__)

# Delete / extend only if the lock still carries our token: never free someone else's lock.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class RedisConversationLock:
    """One acquisition of a conversation's lock; ``async with`` it or call acquire/release."""

    def __init__(self, client: aioredis.Redis, key: str, conversation_id: str, expiry: float):
        self._client = client
        self.key = key
        self.conversation_id = conversation_id
        self.expiry_ms = max(1, int(expiry * 1000))
        self.token = secrets.token_hex(16)
        self._keeper: asyncio.Task[None] | None = None

    async def acquire(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        attempt = 0
        while True:
            if await self._client.set(self.key, self.token, nx=True, px=self.expiry_ms):
                break
            now = loop.time()
            if deadline is not None and now >= deadline:
                raise ConversationLockTimeout(self.conversation_id, timeout or 0.0)
            delay = jittered_backoff(attempt)
            if deadline is not None:
                delay = min(delay, deadline - now)
            await asyncio.sleep(delay)
            attempt += 1
        self._keeper = asyncio.create_task(self._keep_alive())

    async def _keep_alive(self) -> None:
        """Push the expiry forward while we work, so a long turn keeps its lock."""
        interval = self.expiry_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                extended = await self._client.eval(  # type: ignore[misc]
                    _EXTEND, 1, self.key, self.token, str(self.expiry_ms)
                )
            except RedisError as exc:
                logger.warning("Could not extend lock of conversation '%s': %s", self.key, exc)
                continue
            if not extended:
                logger.warning(
                    "Lost the lock of conversation '%s' (it expired); another replica may "
                    "now handle it concurrently.",
                    self.conversation_id,
                )
                return

    async def release(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.cancel()
            with suppress(asyncio.CancelledError):
                await keeper
        await self._client.eval(_RELEASE, 1, self.key, self.token)  # type: ignore[misc]


class RedisConversationStore(ConversationStore):
    """Snapshots under ``{key_prefix}:conversation:{id}``, locks under ``{key_prefix}:lock:{id}``."""

    def __init__(
        self,
        *,
        url: str | None = None,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        password: str | None = None,
        use_ssl: bool = False,
        key_prefix: str = "action_server",
        record_exp: float | None = None,
        lock_expiry: float = 30.0,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
        client: aioredis.Redis | None = None,
    ) -> None:
        # redis-py retries ten times by default; a down Redis should fail a turn in about a
        # second with a clear message, while a short blip is still ridden out.
        retry = Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.01), 3)
        if client is not None:
            self._client = client
            self.where = "redis (given client)"
        elif url:
            self._client = aioredis.from_url(url, db=db, password=password, retry=retry)
            self.where = f"redis at {url}"
        else:
            self._client = aioredis.Redis(
                host=host, port=port, db=db, password=password, ssl=use_ssl, retry=retry
            )
            self.where = f"redis at {host}:{port}/{db}"
        self.key_prefix = key_prefix
        self.record_exp = record_exp
        self.lock_expiry = lock_expiry
        self.lock_timeout = lock_timeout

    def state_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:conversation:{conversation_id}"

    def lock_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:lock:{conversation_id}"

    def _error(self, what: str, exc: Exception) -> ConversationStoreError:
        return ConversationStoreError(f"{self.where}: {what}: {exc}")

    async def load(self, conversation_id: str) -> ConversationState | None:
        try:
            raw: Any = await self._client.get(self.state_key(conversation_id))
        except RedisError as exc:
            raise self._error(f"loading '{conversation_id}'", exc) from exc
        if raw is None:
            return None
        return ConversationState.from_json(
            raw, where=f"{self.where}, conversation '{conversation_id}'"
        )

    async def save(self, state: ConversationState) -> None:
        version = state.version + 1
        payload = state.to_json(version=version)
        expiry_ms = None if self.record_exp is None else max(1, int(self.record_exp * 1000))
        try:
            await self._client.set(self.state_key(state.conversation_id), payload, px=expiry_ms)
        except RedisError as exc:
            raise self._error(f"saving '{state.conversation_id}'", exc) from exc
        state.version = version

    async def delete(self, conversation_id: str) -> None:
        try:
            await self._client.delete(self.state_key(conversation_id))
        except RedisError as exc:
            raise self._error(f"deleting '{conversation_id}'", exc) from exc

    @asynccontextmanager
    async def lock(self, conversation_id: str, timeout: float | None = None) -> AsyncIterator[None]:
        held = RedisConversationLock(
            self._client, self.lock_key(conversation_id), conversation_id, self.lock_expiry
        )
        try:
            await held.acquire(self.lock_timeout if timeout is None else timeout)
        except RedisError as exc:
            raise self._error(f"locking '{conversation_id}'", exc) from exc
        try:
            yield
        finally:
            try:
                await held.release()
            except RedisError as exc:
                # The lock still expires on its own after lock_expiry; say so and move on.
                logger.warning(
                    "%s: could not release lock of '%s' (expires in %s s): %s",
                    self.where,
                    conversation_id,
                    self.lock_expiry,
                    exc,
                )

    async def ping(self) -> None:
        """Fail early with a clear message when Redis is not reachable."""
        try:
            await self._client.ping()  # type: ignore[misc]
        except RedisError as exc:
            raise self._error("not reachable", exc) from exc

    async def close(self) -> None:
        await self._client.aclose()
