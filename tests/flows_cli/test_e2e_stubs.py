"""The stub transport answers stubbed actions (case-scoped first) and passes the rest on."""

from __future__ import annotations

from typing import Any

from action_server.client.action_client import Transport
from action_server.testing.cases import StubResult, TestSuite
from action_server.testing.runner import StubTransport, stubbed_action_names


class RecordingTransport(Transport):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def send(self, call: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(call["next_action"])
        return {"events": [], "responses": [{"text": "real"}]}


def stub(text: str) -> StubResult:
    return StubResult(
        events=[{"event": "slot", "name": "x", "value": 1}], responses=[{"text": text}]
    )


async def test_case_scoped_stub_wins_over_the_plain_one_and_others_reach_the_real_transport() -> (
    None
):
    real = RecordingTransport()
    transport = StubTransport(
        real, {"action_a": stub("plain"), "special::action_a": stub("scoped")}
    )
    transport.test_case = "special"
    scoped = await transport.send({"next_action": "action_a"})
    transport.test_case = "other"
    plain = await transport.send({"next_action": "action_a"})
    passed = await transport.send({"next_action": "action_b"})
    assert scoped["responses"] == [{"text": "scoped"}]
    assert plain["responses"] == [{"text": "plain"}]
    assert plain["events"] == [{"event": "slot", "name": "x", "value": 1}]
    assert passed["responses"] == [{"text": "real"}]
    assert real.calls == ["action_b"]


def test_stubbed_action_names_drop_the_test_case_prefix() -> None:
    suite = TestSuite(file="t.yml", stubs={"a": stub("1"), "case::b": stub("2")})
    assert stubbed_action_names([suite]) == {"a", "b"}
