"""Bare Sanic floor: parse the action call with orjson, do the benchmark action's work inline.

Not an action server. It shows what one Sanic worker costs for the same bodies with no tracker
object, no registry and no dispatcher, so the gap between it and a real server is the overhead
a hot-path change could still remove.
"""

import argparse
from typing import Any

import orjson
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json, raw

app = Sanic("bench_baseline")


def _book(call: dict[str, Any]) -> dict[str, Any]:
    slots = call["tracker"]["slots"]
    cuisine, people = slots.get("cuisine"), slots.get("num_people")
    return {
        "events": [
            {
                "event": "slot",
                "timestamp": None,
                "name": "booking_summary",
                "value": f"{people}x{cuisine}",
            }
        ],
        "responses": [
            {
                "text": f"Booking a table for {people} people, {cuisine} cuisine.",
                "buttons": [],
                "elements": [],
                "custom": {},
                "template": None,
                "response": None,
                "image": None,
                "attachment": None,
            }
        ],
    }


@app.get("/health")
async def health(_: Request) -> HTTPResponse:
    return json({"status": "ok"})


@app.post("/webhook")
async def webhook(request: Request) -> HTTPResponse:
    call = orjson.loads(request.body)
    return raw(orjson.dumps(_book(call)), content_type="application/json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app.run(host="127.0.0.1", port=args.port, single_process=True, access_log=False)
