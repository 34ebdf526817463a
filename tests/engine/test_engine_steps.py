"""Step kinds, branching, collect semantics and action calls, through the real engine."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import ANYTHING_ELSE, event_names, flow_events, make_engine, texts

ASK_FLOW = """
flows:
  ask:
    description: ask yes or no, then branch on an action's result
    nlu_trigger:
      - intent: start
    steps:
      - collect: answer
      - action: action_set_flag
        next:
          - if: slots.flag
            then:
              - action: utter_yes
                next: END
          - else:
              - action: utter_no
                next: END
"""


async def test_action_result_feeds_the_branch_that_follows(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ASK_FLOW)
    assert texts(await engine.handle("c", "/start")) == ["Yes or no?"]
    assert texts(await engine.handle("c", "yes")) == ["checking", "You said yes", ANYTHING_ELSE]
    await engine.handle("d", "/start")
    assert texts(await engine.handle("d", "no")) == ["checking", "You said no", ANYTHING_ELSE]


async def test_flow_events_and_action_listen_are_recorded_like_rasa(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ASK_FLOW)
    first = await engine.handle("c", "/start")
    assert event_names(first) == ["user", "flow_started", "action", "bot", "action"]
    assert first.events[2]["name"] == "utter_ask_answer"
    assert first.events[-1]["name"] == "action_listen"
    second = await engine.handle("c", "yes")
    completed = [e for e in second.events if e["event"] == "flow_completed"]
    assert completed and completed[0]["flow_id"] == "ask"
    assert completed[0]["step_id"]


async def test_collected_slots_are_reset_when_the_flow_ends(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ASK_FLOW)
    await engine.handle("c", "/start")
    await engine.handle("c", "yes")
    tracker = await engine.tracker("c")
    assert tracker["slots"]["answer"] is None
    assert tracker["slots"]["flag"] is True  # set by an action, not by the flow
    assert tracker["stack"] == []


async def test_action_call_carries_tracker_and_domain_and_renders_named_responses(
    tmp_path: Path,
) -> None:
    flows = """
    flows:
      echo:
        description: echo the call
        nlu_trigger:
          - intent: echo
        steps:
          - action: action_echo_call
    """
    engine = make_engine(tmp_path, flows)
    result = await engine.handle("conv-7", '/echo{"answer": "maybe"}')
    assert texts(result) == [
        'sender=conv-7 answer=maybe latest=/echo{"answer": "maybe"} '
        "domain_slots=age,answer,color,confirm_slot_correction,consecutive_silence_timeouts,"
        "continue_interrupted_flow_confirmation,flag,interrupted_flow_to_continue,kept,note,"
        "route_session_to_calm,size",
        "Hello echo",
        ANYTHING_ELSE,
    ]


async def test_collect_is_skipped_when_the_slot_is_already_set(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ASK_FLOW)
    result = await engine.handle("c", '/start{"answer": "yes"}')
    assert texts(result) == ["checking", "You said yes", ANYTHING_ELSE]


async def test_ask_before_filling_asks_even_when_set(tmp_path: Path) -> None:
    flows = """
    flows:
      confirm:
        description: always ask
        nlu_trigger:
          - intent: go
        steps:
          - collect: answer
            ask_before_filling: true
          - action: utter_done
    """
    engine = make_engine(tmp_path, flows)
    assert texts(await engine.handle("c", '/go{"answer": "old"}')) == ["Yes or no?"]
    assert texts(await engine.handle("c", "new")) == ["Done with new", ANYTHING_ELSE]


async def test_invalid_value_for_the_slot_type_re_asks_with_a_message(tmp_path: Path) -> None:
    flows = """
    flows:
      age:
        description: ask age
        nlu_trigger:
          - intent: go
        steps:
          - collect: age
          - action: utter_too_young
    """
    engine = make_engine(tmp_path, flows)
    await engine.handle("c", "/go")
    result = await engine.handle("c", "abc")
    assert len(result.messages) == 2
    assert "abc" in str(result.messages[0]["text"]) and "age" in str(result.messages[0]["text"])
    assert result.messages[1] == {"text": "How old are you?"}
    assert texts(await engine.handle("c", "7")) == ["Too young: 7.0", ANYTHING_ELSE]


async def test_categorical_answers_match_case_insensitively(tmp_path: Path) -> None:
    flows = """
    flows:
      size:
        description: size
        nlu_trigger:
          - intent: go
        steps:
          - collect: size
          - action: utter_done
    """
    engine = make_engine(tmp_path, flows)
    await engine.handle("c", "/go")
    assert texts(await engine.handle("c", "LARGE"))[0] == "Done with None"
    assert (await engine.tracker("c"))["slots"]["size"] is None  # reset at the end


async def test_first_matching_rejection_utters_and_re_asks(tmp_path: Path) -> None:
    flows = """
    flows:
      age:
        description: ask age
        nlu_trigger:
          - intent: go
        steps:
          - collect: age
            rejections:
              - if: slots.age < 18
                utter: utter_too_young
              - if: slots.age < 30
                utter: utter_no
          - action: utter_yes
    """
    engine = make_engine(tmp_path, flows)
    await engine.handle("c", "/go")
    assert texts(await engine.handle("c", "12")) == ["Too young: 12.0", "How old are you?"]
    assert (await engine.tracker("c"))["slots"]["age"] is None
    assert texts(await engine.handle("c", "25")) == ["You said no", "How old are you?"]
    assert texts(await engine.handle("c", "40")) == ["You said yes", ANYTHING_ELSE]


async def test_validate_slot_action_can_reset_the_slot_to_re_ask(tmp_path: Path) -> None:
    flows = """
    flows:
      age:
        description: ask age
        nlu_trigger:
          - intent: go
        steps:
          - collect: age
          - action: utter_too_young
    """
    engine = make_engine(tmp_path, flows)
    await engine.handle("c", "/go")
    assert texts(await engine.handle("c", "200")) == ["Nobody is that old.", "How old are you?"]
    assert texts(await engine.handle("c", "50")) == ["Too young: 50.0", ANYTHING_ELSE]


async def test_action_ask_slot_asks_when_there_is_no_utter_response(tmp_path: Path) -> None:
    flows = """
    flows:
      color:
        description: color
        nlu_trigger:
          - intent: go
        steps:
          - collect: color
          - action: utter_done
    """
    engine = make_engine(tmp_path, flows)
    result = await engine.handle("c", "/go")
    assert result.messages == [
        {"text": "Pick a color", "buttons": [{"title": "Red", "payload": "red"}]}
    ]


async def test_explicit_utter_on_collect_is_used(tmp_path: Path) -> None:
    flows = """
    flows:
      ask:
        description: ask
        nlu_trigger:
          - intent: go
        steps:
          - collect: note
            utter: utter_no
    """
    engine = make_engine(tmp_path, flows)
    assert texts(await engine.handle("c", "/go")) == ["You said no"]


async def test_set_slots_and_noop_steps(tmp_path: Path) -> None:
    flows = """
    flows:
      setter:
        description: set and branch
        nlu_trigger:
          - intent: go
        steps:
          - set_slots:
              - answer: "yes"
              - age: "42"
          - noop: true
            next:
              - if: slots.age = 42
                then:
                  - action: utter_done
                    next: END
              - else: END
    """
    engine = make_engine(tmp_path, flows)
    result = await engine.handle("c", "/go")
    assert texts(result) == ["Done with yes", ANYTHING_ELSE]
    slot_events = [(e["name"], e["value"]) for e in result.events if e["event"] == "slot"]
    assert slot_events[:2] == [("answer", "yes"), ("age", 42.0)]
    assert (await engine.tracker("c"))["slots"]["answer"] is None


async def test_failing_action_cancels_the_flow_with_a_clear_message(tmp_path: Path) -> None:
    flows = """
    flows:
      boom:
        description: fails
        nlu_trigger:
          - intent: go
        steps:
          - action: action_boom
          - action: utter_yes
    """
    engine = make_engine(tmp_path, flows)
    result = await engine.handle("c", "/go")
    assert texts(result) == [
        "Sorry, something went wrong on my side. Please try again in a moment."
    ]
    assert ("flow_cancelled", "boom") in flow_events(result)
    assert ("flow_started", "pattern_internal_error") in flow_events(result)
    assert (await engine.tracker("c"))["stack"] == []


async def test_followup_action_runs_after_the_action(tmp_path: Path) -> None:
    flows = """
    flows:
      f:
        description: followup
        nlu_trigger:
          - intent: go
        steps:
          - action: action_with_followup
    """
    engine = make_engine(tmp_path, flows)
    assert texts(await engine.handle("c", "/go")) == ["first", "checking", ANYTHING_ELSE]


async def test_circuit_breaker_cancels_a_flow_that_never_waits(tmp_path: Path) -> None:
    flows = """
    flows:
      loop:
        description: loops forever
        nlu_trigger:
          - intent: go
        steps:
          - id: a
            action: utter_yes
            next: b
          - id: b
            action: utter_no
            next:
              - if: slots.answer = "never"
                then: END
              - else: a
    """
    engine = make_engine(tmp_path, flows, validate=False, max_steps_per_turn=20)
    result = await engine.handle("c", "/go")
    assert "ran more than 20 steps" in str(result.messages[-1]["text"])
    assert ("flow_cancelled", "loop") in flow_events(result)
    assert len(result.messages) <= 22
    assert (await engine.tracker("c"))["stack"] == []


async def test_unknown_text_without_a_question_gets_a_clear_answer(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ASK_FLOW)
    result = await engine.handle("c", "what?")
    assert texts(result) == ["Sorry, I'm not sure I understood that. Could you say it another way?"]


async def test_tracker_has_rasa_fields(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, ASK_FLOW)
    await engine.handle("c", "/start")
    tracker = await engine.tracker("c")
    for key in (
        "sender_id",
        "slots",
        "latest_message",
        "events",
        "paused",
        "followup_action",
        "active_loop",
        "latest_action_name",
        "latest_action",
        "stack",
    ):
        assert key in tracker
    assert tracker["sender_id"] == "c"
    assert tracker["latest_message"]["intent"]["name"] == "start"
    assert tracker["latest_action_name"] == "action_listen"
    assert tracker["stack"][0]["flow_id"] == "ask"
    assert tracker["stack"][0]["state"] == "asked"
    unseen = await engine.tracker("nobody")
    assert unseen["events"] == [] and unseen["sender_id"] == "nobody"
