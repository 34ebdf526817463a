"""The ``transfer`` step action: caller id, timeout (5-120 s) and fallback text for voice."""

from __future__ import annotations

from typing import Any

import pytest

from action_server.dialogue.step_actions import DEFAULT_REGISTRY, FlowContext, StepActionError


def context(messages: list[dict[str, Any]], ended: list[str]) -> FlowContext:
    return FlowContext(
        conversation_id="c",
        flow_id="f",
        step_id="s",
        slots={"team": "sales"},
        set_slot=lambda n, v: None,
        add_message=messages.append,
        end_conversation=ended.append,
    )


async def test_transfer_carries_caller_id_timeout_and_fallback() -> None:
    messages: list[dict[str, Any]] = []
    ended: list[str] = []
    action = {
        "type": "transfer",
        "target": "+49301234567",
        "text": "Connecting you to {team}.",
        "caller_id_name": "Hotline {team}",
        "caller_id_number": 49301112222,
        "timeout": 30,
        "fallback_text": "Nobody from {team} answered.",
    }
    await DEFAULT_REGISTRY.run(action, context(messages, ended), "flows.yml:9:11")
    assert messages[-1] == {
        "custom": {
            "type": "transfer",
            "target": "+49301234567",
            "caller_id_name": "Hotline sales",
            "caller_id_number": "49301112222",
            "timeout": 30,
            "fallback_text": "Nobody from sales answered.",
        }
    }
    assert ended == ["transfer"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("timeout", 4, "'timeout' must be whole seconds from 5 to 120, got 4"),
        ("timeout", 121, "from 5 to 120, got 121"),
        ("timeout", "30", "from 5 to 120, got '30'"),
        ("timeout", True, "from 5 to 120, got True"),
        ("caller_id_name", "  ", "'caller_id_name' must be a non-empty string"),
        ("caller_id_number", ["1"], "'caller_id_number' must be a non-empty string"),
    ],
)
async def test_bad_transfer_options_name_the_field_and_place(
    field: str, value: Any, error: str
) -> None:
    action = {"type": "transfer", "target": "+49301234567", field: value}
    with pytest.raises(StepActionError, match=r"flows.yml:9:11") as raised:
        await DEFAULT_REGISTRY.run(action, context([], []), "flows.yml:9:11")
    assert error in str(raised.value)
