"""YAML API actions against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from action_server.interfaces import ActionExecutionRejection, Tracker
from action_server.interfaces.dispatcher import CollectingDispatcher
from action_server.kinds.api_actions import ApiAction, ApiActionLoadError, load_api_actions


def _write(tmp_path: Path, text: str, name: str = "api.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _load_one(tmp_path: Path, base_url: str, action: str, header: str = "") -> ApiAction:
    text = (
        "allow_private_networks: true\n"
        + textwrap.dedent(header)
        + "api_actions:\n"
        + textwrap.indent(textwrap.dedent(action).replace("BASE", base_url), "  ")
    )
    actions = load_api_actions(_write(tmp_path, text))
    assert len(actions) == 1
    return actions[0]


def _tracker(
    slots: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None
) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "u1",
            "slots": slots or {},
            "latest_message": {"text": "hi", "metadata": metadata or {}},
            "events": [],
        }
    )


async def _call(
    action: ApiAction, **args: Any
) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run_with_args(args, dispatcher, _tracker(), {})
    return events, dispatcher


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_placeholders_fill_path_query_headers_and_body(
    tmp_path: Path, api_server: str
) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        """
        - name: createOrder
          base_url: BASE
          path: /echo/orders/$orderId
          method: post
          headers: {X-Customer: "$customer", X-Static: fixed}
          query: {lang: $lang, note: "for $customer"}
          body: {id: $orderId, qty: $qty, gift: $gift, tags: $tags, text: "order $orderId x$qty"}
          args:
            qty: number
            gift: bool
            tags: array
          result: {echo: ""}
        """,
    )
    events, _ = await _call(
        action, orderId="A/1 2", customer="Zoë", lang="en", qty="3", gift=True, tags=["a"]
    )
    echo = _slots(events)["echo"]
    assert echo["method"] == "POST"
    assert echo["path"] == "/echo/orders/A%2F1%202"
    assert "lang=en" in echo["query"] and "note=for+Zo%C3%AB" in echo["query"]
    assert echo["headers"]["x-customer"] == "Zoë".encode().decode("latin-1")
    assert echo["headers"]["x-static"] == "fixed"
    assert echo["body"] == {
        "id": "A/1 2",
        "qty": 3,
        "gift": True,
        "tags": ["a"],
        "text": "order A/1 2 x3",
    }


async def test_result_maps_dotted_paths_and_list_indexes_into_slots(
    tmp_path: Path, api_server: str
) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        """
        - name: getOrderDetails
          base_url: BASE
          path: /echo/$orderId
          result: {order_status: status, first_item: items.0.name, last_item: items.-1.name, nothing: items.9.name}
        """,
    )
    events, _ = await _call(action, orderId="7")
    assert _slots(events) == {
        "order_status": "shipped",
        "first_item": "lamp",
        "last_item": "desk",
        "nothing": None,
    }


async def test_run_takes_arguments_from_metadata_then_slots(
    tmp_path: Path, api_server: str
) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        """
        - name: lookup
          base_url: BASE
          path: /echo/$orderId/$region
          result: {path: path}
        """,
    )
    tracker = _tracker(slots={"orderId": 42.0, "region": "eu"}, metadata={"args": {"region": "us"}})
    events = await action.run(CollectingDispatcher(), tracker, {})
    assert _slots(events) == {"path": "/echo/42/us"}


async def test_run_rejects_when_a_required_argument_is_missing(
    tmp_path: Path, api_server: str
) -> None:
    action = _load_one(
        tmp_path, api_server, "- {name: lookup, base_url: BASE, path: /echo/$orderId}\n"
    )
    with pytest.raises(ActionExecutionRejection) as info:
        await action.run(CollectingDispatcher(), _tracker(), {})
    assert "missing required argument: 'orderId' (string)" in str(info.value)


async def test_http_error_status_sets_error_slot_and_utters_response(
    tmp_path: Path, api_server: str
) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        """
        - name: getOrderDetails
          base_url: BASE
          path: /status/503
          result: {order_status: status}
          error: {response: utter_order_lookup_failed}
        """,
    )
    events, dispatcher = await _call(action)
    message = _slots(events)["getOrderDetails_error"]
    assert message.startswith("API action 'getOrderDetails': GET ")
    assert message.endswith("failed: HTTP 503")
    assert dispatcher.messages[0]["response"] == "utter_order_lookup_failed"


async def test_timeout_sets_configured_error_slot(tmp_path: Path, api_server: str) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        """
        - name: slow
          base_url: BASE
          path: /slow
          timeout: 0.3
          error: {slot: lookup_error, text: "Sorry, the shop is not answering."}
        """,
    )
    events, dispatcher = await _call(action)
    assert _slots(events)["lookup_error"].endswith("timed out after 0.3 s")
    assert dispatcher.messages[0]["text"] == "Sorry, the shop is not answering."


async def test_unreachable_host_sets_error_slot(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    action = _load_one(
        tmp_path, f"http://127.0.0.1:{port}", "- {name: down, base_url: BASE, path: /x}\n"
    )
    events, _ = await _call(action)
    assert "could not connect" in _slots(events)["down_error"]


async def test_oversized_response_is_rejected(tmp_path: Path, api_server: str) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        "- {name: big, base_url: BASE, path: /big, result: {x: ''}}\n",
        header="max_response_bytes: 100000\n",
    )
    events, _ = await _call(action)
    assert _slots(events)["big_error"].endswith("is larger than 100000 bytes")


async def test_non_json_response_is_an_error_when_results_are_mapped(
    tmp_path: Path, api_server: str
) -> None:
    action = _load_one(
        tmp_path, api_server, "- {name: page, base_url: BASE, path: /notjson, result: {x: a}}\n"
    )
    events, _ = await _call(action)
    assert _slots(events)["page_error"].endswith("is not JSON")


async def test_redirects_are_followed_up_to_the_limit(tmp_path: Path, api_server: str) -> None:
    path = _write(
        tmp_path,
        f"""
        allow_private_networks: true
        api_actions:
          - {{name: three, base_url: "{api_server}", path: /redirect/3, result: {{path: path}}}}
          - {{name: four, base_url: "{api_server}", path: /redirect/4, result: {{path: path}}}}
        """,
    )
    three, four = load_api_actions(path)
    events, _ = await _call(three)
    assert _slots(events) == {"path": "/echo/redirected"}
    events, _ = await _call(four)
    assert _slots(events)["four_error"].endswith("stopped after 3 redirects")


async def test_secrets_from_the_environment_are_sent_but_never_shown(
    tmp_path: Path, api_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "s3cr3t-value")
    action = _load_one(
        tmp_path,
        api_server,
        """
        - name: secretCall
          base_url: BASE
          path: /status/401
          headers: {Authorization: "Bearer ${SHOP_TOKEN}"}
          query: {key: "${SHOP_TOKEN}"}
        """,
    )
    events, _ = await _call(action)
    message = _slots(events)["secretCall_error"]
    assert "s3cr3t" not in message and "***" in message

    echo = _load_one(
        tmp_path,
        api_server,
        """
        - name: secretEcho
          base_url: BASE
          path: /echo
          headers: {Authorization: "Bearer ${SHOP_TOKEN}"}
          result: {auth: headers.authorization}
        """,
    )
    events, _ = await _call(echo)
    assert _slots(events) == {"auth": "Bearer s3cr3t-value"}


async def test_unset_environment_variable_is_a_clear_error(tmp_path: Path, api_server: str) -> None:
    action = _load_one(
        tmp_path,
        api_server,
        "- {name: noenv, base_url: BASE, path: /echo, headers: {X-Key: '${NOT_SET_ANYWHERE_X}'}}\n",
    )
    events, _ = await _call(action)
    assert _slots(events)["noenv_error"] == (
        "API action 'noenv': environment variable 'NOT_SET_ANYWHERE_X' is not set"
    )


def test_load_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        api_actions:
          - name: ok
            base_url: https://example.com
          - name: bad
            base_url: https://example.com
            timeout: -1
        """,
    )
    with pytest.raises(ApiActionLoadError) as info:
        load_api_actions(path)
    assert str(info.value) == (
        f"{path}:7: api_actions.1.timeout: must be a finite number of seconds greater than 0"
    )


