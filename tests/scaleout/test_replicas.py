"""Several replicas against one Redis: conversations hop between them, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.helpers import ServerProcess
from tests.scaleout.conftest import replica_args, write_endpoints

CONVERSATIONS = 20
ANSWERS = 6
TEST_BUDGET = 120.0  # seconds for a whole test: only a hang would come near it
T = TypeVar("T")


@pytest.fixture(scope="module")
def replicas(
    server_factory: ServerFactory, redis_port: int, tmp_path_factory: pytest.TempPathFactory
) -> list[ServerProcess]:
    """Two replicas of one deployment; the second runs two worker processes itself."""
    endpoints = write_endpoints(tmp_path_factory.mktemp("scaleout"), redis_port)
    args = replica_args(endpoints)
    return [server_factory(*args), server_factory(*args, "--workers", "2")]


def run(work: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(work(), TEST_BUDGET))


def event(kind: str, session_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "session": {"id": session_id, "direction": "inbound"}, **fields}


async def post(
    client: httpx.AsyncClient, kind: str, session_id: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post("/webhooks/voice", json=event(kind, session_id, **fields))
    assert response.status_code == 200, f"{kind} for {session_id}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def answer(session_id: str, n: int) -> str:
    return f"{session_id}-answer-{n}"


def clients(servers: list[ServerProcess]) -> list[httpx.AsyncClient]:
    return [httpx.AsyncClient(base_url=s.url, timeout=30.0) for s in servers]


async def close(http: list[httpx.AsyncClient]) -> None:
    await asyncio.gather(*(client.aclose() for client in http))


def tracker(server: ServerProcess, session_id: str) -> dict[str, Any]:
    with server.client() as http:
        response = http.get(f"/conversations/{session_id}/tracker")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_complete(state: dict[str, Any], answers: list[str]) -> None:
    """Every answer exactly once, every question exactly once, one session start, ended."""
    events = state["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == answers
    assert [state["slots"][f"a{n}"] for n in range(1, ANSWERS + 1)] == answers
    bots = [e["text"] for e in events if e["event"] == "bot"]
    assert bots == [f"Question {n}?" for n in range(1, ANSWERS + 1)] + [" ".join(answers)]
    assert sum(e["event"] == "session_started" for e in events) == 1
    assert sum(e["event"] == "slot" for e in events) == ANSWERS
    assert state["ended"] is True


async def hop_through_call(http: list[httpx.AsyncClient], session_id: str, offset: int) -> None:
    """A whole call whose events alternate between the replicas."""
    turn = offset

    def next_client() -> httpx.AsyncClient:
        nonlocal turn
        turn += 1
        return http[turn % len(http)]

    first = await post(next_client(), "session_start", session_id)
    assert first["text"] == "Question 1?"
    for n in range(1, ANSWERS + 1):
        reply = await post(next_client(), "user_speak", session_id, text=answer(session_id, n))
        if n < ANSWERS:
            assert reply["text"] == f"Question {n + 1}?"
        else:
            expected = " ".join(answer(session_id, k) for k in range(1, ANSWERS + 1))
            assert reply["text"] == expected
    # The hangup was queued by one replica and is delivered by the other.
    assert await post(next_client(), "assistant_speech_ended", session_id) == {
        "session_id": session_id,
        "type": "hangup",
    }


def test_conversations_alternating_between_replicas_lose_and_duplicate_nothing(
    replicas: list[ServerProcess],
) -> None:
    sessions = [f"hop-{n}" for n in range(CONVERSATIONS)]

    async def scenario() -> None:
        http = clients(replicas)
        try:
            await asyncio.gather(
                *(hop_through_call(http, sid, n) for n, sid in enumerate(sessions))
            )
        finally:
            await close(http)

    run(scenario)
    for n, session_id in enumerate(sessions):
        state = tracker(replicas[n % 2], session_id)
        assert_complete(state, [answer(session_id, k) for k in range(1, ANSWERS + 1)])
        assert state == tracker(replicas[(n + 1) % 2], session_id)


def test_simultaneous_messages_of_one_conversation_are_handled_one_after_the_other(
    replicas: list[ServerProcess],
) -> None:
    sessions = [f"race-{n}" for n in range(CONVERSATIONS // 2)]

    async def race(http: list[httpx.AsyncClient], session_id: str) -> None:
        await post(http[0], "session_start", session_id)
        for n in range(1, ANSWERS + 1, 2):
            # Two answers at once, one to each replica: the lock makes them take turns.
            replies = await asyncio.gather(
                post(http[0], "user_speak", session_id, text=answer(session_id, n)),
                post(http[1], "user_speak", session_id, text=answer(session_id, n + 1)),
            )
            texts = {reply["text"] for reply in replies}
            if n + 1 < ANSWERS:
                assert texts == {f"Question {n + 1}?", f"Question {n + 2}?"}

    async def scenario() -> None:
        http = clients(replicas)
        try:
            await asyncio.gather(*(race(http, sid) for sid in sessions))
        finally:
            await close(http)

    run(scenario)
    for session_id in sessions:
        state = tracker(replicas[0], session_id)
        arrived = [e["text"] for e in state["events"] if e["event"] == "user"]
        assert sorted(arrived) == [answer(session_id, k) for k in range(1, ANSWERS + 1)]
        assert_complete(state, arrived)


@pytest.fixture
def doomed_pair(redis_port: int, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    endpoints = write_endpoints(tmp_path, redis_port)
    servers = [ServerProcess(replica_args(endpoints)) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.close()


def test_a_replica_killed_mid_conversation_leaves_the_call_to_the_other(
    doomed_pair: list[ServerProcess],
) -> None:
    doomed, survivor = doomed_pair
    sessions = [f"kill-{n}" for n in range(5)]

    async def scenario() -> None:
        http = clients([doomed, survivor])
        try:
            for session_id in sessions:
                await post(http[0], "session_start", session_id)
            for n in (1, 2, 3):
                replies = await asyncio.gather(
                    *(post(http[n % 2], "user_speak", sid, text=answer(sid, n)) for sid in sessions)
                )
                assert {reply["text"] for reply in replies} == {f"Question {n + 1}?"}
            assert doomed.process is not None
            os.killpg(doomed.process.pid, signal.SIGKILL)
            doomed.process.wait(timeout=10)
            with pytest.raises(httpx.TransportError):
                await post(http[0], "user_speak", sessions[0], text="lost")
            for sid in sessions:
                for n in range(4, ANSWERS + 1):
                    await post(http[1], "user_speak", sid, text=answer(sid, n))
                hangup = await post(http[1], "assistant_speech_ended", sid)
                assert hangup == {"session_id": sid, "type": "hangup"}
        finally:
            await close(http)

    run(scenario)
    for session_id in sessions:
        answers = [answer(session_id, k) for k in range(1, ANSWERS + 1)]
        assert_complete(tracker(survivor, session_id), answers)
