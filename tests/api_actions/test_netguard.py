"""Private-address refusal for API actions; no traffic ever goes to a non-loopback address."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from action_server.interfaces import Tracker
from action_server.interfaces.dispatcher import CollectingDispatcher
from action_server.kinds.api_actions import load_api_actions
from action_server.kinds.netguard import NetworkPolicy, check_address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("2002:0a00:0001::", "private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_check_address_classifies_internal_addresses(address: str, reason: str | None) -> None:
    assert check_address(address) == reason


def test_allowed_hosts_match_exactly_or_by_wildcard() -> None:
    policy = NetworkPolicy.create(False, ["api.internal", "*.corp.example", "[::1]"])
    assert policy.host_allowed("API.internal")
    assert policy.host_allowed("billing.corp.example")
    assert policy.host_allowed("::1")
    assert not policy.host_allowed("corp.example.evil")
    assert not policy.host_allowed("internal")


async def _error_of(tmp_path: Path, base_url: str, header: str = "", path: str = "/echo") -> Any:
    file = tmp_path / "guard.yml"
    file.write_text(
        textwrap.dedent(header)
        + f"api_actions:\n  - {{name: probe, base_url: '{base_url}', path: '{path}', result: {{m: method}}}}\n"
    )
    (action,) = load_api_actions(file)
    tracker = Tracker.from_dict({"sender_id": "u", "slots": {}, "events": []})
    events = await action.run_with_args({}, CollectingDispatcher(), tracker, {})
    return {e["name"]: e["value"] for e in events}


@pytest.mark.parametrize(
    ("base_url", "shown"),
    [
        ("http://127.0.0.1:9", "127.0.0.1: loopback"),
        ("http://10.0.0.1", "10.0.0.1: private"),
        ("http://[::1]:9", "::1: loopback"),
        ("http://[::ffff:127.0.0.1]:9", "::ffff:127.0.0.1: loopback"),
        ("http://localhost:9", "localhost (127.0.0.1): loopback"),
    ],
)
async def test_private_addresses_are_refused_without_the_allow_flag(
    tmp_path: Path, base_url: str, shown: str
) -> None:
    slots = await _error_of(tmp_path, base_url)
    message = slots["probe_error"]
    assert f"refused to connect to {shown} address" in message
    assert "allow_private_networks: true" in message


async def test_allowed_hosts_lets_one_internal_host_through(
    tmp_path: Path, api_server: str
) -> None:
    slots = await _error_of(tmp_path, api_server, header="allowed_hosts: ['127.0.0.1']\n")
    assert slots == {"m": "GET"}


async def test_redirect_to_a_disallowed_address_is_refused(tmp_path: Path, api_server: str) -> None:
    port = api_server.rsplit(":", 1)[1]
    slots = await _error_of(
        tmp_path,
        f"http://localhost:{port}",
        header="allowed_hosts: [localhost]\n",
        path=f"/redirect-to?url=http://127.0.0.1:{port}/echo",
    )
    assert "refused to connect to 127.0.0.1: loopback address" in slots.get("probe_error", slots)


async def test_calls_of_one_file_reuse_a_pinned_connection_with_the_original_host(
    tmp_path: Path, api_server: str
) -> None:
    port = api_server.rsplit(":", 1)[1]
    file = tmp_path / "pool.yml"
    file.write_text(
        textwrap.dedent(
            f"""\
            allowed_hosts: [localhost]
            api_actions:
              - {{name: peer, base_url: "http://localhost:{port}", path: /peer, result: {{p: port}}}}
              - {{name: echo, base_url: "http://localhost:{port}", path: /echo, result: {{h: headers.host}}}}
            """
        )
    )
    peer, echo = load_api_actions(file)
    tracker = Tracker.from_dict({"sender_id": "u", "slots": {}, "events": []})
    ports = []
    for action in (peer, echo, peer):
        events = await action.run_with_args({}, CollectingDispatcher(), tracker, {})
        ports.append(events[0]["value"])
    assert ports[0] == ports[2]  # one connection served every call
    assert ports[1] == f"localhost:{port}"  # connected to the checked address, Host unchanged
