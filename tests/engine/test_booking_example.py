"""The example project in flows/ with the example actions/, wired from endpoints.yml."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from action_server.client.action_client import InProcessTransport
from action_server.dialogue.engine import FlowEngine, FlowEngineError
from action_server.flows.issues import FlowsLoadError
from action_server.stores.store import InMemoryConversationStore
from tests.engine.helpers import flow_events, texts

ROOT = Path(__file__).resolve().parents[2]


def booking_engine(tmp_path: Path) -> FlowEngine:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("action_endpoint:\n  actions_module: actions\n", encoding="utf-8")
    return FlowEngine.from_paths(
        flows=[ROOT / "flows"], endpoints=endpoints, store=InMemoryConversationStore()
    )


async def test_a_whole_booking_conversation(tmp_path: Path) -> None:
    engine = booking_engine(tmp_path)
    turns = [
        ("/greet", ["Hi! I can book you a table or cancel a booking."]),
        ("/book_table", ["Which cuisine would you like?"]),
        ("/SetSlots(cuisine=italian)", ["For how many people?"]),
        ("0", ["The party needs at least one person.", "For how many people?"]),
        ("4", ["What time would you like the table (for example 19:30)?"]),
        (
            "19:30",
            [
                "Let me check 19:30 for you...",
                "Under which name should I book the table?",
            ],
        ),
        ("Ada", ["Thanks Ada. What phone number can we reach you on?"]),
        (
            "+44 20 7946 0000",
            [
                "Done! A italian table for 4 at 19:30 is booked for Ada.",
                "We'll text a reminder to +44 20 7946 0000.",
                "Is there anything else I can help you with?",
            ],
        ),
    ]
    for message, expected in turns:
        assert texts(await engine.handle("guest", message)) == expected, message
    tracker = await engine.tracker("guest")
    assert tracker["stack"] == []
    assert tracker["slots"]["booking_confirmed"] is True
    assert tracker["slots"]["cuisine"] == "italian"  # persisted_slots
    result = await engine.handle("guest", "/cancel_booking")
    assert texts(result) == ["Cancel your italian table at 19:30?"]
    result = await engine.handle("guest", "/SetSlots(confirm_cancel=true)")
    assert texts(result) == [
        "Your booking is cancelled.",
        "Is there anything else I can help you with?",
    ]
    assert ("flow_completed", "cancel_booking") in flow_events(result)
    await engine.close()


async def test_conversations_run_concurrently_and_each_one_serially(tmp_path: Path) -> None:
    engine = booking_engine(tmp_path)
    await asyncio.gather(*(engine.handle(f"guest-{i}", "/book_table") for i in range(5)))
    # Two messages of one conversation at once: the lock makes them apply one after another.
    first, second = await asyncio.gather(
        engine.handle("guest-0", "/SetSlots(cuisine=indian)"),
        engine.handle("guest-0", "3"),
    )
    assert texts(first) == ["For how many people?"]
    assert texts(second) == ["What time would you like the table (for example 19:30)?"]
    for i in range(1, 5):
        stack = (await engine.tracker(f"guest-{i}"))["stack"]
        assert [f["flow_id"] for f in stack] == ["book_table"]


def test_from_paths_lists_every_validation_problem(tmp_path: Path) -> None:
    (tmp_path / "endpoints.yml").write_text(
        "action_endpoint:\n  actions_module: actions\n", encoding="utf-8"
    )
    (tmp_path / "flows.yml").write_text(
        "flows:\n  f:\n    description: x\n    steps:\n      - action: action_nope\n"
        "      - collect: ghost\n",
        encoding="utf-8",
    )
    with pytest.raises(FlowsLoadError) as info:
        FlowEngine.from_paths(flows=[tmp_path / "flows.yml"], endpoints=tmp_path / "endpoints.yml")
    message = str(info.value)
    assert "action_nope" in message and "ghost" in message and "flows.yml:" in message


def test_from_paths_needs_an_action_endpoint(tmp_path: Path) -> None:
    (tmp_path / "endpoints.yml").write_text("tracker_store:\n  type: memory\n", encoding="utf-8")
    with pytest.raises(FlowEngineError, match="action_endpoint"):
        FlowEngine.from_paths(flows=[ROOT / "flows"], endpoints=tmp_path / "endpoints.yml")


async def test_from_paths_with_actions_module_and_url_runs_in_process_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  actions_module: actions\n  url: http://127.0.0.1:9/webhook\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        engine = FlowEngine.from_paths(
            flows=[ROOT / "flows"], endpoints=endpoints, store=InMemoryConversationStore()
        )
    assert "sets both actions_module 'actions' and url" in caplog.text
    assert isinstance(engine.action_client.transport, InProcessTransport)
    assert "action_check_availability" in engine.registered_actions
    await engine.close()
