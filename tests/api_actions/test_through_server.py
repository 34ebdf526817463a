"""API and function actions on a real `action-server run` process: webhook, flows, `call --url`.

One temporary project: an API-actions YAML file, a decorated async function action, a
module-style sync function action and a flow whose `action` steps run the first two.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.helpers import REPO_ROOT, ServerProcess, action_call

DOMAIN = """\
version: "3.1"
slots:
  orderId: {type: text, mappings: [{type: from_llm}]}
  order_status: {type: text, mappings: [{type: from_llm}]}
  order_path: {type: text, mappings: [{type: from_llm}]}
  order_summary: {type: text, mappings: [{type: from_llm}]}
  getOrderDetails_error: {type: text, mappings: [{type: from_llm}]}
  conversation_metadata: {type: any, mappings: [{type: from_llm}]}
  conversation_tags: {type: list, mappings: [{type: from_llm}]}
responses:
  utter_ask_orderId:
    - text: "Which order?"
"""

FLOWS = """\
flows:
  check_order:
    description: Look an order up through the API action, then summarise it in Python.
    nlu_trigger:
      - intent: check_order
    steps:
      - collect: orderId
      - action: getOrderDetails
      - action: order_summary
"""

SUMMARY = """\
from action_server.kinds.function_actions import action


@action(name="order_summary", description="Summarise an order.", args={"orderId": "string"})
async def order_summary(context):
    order_id = context["args"]["orderId"]
    status = context["conversation"]["slots"].get("order_status")
    context["set_metadata"]("last_order", order_id)
    context["add_tag"]("order")
    context["utter"](f"Order {order_id} is {status}.")
    return {"order_summary": f"{order_id}: {status}"}
