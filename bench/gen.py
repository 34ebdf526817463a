"""Deterministic generator of action calls shaped like the ones Rasa posts to `/webhook`.

The benchmark must be reproducible, so every body comes from a seeded RNG and fixed timestamps:
the same `--seed` always writes byte-identical files.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import random
import re
import struct
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
SIZES = (10, 200, 2000)
DEFAULT_SEED = 20251120
START_TIME = 1_763_600_000.0  # fixed epoch so output does not depend on the clock

# The benchmark action. Written once against rasa_sdk; ours is derived by renaming the import root.
ACTION_NAME = "action_book_table"
ACTION_NAME_ASYNC = "action_book_table_async"
SLEEP_ACTION_NAME = "action_sleep_one_second"
SOURCE_PACKAGE = BENCH_DIR / "actions_bench"
OURS_PACKAGE_NAME = "actions_bench_ours"

INTENTS = [
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "mood_great",
    "mood_unhappy",
    "bot_challenge",
    "request_restaurant",
    "inform",
    "thankyou",
    "ask_opening_hours",
    "ask_location",
    "ask_menu",
    "change_booking",
    "cancel_booking",
    "chitchat",
    "out_of_scope",
    "restart",
    "stop",
    "help",
]
ENTITIES = ["cuisine", "num_people", "time", "location", "seating"]
CUISINES = ["italian", "thai", "mexican", "indian", "japanese", "greek", "french", "korean"]
SEATING = ["outdoor", "indoor", "bar", "window"]
LOCATIONS = ["Berlin", "Hamburg", "Munich", "Cologne", "Leipzig", "Dresden"]
TIMES = ["7pm", "8pm", "noon", "tomorrow at 6", "friday evening"]
FORM_SLOTS = ["cuisine", "num_people", "outdoor_seating", "preferences", "feedback"]
SLOTS: dict[str, str] = {
    "cuisine": "text",
    "num_people": "float",
    "outdoor_seating": "bool",
    "preferences": "text",
    "feedback": "text",
    "location": "text",
    "time": "text",
    "booking_summary": "text",
    "requested_slot": "text",
    "user_name": "text",
}
POLICIES = ["TEDPolicy", "RulePolicy", "MemoizationPolicy", "UnexpecTEDIntentPolicy"]
USER_TEXTS = [
    "hi there",
    "I would like to book a table for {n} people",
    "something {c} please",
    "can we sit outside?",
    "what time do you open on sunday",
    "where exactly is the restaurant in {l}",
    "no, I changed my mind",
    "yes that is perfect, thank you so much",
    "do you have vegan options on the menu",
    "make it {t} instead",
]
RESPONSES: dict[str, str] = {
    "utter_greet": "Hey! How can I help you today?",
    "utter_goodbye": "Bye, see you soon!",
    "utter_iamabot": "I am a bot, powered by an action server.",
    "utter_ask_cuisine": "What cuisine would you like?",
    "utter_ask_num_people": "How many people are in your party?",
    "utter_ask_outdoor_seating": "Do you want to sit outside?",
    "utter_ask_preferences": "Any further preferences?",
    "utter_ask_feedback": "Please give some feedback on your experience so far.",
    "utter_submit": "All done! Your table is booked.",
    "utter_slots_values": "I am going to run a restaurant search with these parameters.",
    "utter_noworries": "You are welcome :)",
    "utter_chitchat": "Chitchat is fun, but let us focus on your booking.",
    "utter_default": "Sorry, I did not get that. Can you rephrase?",
    "utter_opening_hours": "We are open from 11am to 11pm every day.",
    "utter_location": "We are at Hauptstrasse 1, right next to the station.",
    "utter_menu": "Here is our menu: https://example.org/menu.pdf",
    "utter_cancelled": "Your booking has been cancelled.",
    "utter_changed": "Your booking has been changed.",
    "utter_help": "I can book tables, tell you about the menu and our opening hours.",
    "utter_out_of_scope": "Sorry, I can only help with restaurant bookings.",
}


def _float32(value: float) -> float:
    """Model confidences are float32 widened to float: 16-17 significant digits on the wire."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _tokens(text: str) -> list[list[int]]:
    """Character spans of whitespace tokens, like Rasa's `text_tokens`."""
    return [[match.start(), match.end()] for match in re.finditer(r"\S+", text)]


