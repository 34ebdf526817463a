"""The inspector's JSON API, against real server processes on loopback (docs/inspector.md)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import httpx
import pytest

from tests.helpers import REPO_ROOT, action_call
from tests.inspector.conftest import SECRET, TOKEN, Example

API = "/inspect/api"


def _actions(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get(f"{API}/actions")
    assert response.status_code == 200
    return {entry["name"]: entry for entry in response.json()["actions"]}


def _run(client: httpx.Client, name: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/actions/{name}/run", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _say(client: httpx.Client, conversation: str, text: str) -> dict[str, Any]:
    response = client.post(f"{API}/conversations/{conversation}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return response.json()


# --- actions ---------------------------------------------------------------------------------


def test_actions_lists_every_kind_with_typed_arguments(example: Example) -> None:
    with example.server.client() as client:
        actions = _actions(client)
    assert actions["action_check_availability"]["kind"] == "class"
    assert actions["order_summary"]["kind"] == "function"
    assert actions["order_summary"]["arguments"][0]["name"] == "orderId"
    api = actions["getOrderDetails"]
    assert api["kind"] == "api"
    assert api["variables"] == ["orderId"]
    assert api["request"] == {
        "method": "GET",
        "url": "https://shop.example.com/api/orders/$orderId",
    }
    assert api["source"].endswith("order_status.yml:5")
    assert actions["utter_ask_cuisine"]["kind"] == "response"
    assert actions["action_listen"]["kind"] == "default"


def test_run_coerces_form_strings_by_declared_type_and_renders_messages(shop: Any) -> None:
    with shop.client(params={"token": TOKEN}) as client:
        report = _run(
            client, "action_greet_guest", args={"guest": "Ada", "party": "4", "vip": "true"}
        )
    assert report["status"] == 200
    assert report["args"] == {"guest": "Ada", "party": 4, "vip": True}
    assert report["result"]["events"] == [
        {"event": "slot", "name": "greeted", "value": "Ada", "timestamp": None}
    ]
    assert report["messages"] == [
        {
            "text": "Welcome Ada, table for 4!",
            "buttons": [{"title": "Menu", "payload": "/menu"}],
            "image": "https://example.com/welcome.png",
        }
    ]
    assert report["duration_ms"] >= 0


def test_a_badly_typed_argument_names_the_field(shop: Any) -> None:
    with shop.client(params={"token": TOKEN}) as client:
        response = client.post(
            f"{API}/actions/action_greet_guest/run", json={"args": {"party": "many"}}
        )
    assert response.status_code == 400
    assert response.json() == {
        "error": "action 'action_greet_guest': argument 'party': expected number, got 'many'",
        "field": "party",
    }


@pytest.mark.parametrize(
    ("name", "args"),
    [("action_greet_guest", {"guest": "Ada"}), ("action_explode", {}), ("no_such_action", {})],
)
def test_errors_are_shown_as_the_webhook_answers_them(
    shop: Any, name: str, args: dict[str, Any]
) -> None:
    with shop.client(params={"token": TOKEN}) as client:
        report = _run(client, name, args=args)
        tracker = {"sender_id": "inspector", "events": [], "slots": {}, "latest_message": {}}
        call = action_call(name, tracker=tracker)
        call["tracker"]["latest_message"] = {"metadata": {"args": args}}
        call["tracker"]["slots"] = dict(args)
        webhook = client.post("/webhook", json=call)
    assert report["result"] is None
    assert (report["status"], report["error"]) == (webhook.status_code, webhook.json())
    assert report["status"] in (400, 404, 500)


def test_api_action_shows_request_and_response_with_the_secret_redacted(shop: Any) -> None:
    with shop.client(params={"token": TOKEN}) as client:
        response = client.post(
            f"{API}/actions/getOrder/run", json={"args": {"orderId": "A 17", "verbose": "false"}}
        )
    assert response.status_code == 200
    assert SECRET not in response.text
    report = response.json()
    assert report["status"] == 200
    (exchange,) = report["api_calls"]
    request = exchange["request"]
    assert request["method"] == "GET"
    assert request["url"].endswith("/orders/A%2017")
    assert request["headers"] == {"Authorization": "Bearer ***"}
    assert request["params"] == {"verbose": False}
    assert exchange["response"]["status"] == 200
    assert exchange["response"]["body"]["seen_auth"] == "Bearer ***"
    assert exchange["response"]["body"]["path"] == "/orders/A%2017?verbose=false"
    events = {e["name"]: e["value"] for e in report["result"]["events"]}
    assert events == {"order_status": "shipped", "first_item": "Desk lamp"}


def test_a_response_runs_with_a_conversation_as_context(example: Example) -> None:
    with example.server.client() as client:
        _say(client, "ctx", "/book_table")
        _say(client, "ctx", "/SetSlots(cuisine=indian)")
        report = _run(
            client,
            "utter_ask_party_size",
            conversation_id="ctx",
        )
        with_context = _run(
            client, "utter_booking_confirmed", conversation_id="ctx", slots={"party_size": "3"}
        )
    assert report["messages"] == [{"text": "For how many people?"}]
    (message,) = with_context["messages"]
    assert message["text"].startswith("Done! A indian table for 3 at None")
    assert message["image"] == "https://example.com/images/table.png"


def test_conversation_context_without_flows_is_a_clear_error(shop: Any) -> None:
    with shop.client(params={"token": TOKEN}) as client:
        response = client.post(
            f"{API}/actions/action_explode/run", json={"conversation_id": "someone"}
        )
        flows = client.get(f"{API}/flows")
    assert response.status_code == 400
    assert response.json()["field"] == "conversation_id"
    assert "--flows" in response.json()["error"]
    assert flows.status_code == 404
    assert "--flows" in flows.json()["error"]


# --- chat ------------------------------------------------------------------------------------


def test_chat_turn_reports_commands_stack_and_changed_slots(example: Example) -> None:
    with example.server.client() as client:
        first = _say(client, "chat1", "/book_table")
        second = _say(client, "chat1", "/SetSlots(cuisine=italian)")
    assert first["messages"][0]["text"] == "Which cuisine would you like?"
    assert first["commands"] == [{"command": "start flow", "flow": "book_table"}]
    assert first["stack"][0]["flow_id"] == "book_table"
    assert first["stack"][0]["step_label"] == "collect cuisine"
    assert first["active"] == {"flow_id": "book_table", "step_id": first["stack"][0]["step_id"]}
    assert first["llm"] is None
    assert [e["event"] for e in first["turn_events"]][0] == "user"
    assert second["changed_slots"] == {"cuisine": {"before": None, "after": "italian"}}
    assert second["slots"]["cuisine"] == "italian"
    assert second["stack"][0]["step_label"] == "collect party_size"
    assert second["messages"] == [{"text": "For how many people?"}]


def test_restart_clears_slots_and_stack_and_get_shows_the_conversation(example: Example) -> None:
    with example.server.client() as client:
        _say(client, "chat2", "/book_table")
        _say(client, "chat2", "/SetSlots(cuisine=indian)")
        before = client.get(f"{API}/conversations/chat2").json()
        restarted = client.post(f"{API}/conversations/chat2/restart", json={}).json()
    assert before["slots"]["cuisine"] == "indian"
    assert [e["event"] for e in before["events"]].count("user") == 2
    assert restarted["stack"] == []
    assert restarted["active"] is None
    assert restarted["changed_slots"] == {"cuisine": {"before": "indian", "after": None}}


def test_chat_rejects_an_empty_message(example: Example) -> None:
    with example.server.client() as client:
        response = client.post(f"{API}/conversations/x/messages", json={"text": "  "})
        garbage = client.post(
            f"{API}/conversations/x/messages",
            content=b"{nope",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json() == {"error": "'text' must be a non-empty string", "field": "text"}
    assert garbage.status_code == 400
    assert garbage.json()["error"].startswith("the body is not valid JSON")


# --- flows, validation, tests -----------------------------------------------------------------


def test_flows_are_listed_and_drawn_with_the_current_step_highlighted(example: Example) -> None:
    with example.server.client() as client:
        flows = client.get(f"{API}/flows").json()["flows"]
        detail = client.get(f"{API}/flows/book_table", params={"step": "check_availability"})
        missing = client.get(f"{API}/flows/nope")
    assert [f["id"] for f in flows][:2] == ["book_table", "cancel_booking"]
    assert flows[0]["file"].endswith("flows.yml") and flows[0]["line"] > 0
    body = detail.json()
    node = body["nodes"]["check_availability"]
    assert body["mermaid"].startswith("flowchart TD")
    assert body["mermaid"].rstrip().endswith(f"class {node} current")
    assert body["current_step"] == "check_availability"
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("no flow named 'nope' (flows: book_table")


def test_validation_reads_the_files_again_and_reports_file_and_line(example: Example) -> None:
    flows_file = example.flows / "flows.yml"
    original = flows_file.read_text(encoding="utf-8")
    with example.server.client() as client:
        assert client.get(f"{API}/validation").json()["valid"] is True
        flows_file.write_text(
            original + "\n  broken:\n    description: x\n    steps:\n      - link: nowhere\n",
            encoding="utf-8",
        )
        try:
            report = client.get(f"{API}/validation").json()
        finally:
            flows_file.write_text(original, encoding="utf-8")
    assert report["valid"] is False
    (issue,) = report["issues"]
    assert issue["file"] == str(flows_file)
    assert issue["line"] == original.count("\n") + 5
    assert "nowhere" in issue["message"]


def test_e2e_tests_run_per_case_with_the_failure(example: Example) -> None:
    failing = example.flows / "tests" / "zz_failing.yml"
    failing.write_text(
        textwrap.dedent(
            """
            test_cases:
              - test_case: expects_the_wrong_question
                steps:
                  - user: "/book_table"
                  - utter: utter_ask_time
            """
        ),
        encoding="utf-8",
    )
    try:
        with example.server.client() as client:
            response = client.post(f"{API}/tests", json={})
    finally:
        failing.unlink()
    assert response.status_code == 200
    report = response.json()
    cases = {case["name"]: case for case in report["cases"]}
    assert cases["happy_path_books_a_table"]["passed"] is True
    failed = cases["expects_the_wrong_question"]
    assert failed["passed"] is False
    assert "utter_ask_time" in failed["failures"][0]["message"]
    assert failed["failures"][0]["line"] > 0
    assert report["failed"] == 1
    assert report["summary"] == f"{len(cases) - 1} passed, 1 failed"


# --- serving: auth, the page, the flag ---------------------------------------------------------


def test_every_inspector_route_needs_the_token(shop: Any) -> None:
    with shop.client() as client:
        assert client.get("/inspect").status_code == 401
        assert client.get(f"{API}/actions").status_code == 401
        assert client.get("/inspect/static/inspector.js").status_code == 401
        bearer = client.get(f"{API}/actions", headers={"Authorization": f"Bearer {TOKEN}"})
        page = client.get("/inspect", params={"token": TOKEN})
        script = client.get("/inspect/static/inspector.js", params={"token": TOKEN})
    assert bearer.status_code == 200
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'src="/inspect/static/inspector.js?token={TOKEN}"' in page.text
    assert script.status_code == 200


def test_static_files_are_shipped_with_mermaid_and_its_licence(example: Example) -> None:
    with example.server.client() as client:
        mermaid = client.get("/inspect/static/vendor/mermaid.min.js")
        licence = client.get("/inspect/static/vendor/mermaid.LICENSE.txt")
        missing = client.get("/inspect/static/../blueprint.py")
    assert mermaid.status_code == 200 and len(mermaid.content) > 1_000_000
    assert "MIT License" in licence.text
    assert missing.status_code == 404


def test_a_post_that_is_not_json_is_refused(example: Example) -> None:
    # A form or text/plain POST needs no CORS preflight, so another site could send one.
    with example.server.client() as client:
        response = client.post(
            f"{API}/actions/utter_greet/run",
            content=b'{"args": {}}',
            headers={"Content-Type": "text/plain"},
        )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_without_a_token_only_loopback_host_names_are_answered(example: Example) -> None:
    # A page on a rebound DNS name reaches 127.0.0.1 with its own name in the Host header.
    with example.server.client() as client:
        rebound = client.get(f"{API}/actions", headers={"Host": "attacker.example:5055"})
        local = client.get(f"{API}/actions", headers={"Host": "localhost:5055"})
        webhook_unaffected = client.get("/health", headers={"Host": "attacker.example"})
    assert rebound.status_code == 403
    assert "127.0.0.1 or localhost" in rebound.json()["error"]
    assert local.status_code == 200
    assert webhook_unaffected.status_code == 200


def test_with_a_token_any_host_name_is_answered(shop: Any) -> None:
    with shop.client(params={"token": TOKEN}) as client:
        response = client.get(f"{API}/actions", headers={"Host": "bot.internal:5055"})
    assert response.status_code == 200


def test_without_the_flag_there_is_no_inspector(server_factory: Any) -> None:
    server = server_factory("--actions", "tests.fixtures.server_actions")
    with server.client() as client:
        assert client.get("/inspect").status_code == 404


def test_inspect_on_a_public_host_needs_an_auth_token() -> None:
    command = [sys.executable, "-m", "action_server", "run", "--inspect", "--host", "0.0.0.0"]
    result = subprocess.run(
        [*command, "--actions", "tests.fixtures.server_actions"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 1
    assert "--inspect" in result.stderr and "needs --auth-token" in result.stderr


def test_the_llm_exchange_is_read_from_the_user_event_parse_data() -> None:
    # No command source records one yet (the LLM generator will); this pins the contract.
    from action_server.inspector.conversations import llm_exchange

    recorded = {"commands": [], "llm_prompt": "Current State: ...", "llm_answer": "start flow x"}
    events = [{"event": "action"}, {"event": "user", "parse_data": recorded}]
    assert llm_exchange(events) == {"prompt": "Current State: ...", "answer": "start flow x"}
    assert llm_exchange([{"event": "user", "parse_data": {"commands": []}}]) is None
    assert llm_exchange([]) is None


def test_actions_of_a_remote_action_endpoint_run_there(
    example: Example, server_factory: Any, tmp_path: Any
) -> None:
    # Flows whose actions live on another action server (the example server, over HTTP).
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: {example.server.url}/webhook\ntracker_store:\n  type: memory\n",
        encoding="utf-8",
    )
    server = server_factory(
        "--actions", "tests.fixtures.server_actions",
        "--flows", str(example.flows),
        "--endpoints", str(endpoints),
        "--inspect",
    )  # fmt: skip
    with server.client() as client:
        actions = _actions(client)
        ran = _run(
            client,
            "action_check_availability",
            slots={"cuisine": "italian", "party_size": "2", "time": "19:00"},
        )
        rejected = _run(client, "order_summary", args={})
    assert actions["action_check_availability"]["kind"] == "remote"
    assert ran["status"] == 200
    assert ran["result"]["events"][0]["name"] == "table_available"
    assert rejected["status"] == 400
    assert rejected["error"]["action_name"] == "order_summary"
    assert "orderId" in rejected["error"]["error"]


def test_form_slots_take_the_domain_slot_type(example: Example) -> None:
    with example.server.client() as client:
        report = _run(
            client,
            "action_check_availability",
            slots={"phone": "0044", "party_size": "3", "cuisine": "Italian", "unknown": "7"},
        )
        bad = client.post(
            f"{API}/actions/action_check_availability/run", json={"slots": {"cuisine": "thai"}}
        )
    assert report["status"] == 200
    assert bad.status_code == 400
    assert bad.json()["field"] == "cuisine"
    assert "thai" in bad.json()["error"]


def test_slots_reach_the_action_typed() -> None:
    from action_server.flows.model import Domain, SlotDefinition
    from action_server.inspector.actions import slot_values

    domain = Domain(
        slots={
            "phone": SlotDefinition("phone", "text"),
            "party_size": SlotDefinition("party_size", "float"),
        }
    )
    values = slot_values({"phone": "0044", "party_size": "3", "other": "7", "empty": ""}, domain)
    assert values == {"phone": "0044", "party_size": 3.0, "other": 7}
