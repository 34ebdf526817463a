"""pre_actions / post_actions: order, built-in and custom types, function handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from action_server.dialogue.engine import ENDED_TEXT
from action_server.dialogue.step_actions import (
    DEFAULT_REGISTRY,
    FlowContext,
    StepActionError,
    StepActionRegistry,
)
from tests.engine.helpers import ANYTHING_ELSE, event_names, make_engine, texts

ORDER_FLOWS = """
flows:
  ordered:
    description: every place a step action can go
    nlu_trigger:
      - intent: go
    pre_actions:
      - type: say
        text: "flow pre"
    post_actions:
      - type: say
        text: "flow post"
    steps:
      - collect: answer
        pre_actions:
          - type: say
            text: "collect pre"
        post_actions:
          - type: tts_say
            text: "collect post {answer}"
      - action: action_set_flag
        pre_actions:
          - type: say
            text: "pre 1"
          - type: say
            text: "pre 2"
        post_actions:
          - type: say
            text: "post 1 flag={flag}"
          - type: say
            text: "post 2"
"""


async def test_order_is_pre_actions_step_messages_then_post_actions(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ORDER_FLOWS)
    assert texts(await engine.handle("c", "/go")) == ["flow pre", "collect pre", "Yes or no?"]
    assert texts(await engine.handle("c", "yes")) == [
        "collect post yes",
        "pre 1",
        "pre 2",
        "checking",
        "post 1 flag=True",
        "post 2",
        "flow post",
        ANYTHING_ELSE,
    ]


async def test_say_messages_are_recorded_as_bot_events(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ORDER_FLOWS)
    result = await engine.handle("c", "/go")
    bots = [e["text"] for e in result.events if e["event"] == "bot"]
    assert bots == ["flow pre", "collect pre", "Yes or no?"]


async def test_custom_types_are_registered_like_built_ins(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    async def sms(action: dict[str, Any], context: FlowContext) -> None:
        seen.append(action)
        context.add_message({"custom": {"sms": action["to"]}})

    registry = DEFAULT_REGISTRY.copy()
    registry.register("send_sms", sms)
    flows = """
    flows:
      f:
        description: custom step action
        nlu_trigger:
          - intent: go
        steps:
          - action: utter_yes
            post_actions:
              - type: send_sms
                to: "+441234"
    """
    engine = make_engine(tmp_path, flows, step_actions=registry)
    result = await engine.handle("c", "/go")
    assert result.messages == [
        {"text": "You said yes"},
        {"custom": {"sms": "+441234"}},
        {"text": ANYTHING_ELSE},
    ]
    assert seen == [{"type": "send_sms", "to": "+441234"}]
    assert "send_sms" not in DEFAULT_REGISTRY.known_types()


def test_unknown_step_action_type_is_a_validation_error(tmp_path: Path) -> None:
    from action_server.flows.issues import FlowsLoadError

    flows = """
    flows:
      f:
        description: unknown type
        steps:
          - action: utter_yes
            pre_actions:
              - type: fax
    """
    with pytest.raises(FlowsLoadError, match="fax"):
        make_engine(tmp_path, flows)


async def test_function_handlers_sync_and_async_read_and_set_slots(tmp_path: Path) -> None:
    flows = """
    flows:
      f:
        description: functions
        nlu_trigger:
          - intent: go
        steps:
          - id: fn
            action: utter_yes
            pre_actions:
              - type: function
                handler: "tests.engine.handlers:remember"
                value: 7
              - type: function
                handler: "tests.engine.handlers:remember_async"
          - action: utter_done
    """
    engine = make_engine(tmp_path, flows)
    result = await engine.handle("c", '/go{"answer": "A"}')
    assert texts(result) == [
        "function saw answer=A",
        "async A",
        "You said yes",
        "Done with A",
        ANYTHING_ELSE,
    ]
    notes = [e["value"] for e in result.events if e["event"] == "slot" and e["name"] == "note"]
    assert notes == ["7 in f/fn"]


async def test_broken_function_handler_cancels_the_flow_and_names_the_handler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flows = """
    flows:
      f:
        description: broken functions
        nlu_trigger:
          - intent: go
        steps:
          - action: utter_yes
            pre_actions:
              - type: function
                handler: "tests.engine.handlers:explode"
          - action: utter_no
            pre_actions:
              - type: function
                handler: "tests.engine.nope:missing"
    """
    engine = make_engine(tmp_path, flows)
    result = await engine.handle("c", "/go")
    assert texts(result) == [
        "Sorry, something went wrong on my side. Please try again in a moment."
    ]
    assert "handler broke" in caplog.text and "flows.yml:" in caplog.text


async def test_registry_errors_name_type_and_place() -> None:
    registry = StepActionRegistry()
    context = FlowContext(
        conversation_id="c",
        flow_id="f",
        step_id="s",
        slots={},
        set_slot=lambda n, v: None,
        add_message=lambda m: None,
        end_conversation=lambda r: None,
    )
    with pytest.raises(StepActionError, match=r"flows.yml:3:5: unknown step action type 'x'"):
        await registry.run({"type": "x"}, context, "flows.yml:3:5")
    with pytest.raises(StepActionError, match="package.module:function"):
        DEFAULT_REGISTRY.resolve_function("no_colon")
    with pytest.raises(StepActionError, match="cannot import module 'tests.engine.nope'"):
        DEFAULT_REGISTRY.resolve_function("tests.engine.nope:f")


END_FLOWS = """
flows:
  bye:
    description: ends the conversation
    nlu_trigger:
      - intent: bye
    steps:
      - action: utter_yes
        post_actions:
          - type: end_conversation
            text: "Goodbye {answer}"
      - action: utter_no
  transfer:
    description: hands over to a human
    nlu_trigger:
      - intent: human
    steps:
      - noop: true
        pre_actions:
          - type: transfer
            target: "+15550100"
            text: "Transferring you now"
        next: END
"""


async def test_end_conversation_ends_and_later_input_is_answered_clearly(
    tmp_path: Path,
) -> None:
    engine = make_engine(tmp_path, END_FLOWS)
    result = await engine.handle("c", '/bye{"answer": "Ada"}')
    assert texts(result) == ["You said yes", "Goodbye Ada"]
    assert event_names(result)[-1] == "session_ended"
    tracker = await engine.tracker("c")
    assert tracker["stack"] == [] and tracker["ended"] is True
    later = await engine.handle("c", "hello?")
    assert texts(later) == [ENDED_TEXT] and later.events == []
    restarted = await engine.handle("c", "/restart")
    assert "restart" in event_names(restarted)
    assert texts(await engine.handle("c", "/bye")) == ["You said yes", "Goodbye None"]


async def test_transfer_sends_a_custom_message_and_ends_the_conversation(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, END_FLOWS)
    result = await engine.handle("c", "/human")
    assert result.messages == [
        {"text": "Transferring you now"},
        {"custom": {"type": "transfer", "target": "+15550100"}},
    ]
    assert result.events[-1]["metadata"] == {"reason": "transfer"}