@dataclass
class Conversation:
    """Grows a tracker turn by turn; slots and latest fields follow the events like in Rasa."""

    rng: random.Random
    sender_id: str
    time: float = START_TIME
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(SLOTS))
    latest_message: dict[str, Any] = field(default_factory=dict)
    latest_action: dict[str, Any] = field(default_factory=dict)
    active_loop: dict[str, Any] = field(default_factory=dict)
    turn: int = 0
    session_id: str = ""

    def __post_init__(self) -> None:
        self.session_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self) -> float:
        # Rasa stamps events with time.time(): full float precision, as on the wire.
        self.time += self.rng.uniform(0.001, 2.5)
        return self.time

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def session_start(self) -> None:
        self.add(
            {
                "event": "action",
                "timestamp": self.tick(),
                "metadata": {"model_id": "a1b2c3d4e5f6", "assistant_id": "restaurant_bot"},
                "name": "action_session_start",
                "policy": None,
                "confidence": 1.0,
                "action_text": None,
                "hide_rule_turn": False,
            }
        )
        self.add({"event": "session_started", "timestamp": self.tick(), "metadata": {}})
        self.action("action_listen", policy=None, confidence=None)

    def action(self, name: str, policy: str | None = "auto", confidence: float | None = -1) -> None:
        chosen_policy = self.rng.choice(POLICIES) if policy == "auto" else policy
        score = _float32(self.rng.uniform(0.55, 1.0)) if confidence == -1 else confidence
        self.add(
            {
                "event": "action",
                "timestamp": self.tick(),
                "metadata": {"model_id": "a1b2c3d4e5f6", "assistant_id": "restaurant_bot"},
                "name": name,
                "policy": chosen_policy,
                "confidence": score,
                "action_text": None,
                "hide_rule_turn": False,
            }
        )
        self.latest_action = {"action_name": name}

    def user(self) -> None:
        rng = self.rng
        intent = rng.choice(INTENTS)
        text = rng.choice(USER_TEXTS).format(
            n=rng.randint(1, 12),
            c=rng.choice(CUISINES),
            l=rng.choice(LOCATIONS),
            t=rng.choice(TIMES),
        )
        entities = []
        for name in rng.sample(ENTITIES, rng.randint(0, 2)):
            value = {
                "cuisine": rng.choice(CUISINES),
                "num_people": str(rng.randint(1, 12)),
                "time": rng.choice(TIMES),
                "location": rng.choice(LOCATIONS),
                "seating": rng.choice(SEATING),
            }[name]
            start = rng.randint(0, max(0, len(text) - len(value)))
            entities.append(
                {
                    "entity": name,
                    "start": start,
                    "end": start + len(value),
                    "confidence_entity": _float32(rng.uniform(0.7, 1.0)),
                    "value": value,
                    "extractor": "DIETClassifier",
                    "processors": ["EntitySynonymMapper"],
                }
            )
        ranked = rng.sample(INTENTS, 10)
        if intent in ranked:
            ranked.remove(intent)
        ranked = [intent, *ranked[:9]]
        # Softmax over random logits: one confident intent and a long tail of tiny scores.
        logits = sorted((rng.gauss(0.0, 3.0) for _ in ranked), reverse=True)
        total = sum(math.exp(logit) for logit in logits)
        scores = [math.exp(logit) / total for logit in logits]
        ranking = [
            {"name": name, "confidence": _float32(score)}
            for name, score in zip(ranked, scores, strict=True)
        ]
        message_id = f"{rng.getrandbits(128):032x}"
        metadata = {
            "channel": "rest",
            "locale": "en-US",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) restaurant-widget/2.4.1",
            "session_id": self.session_id,
        }
        parse_data = {
            "intent": ranking[0],
            "entities": entities,
            "text": text,
            "message_id": message_id,
            "metadata": metadata,
            "text_tokens": _tokens(text),
            "intent_ranking": ranking,
            "response_selector": {
                "all_retrieval_intents": [],
                "default": {
                    "response": {
                        "responses": None,
                        "confidence": 0.0,
                        "intent_response_key": None,
                        "utter_action": "utter_None",
                    },
                    "ranking": [],
                },
            },
        }
        self.add(
            {
                "event": "user",
                "timestamp": self.tick(),
                "metadata": metadata,
                "text": text,
                "parse_data": parse_data,
                "input_channel": "rest",
                "message_id": message_id,
            }
        )
        self.latest_message = parse_data
        self.add(
            {
                "event": "user_featurization",
                "timestamp": self.tick(),
                "metadata": {},
                "use_text_for_featurization": False,
            }
        )
        for entity in entities:
            if entity["entity"] in SLOTS:
                self.slot(entity["entity"], entity["value"])

    def bot(self, response: str) -> None:
        self.add(
            {
                "event": "bot",
                "timestamp": self.tick(),
                "metadata": {"utter_action": response, "model_id": "a1b2c3d4e5f6"},
                "text": RESPONSES[response],
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": None,
                    "attachment": None,
                    "image": None,
                    "custom": None,
                },
            }
        )

    def slot(self, name: str, value: Any) -> None:
        self.add(
            {
                "event": "slot",
                "timestamp": self.tick(),
                "metadata": {},
                "name": name,
                "value": value,
            }
        )
        self.slots[name] = value

    def loop(self, name: str | None) -> None:
        self.add({"event": "active_loop", "timestamp": self.tick(), "metadata": {}, "name": name})
        self.active_loop = {"name": name} if name else {}

    def one_turn(self) -> None:
        """One user message and the bot's reaction, ending in action_listen like Rasa does."""
        rng = self.rng
        self.turn += 1
        self.user()
        kind = rng.random()
        if kind < 0.35:
            # Form turn: the form asks for a slot, or fills one.
            if not self.active_loop:
                self.action("restaurant_form")
                self.loop("restaurant_form")
            slot = rng.choice(FORM_SLOTS)
            self.slot(slot, self.slot_value(slot))
            self.slot("requested_slot", rng.choice(FORM_SLOTS))
            self.bot(f"utter_ask_{rng.choice(FORM_SLOTS)}")
            if rng.random() < 0.25:
                self.loop(None)
                self.slot("requested_slot", None)
                self.action("utter_submit")
                self.bot("utter_submit")
        elif kind < 0.8:
            response = rng.choice(list(RESPONSES))
            self.action(response)
            self.bot(response)
        else:
            self.action(ACTION_NAME)
            self.bot("utter_slots_values")
            self.slot("booking_summary", f"{self.slots['num_people']}x{self.slots['cuisine']}")
        self.action("action_listen")

    def slot_value(self, slot: str) -> Any:
        rng = self.rng
        return {
            "cuisine": rng.choice(CUISINES),
            "num_people": float(rng.randint(1, 12)),
            "outdoor_seating": rng.random() < 0.5,
            "preferences": rng.choice(["no additional preferences", "vegan", "gluten free"]),
            "feedback": rng.choice(["great", "fine", "could be faster"]),
        }[slot]

    def tracker(self, n_events: int) -> dict[str, Any]:
        """Grow until there are `n_events` events, then cut exactly there (Rasa sends the tail)."""
        self.session_start()
        while len(self.events) < n_events:
            self.one_turn()
        events = self.events[:n_events]
        # The bench action reads these two slots; make sure they carry values.
        self.slots["cuisine"] = self.slots["cuisine"] or "italian"
        self.slots["num_people"] = self.slots["num_people"] or 2.0
        return {
            "sender_id": self.sender_id,
            "slots": self.slots,
            "latest_message": self.latest_message,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": self.active_loop,
            "latest_action": self.latest_action,
            "latest_action_name": self.latest_action.get("action_name"),
            "latest_event_time": events[-1]["timestamp"],
            "latest_input_channel": "rest",
        }


