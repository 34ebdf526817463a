"""Actions that use the LLM helpers, served by a plain action server in tests."""

from __future__ import annotations

from typing import Any

from action_server import Action, Tracker
from action_server.events import SlotSet
from action_server.executor import CollectingDispatcher
from action_server.understanding import llm_classify_binary, llm_classify_category


class ActionTriage(Action):
    def name(self) -> str:
        return "action_triage"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        upset = await llm_classify_binary("Is the customer upset?", text, fallback=False)
        team = await llm_classify_category(
            "Which team should answer?", text, ["billing", "technical"], fallback="billing"
        )
        return [SlotSet("upset", upset), SlotSet("team", team)]
