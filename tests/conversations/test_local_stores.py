"""Memory and SQLite conversation stores: round trips, locking, persistence across processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from action_server.config.endpoints import TrackerStoreConfig
from action_server.stores import (
    ConversationLockTimeout,
    ConversationState,
    ConversationStore,
    ConversationStoreError,
    InMemoryConversationStore,
    create_store,
)
from action_server.stores.sqlite_store import SQLiteConversationStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConversationStore]:
    if request.param == "memory":
        created: ConversationStore = InMemoryConversationStore()
    else:
        created = SQLiteConversationStore(tmp_path / "conversations.db")
    yield created
    await created.close()


def _full_state(conversation_id: str = "alice") -> ConversationState:
    return ConversationState(
        conversation_id=conversation_id,
        events=[{"event": "user", "text": "héllo", "timestamp": 1.5}],
        slots={"city": "Berlin", "count": 3, "nested": {"a": [1, None, True]}},
        stack=[{"type": "flow", "flow_id": "transfer", "step_id": "ask_amount", "frame_id": "x"}],
        ended=True,
        metadata={"channel": "rest"},
        latest_message={"text": "héllo", "intent": {"name": "greet"}},
    )


async def test_load_returns_none_for_unknown_conversation(store: ConversationStore) -> None:
    assert await store.load("nobody") is None


async def test_saved_state_loads_back_with_every_field(store: ConversationStore) -> None:
    state = _full_state()
    await store.save(state)
    loaded = await store.load("alice")
    assert loaded == state
    assert loaded is not state


async def test_save_increments_version(store: ConversationStore) -> None:
    state = ConversationState("bob")
    await store.save(state)
    await store.save(state)
    assert state.version == 2
    loaded = await store.load("bob")
    assert loaded is not None and loaded.version == 2


async def test_mutating_state_after_save_does_not_change_what_was_saved(
    store: ConversationStore,
) -> None:
    state = ConversationState("carol", slots={"x": 1})
    await store.save(state)
    state.slots["x"] = 2
    state.events.append({"event": "bot"})
    loaded = await store.load("carol")
    assert loaded is not None
    assert loaded.slots == {"x": 1} and loaded.events == []


async def test_delete_forgets_conversation_and_ignores_unknown_ids(
    store: ConversationStore,
) -> None:
    await store.save(ConversationState("dave"))
    await store.delete("dave")
    await store.delete("never-existed")
    assert await store.load("dave") is None


async def test_save_of_non_json_state_names_the_conversation(store: ConversationStore) -> None:
    state = ConversationState("erin", slots={"when": object()})
    with pytest.raises(ConversationStoreError, match="conversation 'erin'.*not JSON-serializable"):
        await store.save(state)
    assert state.version == 0
    assert await store.load("erin") is None


async def test_two_messages_of_one_conversation_are_handled_one_at_a_time(
    store: ConversationStore,
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


async def test_different_conversations_are_handled_concurrently(store: ConversationStore) -> None:
    both_inside = asyncio.Event()
    inside = 0

    async def turn(conversation_id: str) -> None:
        nonlocal inside
        async with store.lock(conversation_id):
            inside += 1
            if inside == 2:
                both_inside.set()
            await asyncio.wait_for(both_inside.wait(), timeout=10)

    await asyncio.gather(turn("one"), turn("two"))


async def test_lock_wait_gives_up_with_conversation_lock_timeout(
    store: ConversationStore,
) -> None:
    async with store.lock("busy"):
        with pytest.raises(ConversationLockTimeout, match="'busy' within 0.05 s"):
            async with store.lock("busy", timeout=0.05):
                pass
    async with store.lock("busy", timeout=1):
        pass


async def test_locks_of_finished_conversations_are_dropped() -> None:
    store = InMemoryConversationStore()
    for i in range(50):
        async with store.lock(f"c{i}"):
            pass
    assert len(store._locks) == 0


def test_state_from_dict_names_the_field_with_the_wrong_type() -> None:
    with pytest.raises(
        ConversationStoreError, match="conversation 'x': field 'stack' must be a list"
    ):
        ConversationState.from_dict({"conversation_id": "x", "stack": {}})
    with pytest.raises(ConversationStoreError, match="'conversation_id' must be a string"):
        ConversationState.from_dict({"events": []})


def test_state_json_round_trip_keeps_unicode_and_nesting() -> None:
    state = _full_state()
    assert ConversationState.from_json(state.to_json()) == state


async def test_sqlite_store_reports_corrupt_rows_with_path_and_conversation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    store = SQLiteConversationStore(path)
    await store.save(ConversationState("frank"))
    await store._run(
        "corrupting",
        lambda db: db.execute("UPDATE conversations SET state = ? ", (b"{not json",)),
    )
    with pytest.raises(ConversationStoreError, match=r"c\.db', conversation 'frank'.*not JSON"):
        await store.load("frank")
    await store.close()


def test_sqlite_store_with_unusable_path_fails_at_creation(tmp_path: Path) -> None:
    with pytest.raises(ConversationStoreError, match="cannot open SQLite conversation store"):
        SQLiteConversationStore(tmp_path / "missing-dir" / "c.db")


_WRITER = """
import asyncio, sys
from action_server.stores.sqlite_store import SQLiteConversationStore
from action_server.stores import ConversationState

async def main():
    store = SQLiteConversationStore(sys.argv[1])
    await store.save(ConversationState("persisted", slots={"name": "Zoë"}, stack=[{"f": 1}]))
    await store.close()

asyncio.run(main())
"""

_READER = """
import asyncio, sys
from action_server.stores.sqlite_store import SQLiteConversationStore

async def main():
    store = SQLiteConversationStore(sys.argv[1])
    state = await store.load("persisted")
    print(state.to_json().decode())
    await store.close()

asyncio.run(main())
"""


def test_sqlite_state_survives_a_process_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "restart.db")
    subprocess.run([sys.executable, "-c", _WRITER, path], cwd=ROOT, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", _READER, path],
        cwd=ROOT,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    loaded = ConversationState.from_json(out)
    assert loaded.slots == {"name": "Zoë"} and loaded.stack == [{"f": 1}] and loaded.version == 1


def test_create_store_picks_the_configured_kind(tmp_path: Path) -> None:
    memory = create_store(TrackerStoreConfig(type="in_memory"))
    assert isinstance(memory, InMemoryConversationStore)
    sqlite = create_store(TrackerStoreConfig(type="sqlite", path=str(tmp_path / "x.db")))
    assert isinstance(sqlite, SQLiteConversationStore)
    asyncio.run(sqlite.close())
    from action_server.stores.redis_store import RedisConversationStore

    redis_store = create_store(TrackerStoreConfig(type="redis", port=1, key_prefix="p"))
    assert isinstance(redis_store, RedisConversationStore)
    assert redis_store.state_key("c") == "p:conversation:c"