def _buttons(response: str) -> list[dict[str, str]]:
    """Quick-reply buttons for the form's questions, as in a typical restaurant bot."""
    slot = response.removeprefix("utter_ask_")
    return [
        {"title": choice, "payload": f'/inform{{"{slot}": "{choice}"}}'}
        for choice in (CUISINES[:4] if slot == "cuisine" else ["yes", "no"])
    ]


def domain() -> dict[str, Any]:
    """The domain as Rasa serialises it into an action call (`Domain.as_dict()`)."""
    slots: dict[str, Any] = {}
    for name, slot_type in SLOTS.items():
        mapping: list[dict[str, Any]] = (
            [{"type": "from_entity", "entity": name}] if name in ENTITIES else [{"type": "custom"}]
        )
        slots[name] = {
            "type": slot_type,
            "initial_value": None,
            "influence_conversation": name in FORM_SLOTS,
            "mappings": mapping,
        }
    return {
        "version": "3.1",
        "config": {"store_entities_as_slots": True},
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
        "intents": [{name: {"use_entities": True}} for name in INTENTS],
        "entities": ENTITIES,
        "slots": slots,
        "responses": {
            name: [{"text": text, "buttons": _buttons(name)}]
            if name.startswith("utter_ask")
            else [{"text": text}]
            for name, text in RESPONSES.items()
        },
        "actions": [
            ACTION_NAME,
            ACTION_NAME_ASYNC,
            SLEEP_ACTION_NAME,
            "validate_restaurant_form",
        ],
        "forms": {"restaurant_form": {"required_slots": FORM_SLOTS}},
        "e2e_actions": [],
    }


