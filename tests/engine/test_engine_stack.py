"""call, link, END slot resets, interruptions, cancel and guards: the dialogue stack."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import flow_events, make_engine, texts

STACK_FLOWS = """
flows:
  main:
    description: calls a child flow, then reports
    nlu_trigger:
      - intent: main
    persisted_slots: [kept]
    steps:
      - collect: answer
      - collect: kept
      - call: child
      - action: utter_done
  child:
    description: only callable
    if: false
    steps:
      - collect: note
  side:
    description: an interruption
    nlu_trigger:
      - intent: side
    steps:
      - collect: age
      - action: utter_too_young
  jumper:
    description: links to main
    nlu_trigger:
      - intent: jump
    steps:
      - set_slots:
          - color: blue
      - link: main
"""


async def test_call_pushes_the_child_and_continues_at_the_callers_next(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    await engine.handle("c", "/main")
    await engine.handle("c", "yes")
    result = await engine.handle("c", "keep me")
    assert texts(result) == ["Any note?"]
    assert ("flow_started", "child") in flow_events(result)
    stack = (await engine.tracker("c"))["stack"]
    assert [(f["flow_id"], f["frame_type"]) for f in stack] == [
        ("main", "regular"),
        ("child", "call"),
    ]
    result = await engine.handle("c", "a note")
    assert texts(result) == ["Done with yes", "Is there anything else I can help you with?"]
    assert flow_events(result) == [
        ("flow_completed", "child"),
        ("flow_completed", "main"),
        ("flow_started", "pattern_completed"),
        ("flow_completed", "pattern_completed"),
    ]


async def test_end_resets_collected_and_called_slots_but_not_persisted_ones(
    tmp_path: Path,
) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    for message in ["/main", "yes", "keep me"]:
        await engine.handle("c", message)
    slots_during = (await engine.tracker("c"))["slots"]
    assert slots_during["answer"] == "yes" and slots_during["kept"] == "keep me"
    await engine.handle("c", "a note")
    slots = (await engine.tracker("c"))["slots"]
    assert slots["answer"] is None
    assert slots["note"] is None  # collected by the called flow, reset with its caller
    assert slots["kept"] == "keep me"  # persisted_slots


async def test_link_replaces_the_flow_and_resets_its_slots(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    result = await engine.handle("c", "/jump")
    assert texts(result) == ["Yes or no?"]
    assert flow_events(result) == [
        ("flow_started", "jumper"),
        ("flow_completed", "jumper"),
        ("flow_started", "main"),
    ]
    tracker = await engine.tracker("c")
    assert [(f["flow_id"], f["frame_type"]) for f in tracker["stack"]] == [("main", "link")]
    assert tracker["slots"]["color"] is None


async def test_starting_a_flow_interrupts_and_the_old_flow_resumes_and_re_asks(
    tmp_path: Path,
) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    await engine.handle("c", "/main")
    result = await engine.handle("c", "/side")
    assert texts(result) == ["How old are you?"]
    assert flow_events(result) == [("flow_interrupted", "main"), ("flow_started", "side")]
    stack = (await engine.tracker("c"))["stack"]
    assert [(f["flow_id"], f["frame_type"]) for f in stack] == [
        ("main", "regular"),
        ("side", "interrupt"),
    ]
    result = await engine.handle("c", "30")
    # Rasa's pattern_continue_interrupted asks before going back (the slot is a float: 30.0).
    assert texts(result) == ["Too young: 30.0", "Shall we go back to main?"]
    assert flow_events(result) == [
        ("flow_completed", "side"),
        ("flow_started", "pattern_continue_interrupted"),
    ]
    result = await engine.handle("c", "yes")
    assert texts(result) == ["Yes or no?"]
    assert ("flow_resumed", "main") in flow_events(result)
    assert texts(await engine.handle("c", "yes")) == ["What should I keep?"]


async def test_declining_to_continue_cancels_the_interrupted_flow(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    await engine.handle("c", "/main")
    await engine.handle("c", "/side")
    await engine.handle("c", "30")
    result = await engine.handle("c", "/SetSlots(continue_interrupted_flow_confirmation=false)")
    assert ("flow_cancelled", "main") in flow_events(result)
    assert texts(result) == []
    assert (await engine.tracker("c"))["stack"] == []


async def test_cancel_pops_the_flow_resets_its_slots_and_resumes_below(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    await engine.handle("c", "/main")
    await engine.handle("c", "/side")
    result = await engine.handle("c", "/CancelFlow")
    assert texts(result) == ["Alright, I've stopped side.", "Yes or no?"]
    assert flow_events(result) == [
        ("flow_started", "pattern_cancel_flow"),
        ("flow_cancelled", "side"),
        ("flow_completed", "pattern_cancel_flow"),
    ]
    await engine.handle("c", "yes")
    result = await engine.handle("c", "/CancelFlow")
    assert texts(result) == ["Alright, I've stopped main."]
    tracker = await engine.tracker("c")
    assert tracker["stack"] == [] and tracker["slots"]["answer"] is None


async def test_cancel_inside_a_called_flow_cancels_its_caller_too(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    for message in ["/main", "yes", "keep me"]:
        await engine.handle("c", message)
    result = await engine.handle("c", "/CancelFlow")
    assert flow_events(result)[1:3] == [("flow_cancelled", "child"), ("flow_cancelled", "main")]
    assert (await engine.tracker("c"))["stack"] == []


async def test_cancel_with_nothing_running_goes_to_cannot_handle(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    result = await engine.handle("c", "/CancelFlow")
    assert texts(result) == ["Sorry, I'm not sure I understood that. Could you say it another way?"]
    assert ("flow_started", "pattern_cannot_handle") in flow_events(result)


async def test_guard_false_flows_cannot_be_started_by_the_user(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    result = await engine.handle("c", "/StartFlow(child)")
    # Dropped silently, as in Rasa; with nothing else to do the message cannot be handled.
    assert ("flow_started", "child") not in flow_events(result)
    assert ("flow_started", "pattern_cannot_handle") in flow_events(result)
    assert (await engine.tracker("c"))["stack"] == []


async def test_guard_on_slots_decides_whether_a_flow_may_start(tmp_path: Path) -> None:
    flows = """
    flows:
      vip:
        description: only with a flag
        if: slots.flag
        nlu_trigger:
          - intent: vip
        steps:
          - action: utter_yes
    """
    engine = make_engine(tmp_path, flows)
    assert ("flow_started", "vip") not in flow_events(await engine.handle("c", "/vip"))
    assert texts(await engine.handle("c", '/vip{"flag": true}'))[0] == "You said yes"


async def test_starting_the_active_flow_again_is_ignored(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    await engine.handle("c", "/main")
    result = await engine.handle("c", "/StartFlow(main)")
    assert texts(result) == ["Yes or no?"]
    assert len((await engine.tracker("c"))["stack"]) == 1


async def test_start_flow_api_starts_even_guarded_flows(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    result = await engine.start_flow("c", "child")
    assert texts(result) == ["Any note?"]


async def test_set_slots_payload_fills_ahead_and_skips_later_collects(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    await engine.handle("c", "/main")
    result = await engine.handle("c", '/SetSlots(answer=yes, kept="a, b")')
    assert texts(result) == ["Any note?"]


async def test_unknown_slot_in_payload_is_reported(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, STACK_FLOWS)
    result = await engine.handle("c", "/SetSlots(nope=1)")
    assert ("flow_started", "pattern_cannot_handle") in flow_events(result)
    assert texts(result) == ["Sorry, I'm not sure I understood that. Could you say it another way?"]
