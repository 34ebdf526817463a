"""Function action example: one answer built from two API actions (docs/api_actions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from action_server.kinds.api_actions import load_api_actions
from action_server.kinds.function_actions import ActionContext, action

_API = {a.name(): a for a in load_api_actions(Path(__file__).with_name("order_status.yml"))}


async def _slots_from(name: str, context: ActionContext, args: dict[str, Any]) -> dict[str, Any]:
    events = await _API[name].run_with_args(args, context.dispatcher, context.tracker, {})
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@action(
    name="order_summary",
    description="Tell the user where their order is, from the order and shipment APIs.",
    args={"orderId": {"type": "string", "description": "The order number"}},
)
async def order_summary(context: ActionContext) -> dict[str, Any]:
    args = {"orderId": context["args"]["orderId"]}
    order = await _slots_from("getOrderDetails", context, args)
    if order.get("order_lookup_error"):
        context["add_tag"]("order-lookup-failed")
        return {"order_summary": None}
    shipment = await _slots_from("getShipment", context, args)
    summary = f"Order {args['orderId']} is {order.get('order_status')}"
    if shipment.get("shipment_eta"):
        summary += f", arriving {shipment['shipment_eta']}"
    context["set_metadata"]("last_order", args["orderId"])
    context["utter"](summary + ".")
    return {"order_summary": summary, "order_status": order.get("order_status")}