def action_call(n_events: int, seed: int, action: str = ACTION_NAME) -> dict[str, Any]:
    """One complete `/webhook` body with a tracker of exactly `n_events` events."""
    rng = random.Random(f"{seed}-{n_events}")
    conversation = Conversation(rng=rng, sender_id=f"bench-{n_events}-{rng.getrandbits(32):08x}")
    return {
        "next_action": action,
        "sender_id": conversation.sender_id,
        "tracker": conversation.tracker(n_events),
        "domain": domain(),
        "version": "3.11.0",
    }


def body_path(n_events: int, action: str = ACTION_NAME) -> Path:
    return DATA_DIR / f"call_{action}_{n_events}.json"


def write_bodies(sizes: tuple[int, ...] = SIZES, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write one body per size and action; returns {name: path}. Output is byte-identical per seed."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for n_events in sizes:
        for action in (ACTION_NAME, ACTION_NAME_ASYNC, SLEEP_ACTION_NAME):
            call = action_call(n_events, seed, action)
            path = body_path(n_events, action)
            path.write_bytes(json.dumps(call, separators=(",", ":")).encode())
            written[f"{action}:{n_events}"] = path
    return written


_IMPORT_ROOT = re.compile(r"^(\s*(?:from|import)\s+)rasa_sdk\b", re.MULTILINE)


class _RenameImportRoot(ast.NodeTransformer):
    """Renames `rasa_sdk` to `action_server` in import statements only, on the syntax tree."""

    @staticmethod
    def _rename(module: str) -> str:
        return re.sub(r"^rasa_sdk\b", "action_server", module)

    def visit_Import(self, node: ast.Import) -> ast.Import:
        for alias in node.names:
            alias.name = self._rename(alias.name)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.module:
            node.module = self._rename(node.module)
        return node


def write_ours_package() -> Path:
    """Derive our copy of the action package from the rasa-sdk one by renaming the import root.

    The text is rewritten with a line regex, then checked on the syntax tree: the result must
    equal the original with only import roots renamed, which proves migrating is a rename.
    """
    target = DATA_DIR / OURS_PACKAGE_NAME
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(SOURCE_PACKAGE.glob("*.py")):
        text = source.read_text()
        renamed = _IMPORT_ROOT.sub(r"\1action_server", text)
        expected = ast.dump(_RenameImportRoot().visit(ast.parse(text, str(source))))
        if ast.dump(ast.parse(renamed)) != expected:
            raise RuntimeError(f"{source}: renaming the import root changed more than imports")
        (target / source.name).write_text(renamed)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    for name, path in write_bodies(tuple(args.sizes), args.seed).items():
        print(f"{name:>32}  {path.stat().st_size / 1000:8.1f} KB  {path}")
    print(f"ours package: {write_ours_package()}")


if __name__ == "__main__":
    main()
