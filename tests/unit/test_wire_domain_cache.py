"""`decode_action_call` decodes a domain sent again byte for byte only once."""

from __future__ import annotations

import orjson

from action_server.server.wire import decode_action_call, parse_action_call


def _body(domain: object) -> bytes:
    return orjson.dumps(
        {"next_action": "a", "tracker": {"sender_id": "s", "events": []}, "domain": domain}
    )


def test_repeated_domain_bytes_give_an_equal_domain_of_its_own_per_call() -> None:
    domain = {"intents": ["greet"], "slots": {"x": {"type": "any"}}}
    first = decode_action_call(_body(domain))["domain"]
    first["added_by_an_action"] = True
    second = decode_action_call(_body(domain))["domain"]
    assert second == domain
    assert second is not first


def test_a_changed_domain_is_decoded_again() -> None:
    decode_action_call(_body({"intents": ["greet"]}))
    assert decode_action_call(_body({"intents": ["bye"]}))["domain"] == {"intents": ["bye"]}


def test_domain_null_empty_or_missing_decodes_like_the_full_parser() -> None:
    for domain in (None, {}):
        body = _body(domain)
        assert decode_action_call(body)["domain"] == parse_action_call(body)["domain"]
    body = orjson.dumps({"next_action": "a", "tracker": {"sender_id": "s"}})
    assert "domain" not in decode_action_call(body)


def test_domain_that_is_not_an_object_keeps_the_full_parsers_error() -> None:
    body = _body([1, 2])
    try:
        decode_action_call(body)
    except Exception as exc:  # WireError, with the same message as parse_action_call's
        assert "Field 'domain' must be an object, got array" in str(exc)
    else:
        raise AssertionError("a domain array was accepted")
