"""Tracker field types on the wire: both parsers give the same precise error, nulls pass."""

from __future__ import annotations

import pytest

from action_server.interfaces.raw_events import RawEvents
from action_server.server.wire import WireError, decode_action_call, parse_action_call


def _body(tracker_fields: bytes) -> bytes:
    return b'{"next_action": "a", "tracker": {"sender_id": "u", ' + tracker_fields + b"}}"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (b'"slots": []', "Field 'tracker.slots' must be an object, got array"),
        (b'"slots": "x"', "Field 'tracker.slots' must be an object, got string"),
        (b'"events": 5', "Field 'tracker.events' must be an array, got number"),
        (b'"events": "[]"', "Field 'tracker.events' must be an array, got string"),
        (b'"events": {}', "Field 'tracker.events' must be an array, got object"),
        (b'"events": true', "Field 'tracker.events' must be an array, got boolean"),
        (b'"latest_message": "hi"', "Field 'tracker.latest_message' must be an object, got string"),
        (b'"latest_message": [1]', "Field 'tracker.latest_message' must be an object, got array"),
        (b'"sender_id": 123', "Field 'tracker.sender_id' must be a string, got number"),
        (b'"sender_id": {}', "Field 'tracker.sender_id' must be a string, got object"),
    ],
)
def test_both_parsers_reject_a_tracker_field_of_the_wrong_type(fields: bytes, message: str) -> None:
    body = _body(fields)
    for parse in (parse_action_call, decode_action_call):
        with pytest.raises(WireError) as rejected:
            parse(body)
        assert (rejected.value.message, rejected.value.status) == (message, 400)


def test_null_optional_tracker_fields_are_accepted() -> None:
    body = _body(b'"slots": null, "events": null, "latest_message": null, "active_loop": null')
    assert parse_action_call(body)["tracker"]["slots"] is None
    tracker = decode_action_call(body)["tracker"]
    assert tracker["slots"] is None and tracker["latest_message"] is None
    assert isinstance(tracker["events"], RawEvents) and tracker["events"].decode() == []


def test_decode_keeps_a_valid_events_array_raw() -> None:
    tracker = decode_action_call(_body(b'"events": [{"event": "restart"}]'))["tracker"]
    assert isinstance(tracker["events"], RawEvents)
