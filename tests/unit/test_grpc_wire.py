"""The gRPC request as an action call: the same dict as protobuf's own MessageToDict, with the
tracker's events decoded only when read, from the bytes a client sends."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict

from action_server.grpc_py import action_webhook_pb2 as pb
from action_server.grpc_py.webhook_views_pb2 import WebhookRequestView
from action_server.grpc_server import StructEvents, action_call_from_request, webhook_response
from action_server.interfaces import Tracker

CALL: dict[str, Any] = {
    "next_action": "action_x",
    "sender_id": "ann",
    "tracker": {
        "sender_id": "ann",
        "slots": {"city": "Berlin", "n": 2, "none": None, "flag": True, "list": [1, "a"]},
        "latest_message": {"intent": {"name": "greet", "confidence": 0.5}, "entities": []},
        "events": [
            {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
            {"event": "slot", "name": "city", "value": {"nested": [1, 2.5, None]}},
        ],
        "paused": False,
        "active_loop": {"name": "booking_form"},
        "latest_action_name": "action_listen",
    },
    "domain": {
        "slots": {"city": {"type": "text"}},
        "intents": [{"string_value": "greet"}, {"dict_value": {"inform": {"use_entities": []}}}],
    },
    "version": "3.10.0",
    "domain_digest": "abc",
}


def _wire() -> bytes:
    return ParseDict(CALL, pb.WebhookRequest()).SerializeToString()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def test_the_view_parses_the_bytes_of_a_webhook_request() -> None:
    view = WebhookRequestView.FromString(_wire())
    call = action_call_from_request(view)
    expected = MessageToDict(
        pb.WebhookRequest.FromString(_wire()), preserving_proto_field_name=True
    )
    events = call["tracker"].pop("events")
    assert isinstance(events, StructEvents)
    assert _canonical(events.decode()) == _canonical(expected["tracker"].pop("events"))
    assert _canonical(call) == _canonical(expected)


def test_events_are_decoded_only_when_the_tracker_reads_them() -> None:
    call = action_call_from_request(WebhookRequestView.FromString(_wire()))
    tracker = Tracker.from_dict(call["tracker"])
    assert tracker.events[1]["value"] == {"nested": [1.0, 2.5, None]}
    assert tracker.get_slot("city") == "Berlin"
    again = Tracker.from_dict(call["tracker"])
    again.events.append({"event": "restart"})
    assert len(tracker.events) == 2  # each tracker decodes its own list


def test_a_tracker_without_events_has_none() -> None:
    request = pb.WebhookRequest(next_action="a", tracker=pb.Tracker(sender_id="x"))
    call = action_call_from_request(WebhookRequestView.FromString(request.SerializeToString()))
    assert call == {"next_action": "a", "tracker": {"sender_id": "x"}}
    assert Tracker.from_dict(call["tracker"]).events == []


def test_a_result_becomes_a_webhook_response() -> None:
    result = {
        "events": [{"event": "slot", "name": "n", "value": 3, "timestamp": None}],
        "responses": [{"text": "hi", "buttons": [], "custom": {"k": [True]}}],
    }
    response = pb.WebhookResponse.FromString(webhook_response(result).SerializeToString())
    assert MessageToDict(response) == {
        "events": [{"event": "slot", "name": "n", "value": 3.0, "timestamp": None}],
        "responses": [{"text": "hi", "buttons": [], "custom": {"k": [True]}}],
    }


def test_the_same_domain_is_converted_once_and_each_call_gets_its_own_dict() -> None:
    first = action_call_from_request(WebhookRequestView.FromString(_wire()))
    second = action_call_from_request(WebhookRequestView.FromString(_wire()))
    expected = MessageToDict(
        pb.WebhookRequest.FromString(_wire()), preserving_proto_field_name=True
    )
    assert _canonical(first["domain"]) == _canonical(expected["domain"])
    assert first["domain"] == second["domain"]
    assert first["domain"] is not second["domain"]  # a shallow copy per call
    assert first["domain"]["slots"] is second["domain"]["slots"]  # converted once, shared


def test_a_changed_domain_is_converted_again() -> None:
    action_call_from_request(WebhookRequestView.FromString(_wire()))
    request = ParseDict(CALL, pb.WebhookRequest())
    request.domain.slots.update({"town": {"type": "text"}})
    call = action_call_from_request(WebhookRequestView.FromString(request.SerializeToString()))
    assert set(call["domain"]["slots"]) == {"city", "town"}


def test_an_empty_domain_is_an_empty_object_not_a_missing_one() -> None:
    request = ParseDict({**CALL, "domain": {}}, pb.WebhookRequest())
    request.domain.SetInParent()
    call = action_call_from_request(WebhookRequestView.FromString(request.SerializeToString()))
    assert call["domain"] == {}
