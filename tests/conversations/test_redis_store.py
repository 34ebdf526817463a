"""Redis conversation store against a real redis-server: storage, TTL and the cross-process lock."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from action_server.config.endpoints import TrackerStoreConfig
from action_server.stores import (
    ConversationLockTimeout,
    ConversationState,
    ConversationStoreError,
    create_store,
)
from action_server.stores.redis_store import RedisConversationStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def store(redis_port: int) -> AsyncIterator[RedisConversationStore]:
    created = RedisConversationStore(
        host="127.0.0.1", port=redis_port, key_prefix=f"test-{uuid.uuid4().hex}", lock_expiry=5
    )
    yield created
    await created.close()


async def test_redis_saved_state_loads_back_under_the_key_prefix(
    store: RedisConversationStore,
) -> None:
    state = ConversationState("alice", events=[{"event": "user"}], slots={"a": "é"}, ended=True)
    await store.save(state)
    assert await store.load("alice") == state
    assert await store._client.exists(store.state_key("alice")) == 1
    assert store.state_key("alice").startswith(store.key_prefix + ":")


async def test_redis_delete_forgets_conversation(store: RedisConversationStore) -> None:
    await store.save(ConversationState("bob"))
    await store.delete("bob")
    await store.delete("bob")
    assert await store.load("bob") is None


async def test_redis_record_exp_sets_a_ttl_on_saved_conversations(redis_port: int) -> None:
    config = TrackerStoreConfig(
        type="redis", host="127.0.0.1", port=redis_port, record_exp=120, key_prefix="ttl"
    )
    store = create_store(config)
    assert isinstance(store, RedisConversationStore)
    await store.save(ConversationState("carol"))
    ttl = await store._client.pttl(store.state_key("carol"))
    assert 0 < ttl <= 120_000
    await store.close()


async def test_redis_store_uses_the_configured_db(redis_port: int) -> None:
    store = RedisConversationStore(host="127.0.0.1", port=redis_port, db=3, key_prefix="dbtest")
    await store.save(ConversationState("dora"))
    other = aioredis.Redis(host="127.0.0.1", port=redis_port, db=0)
    assert await other.exists("dbtest:conversation:dora") == 0
    await other.aclose()
    await store.delete("dora")
    await store.close()


async def test_unreachable_redis_gives_a_store_error_naming_host_and_port() -> None:
    store = RedisConversationStore(host="127.0.0.1", port=1)
    with pytest.raises(ConversationStoreError, match=r"redis at 127\.0\.0\.1:1/0: loading 'x'"):
        await store.load("x")
    with pytest.raises(ConversationStoreError, match="locking 'x'"):
        async with store.lock("x"):
            pass
    await store.close()


async def test_redis_lock_serializes_turns_of_one_conversation(
    store: RedisConversationStore,
) -> None:
    trace: list[str] = []

    async def turn(name: str) -> None:
        async with store.lock("same"):
            trace.append(f"{name} start")
            await asyncio.sleep(0.02)
            trace.append(f"{name} end")

    await asyncio.gather(turn("a"), turn("b"), turn("c"))
    for i in range(0, len(trace), 2):
        assert trace[i].split()[0] == trace[i + 1].split()[0], trace
    assert await store._client.exists(store.lock_key("same")) == 0


async def test_redis_lock_wait_gives_up_with_conversation_lock_timeout(
    store: RedisConversationStore,
) -> None:
    async with store.lock("busy"):
        with pytest.raises(ConversationLockTimeout, match="'busy'"):
            async with store.lock("busy", timeout=0.1):
                pass


async def test_redis_lock_is_kept_alive_while_a_long_turn_holds_it(redis_port: int) -> None:
    store = RedisConversationStore(
        host="127.0.0.1", port=redis_port, key_prefix=f"alive-{uuid.uuid4().hex}", lock_expiry=0.3
    )
    async with store.lock("long"):
        await asyncio.sleep(1.0)  # more than three expiry periods
        with pytest.raises(ConversationLockTimeout):
            async with store.lock("long", timeout=0.1):
                pass
    await store.close()


async def test_redis_release_never_deletes_a_lock_someone_else_now_holds(
    store: RedisConversationStore,
) -> None:
    key = store.lock_key("stolen")
    async with store.lock("stolen"):
        # Simulate: our lock expired and another replica took it.
        await store._client.set(key, "other-token")
    assert await store._client.get(key) == b"other-token"


_CONTENDER = """
import asyncio, os, sys, time
from action_server.stores.redis_store import RedisConversationStore

async def main():
    port, prefix, log, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = RedisConversationStore(host="127.0.0.1", port=port, key_prefix=prefix, lock_expiry=10)
    for _ in range(rounds):
        async with store.lock("shared", timeout=60):
            with open(log, "a") as f:
                f.write(f"{os.getpid()} enter\\n")
            await asyncio.sleep(0.03)
            with open(log, "a") as f:
                f.write(f"{os.getpid()} exit\\n")
    await store.close()

asyncio.run(main())
"""


def test_redis_lock_keeps_two_processes_out_of_one_conversation(
    redis_port: int, tmp_path: Path
) -> None:
    log = tmp_path / "trace.log"
    prefix = f"xproc-{uuid.uuid4().hex}"
    args = [str(redis_port), prefix, str(log), "5"]
    workers = [
        subprocess.Popen([sys.executable, "-c", _CONTENDER, *args], cwd=ROOT) for _ in range(2)
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 20
    pids = set()
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        pid, what = enter.split()
        assert what == "enter" and leave == f"{pid} exit", lines
        pids.add(pid)
    assert len(pids) == 2


_CRASHING_HOLDER = """
import asyncio, sys
from action_server.stores.redis_store import RedisConversationStore

async def main():
    port, prefix = int(sys.argv[1]), sys.argv[2]
    store = RedisConversationStore(host="127.0.0.1", port=port, key_prefix=prefix, lock_expiry=1)
    async with store.lock("orphan"):
        print("locked", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_redis_lock_of_a_crashed_holder_expires_after_lock_expiry(redis_port: int) -> None:
    prefix = f"crash-{uuid.uuid4().hex}"
    holder = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_HOLDER, str(redis_port), prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(holder.stdout.readline), timeout=60)
        assert line.strip() == "locked"
        store = RedisConversationStore(
            host="127.0.0.1", port=redis_port, key_prefix=prefix, lock_expiry=1
        )
        with pytest.raises(ConversationLockTimeout):
            async with store.lock("orphan", timeout=0.1):
                pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        async with store.lock("orphan", timeout=30):
            pass
        await store.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