def test_load_error_for_unknown_key_and_bad_method(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        api_actions:
          - name: bad
            base_url: https://example.com
            method: TRACE
            retries: 3
        """,
    )
    with pytest.raises(ApiActionLoadError) as info:
        load_api_actions(path)
    message = str(info.value)
    assert f"{path}:5: api_actions.0.method:" in message
    assert f"{path}:6: api_actions.0.retries: unknown key" in message


def test_load_error_for_duplicate_names_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "api_actions: [{name: a, base_url: 'https://x.example'}]\n", "one.yml")
    _write(tmp_path, "api_actions:\n  - {name: a, base_url: 'https://y.example'}\n", "two.yaml")
    with pytest.raises(ApiActionLoadError) as info:
        load_api_actions(tmp_path)
    assert f"{tmp_path / 'two.yaml'}:2: API action 'a' is already defined at " in str(info.value)
    assert f"{tmp_path / 'one.yml'}:1" in str(info.value)


def test_declared_argument_types_override_and_unused_declarations_fail(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
        api_actions:
          - name: typed
            base_url: https://example.com
            path: /o/$orderId
            args: {orderId: {type: number, description: The order number}, extra: string}
        """,
    )
    with pytest.raises(ApiActionLoadError) as info:
        load_api_actions(tmp_path)
    assert (
        "api.yml:6: action 'typed': argument 'extra' is declared but no $extra placeholder"
        in str(info.value)
    )


def test_files_without_api_actions_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "flows: {}\n", "flows.yml")
    _write(tmp_path, "api_actions: []\n", "empty.yml")
    assert load_api_actions(tmp_path) == []


def test_invalid_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "api_actions:\n  - name: [unclosed\n")
    with pytest.raises(ApiActionLoadError) as info:
        load_api_actions(path)
    # Pointed at the bracket that was left open, not at the end of the file.
    assert str(info.value) == (
        f"{path}:2:11: invalid YAML: unclosed flow sequence '[' (reached end of file)"
    )