"""

STOCK = '''\
"""Check stock of a product and hand off when it is out."""

NAME = "checkStock"
ARGS = {"quantity": {"type": "number", "description": "How many"}}


def execute_action(context):
    if context["args"]["quantity"] > 3:
        context["handoff"]("large order")
    context["record_event"]("stock_checked", {"quantity": context["args"]["quantity"]})
    return {"in_stock": context["args"]["quantity"] <= 3}
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, api_server: str) -> Path:
    root = tmp_path_factory.mktemp("order_project")
    package = root / "order_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "summary.py").write_text(SUMMARY)
    (package / "stock.py").write_text(STOCK)
    (package / "orders.yml").write_text(
        textwrap.dedent(
            f"""\
            allow_private_networks: true
            api_actions:
              - name: getOrderDetails
                base_url: "{api_server}"
                path: /echo/orders/$orderId
                result: {{order_status: status, order_path: path}}
            """
        )
    )
    flows = root / "flows"
    flows.mkdir()
    (flows / "domain.yml").write_text(DOMAIN)
    (flows / "flows.yml").write_text(FLOWS)
    (root / "endpoints.yml").write_text("tracker_store:\n  type: memory\n")
    return root


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory, project: Path) -> ServerProcess:
    return server_factory(
        "--actions",
        str(project / "order_pkg"),
        "--flows",
        str(project / "flows"),
        "--endpoints",
        str(project / "endpoints.yml"),
        "--quiet",
    )


@pytest.fixture()
def client(server: ServerProcess) -> Any:
    with server.client() as client:
        yield client


def _call_with_args(action: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    call = action_call(action, **kwargs)
    call["tracker"]["latest_message"] = {"metadata": {"args": args}}
    return call


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_actions_listing_keeps_rasa_sdk_shape_unless_described(client: httpx.Client) -> None:
    plain = client.get("/actions").json()
    assert {"name": "getOrderDetails"} in plain
    assert all(set(entry) == {"name"} for entry in plain)
    described = {e["name"]: e for e in client.get("/actions", params={"describe": "true"}).json()}
    assert described["getOrderDetails"]["kind"] == "api"
    assert described["getOrderDetails"]["arguments"] == [
        {"name": "orderId", "type": "string", "required": True, "description": ""}
    ]
    assert described["checkStock"]["kind"] == "function"
    assert described["checkStock"]["description"] == (
        "Check stock of a product and hand off when it is out."
    )
    assert described["checkStock"]["arguments"][0]["type"] == "number"


def test_webhook_runs_an_api_action_with_its_argument_from_a_slot(client: httpx.Client) -> None:
    response = client.post(
        "/webhook", json=action_call("getOrderDetails", slots={"orderId": "A/1"})
    )
    assert response.status_code == 200, response.text
    assert _slots(response.json()["events"]) == {
        "order_status": "shipped",
        "order_path": "/echo/orders/A%2F1",
    }


def test_webhook_runs_a_sync_function_action_with_helpers_as_rasa_events(
    client: httpx.Client,
) -> None:
    response = client.post("/webhook", json=_call_with_args("checkStock", {"quantity": "5"}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"event": "pause", "timestamp": None} in body["events"]
    assert _slots(body["events"]) == {"in_stock": False}
    customs = [r["custom"]["action_server"] for r in body["responses"] if r.get("custom")]
    assert customs == [
        {"type": "handoff", "reason": "large order"},
        {"type": "event", "name": "stock_checked", "data": {"quantity": 5}},
    ]


def test_webhook_answers_400_naming_the_field_for_a_wrongly_typed_argument(
    client: httpx.Client,
) -> None:
    response = client.post("/webhook", json=_call_with_args("checkStock", {"quantity": "many"}))
    assert response.status_code == 400
    body = response.json()
    assert body["action_name"] == "checkStock"
    assert "argument 'quantity': expected number, got 'many'" in body["error"]


def test_webhook_answers_400_listing_a_missing_argument(client: httpx.Client) -> None:
    response = client.post("/webhook", json=action_call("getOrderDetails"))
    assert response.status_code == 400
    assert response.json() == {
        "error": "getOrderDetails: missing required argument: 'orderId' (string)",
        "action_name": "getOrderDetails",
    }


def test_a_flow_runs_an_api_action_and_a_function_action_as_steps(client: httpx.Client) -> None:
    def say(text: str) -> list[dict[str, Any]]:
        response = client.post("/webhooks/rest/webhook", json={"sender": "flow-1", "message": text})
        assert response.status_code == 200, response.text
        return list(response.json())

    assert [m["text"] for m in say("/check_order")] == ["Which order?"]
    assert [m["text"] for m in say("B 7")] == [
        "Order B 7 is shipped.",
        "Is there anything else I can help you with?",  # Rasa's pattern_completed
    ]
    slots = client.get("/conversations/flow-1/tracker").json()["slots"]
    assert slots["order_status"] == "shipped"
    assert slots["order_path"] == "/echo/orders/B%207"
    assert slots["order_summary"] == "B 7: shipped"
    assert slots["conversation_metadata"] == {"last_order": "B 7"}
    assert slots["conversation_tags"] == ["order"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "action_server", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_call_with_url_runs_the_action_on_the_server(server: ServerProcess) -> None:
    done = _cli("call", "getOrderDetails", "--arg", "orderId=C 3", "--url", server.url)
    assert done.returncode == 0, done.stderr
    assert _slots(json.loads(done.stdout)["events"]) == {
        "order_status": "shipped",
        "order_path": "/echo/orders/C%203",
    }


def test_call_with_url_lists_missing_arguments_from_the_server(server: ServerProcess) -> None:
    done = _cli("call", "checkStock", "--url", server.url)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "action-server call: action 'checkStock' needs these arguments "
        "(pass them with --arg NAME=VALUE):\n  quantity (number): How many\n"
    )


def test_actions_command_shows_every_action_with_kind_and_arguments(project: Path) -> None:
    done = _cli("actions", "--actions", str(project / "order_pkg"))
    assert done.returncode == 0, done.stderr
    assert "getOrderDetails [api]" in done.stdout
    assert "--arg orderId=<string>" in done.stdout
    assert "checkStock [function]  Check stock of a product and hand off when it is out." in (
        done.stdout
    )
    assert "--arg quantity=<number>: How many" in done.stdout
    assert "order_summary [function]  Summarise an order." in done.stdout
