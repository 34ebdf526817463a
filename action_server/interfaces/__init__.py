"""The core programming model: `Tracker`, `Action` and the errors an action call can raise.

Mirrors `rasa_sdk.interfaces` name for name. The tracker wraps the JSON Rasa sends
without copying or re-parsing it, because trackers can hold tens of thousands of
events and most actions only read a slot or two. On the server the events even
arrive unparsed (`RawEvents`) and become objects only when `tracker.events` is read.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from action_server.events import EventType
from action_server.interfaces.raw_events import RawEvents

if TYPE_CHECKING:  # pragma: no cover
    from action_server.interfaces.dispatcher import CollectingDispatcher
    from action_server.types import DomainDict, TrackerState

logger = logging.getLogger(__name__)

__all__ = [
    "ACTION_LISTEN_NAME",
    "ACTION_MISSING_DOMAIN_DEFAULT_MESSAGE",
    "NLU_FALLBACK_INTENT_NAME",
    "Action",
    "ActionExecutionRejection",
    "ActionMissingDomainException",
    "ActionNotFoundException",
    "Tracker",
]

ACTION_LISTEN_NAME = "action_listen"
NLU_FALLBACK_INTENT_NAME = "nlu_fallback"
# Rasa's placeholder loop name meaning "no loop is really active".
_SHOULD_NOT_BE_SET = "should_not_be_set"


class Tracker:
    """The state of one conversation, as received with an action call."""

    @classmethod
    def from_dict(cls, state: TrackerState | dict[str, Any]) -> Tracker:
        """Wrap a tracker dump; lists and dicts are kept as given, never copied.

        `events` may be a `RawEvents`: it is decoded on the first read of `tracker.events`.
        """
        state = cast("dict[str, Any]", state)
        if "sender_id" not in state:
            raise ValueError("Tracker state has no 'sender_id'.")
        events = state.get("events")
        slots = state.get("slots")
        active_loop = state.get("active_loop", state.get("active_form"))
        return cls(
            state["sender_id"],
            slots if slots is not None else {},
            state.get("latest_message") or {},
            events if events is not None else [],
            bool(state.get("paused", False)),
            state.get("followup_action"),
            active_loop if active_loop is not None else {},
            state.get("latest_action_name"),
            state.get("stack") or [],
            state.get("user_id"),
            latest_action=state.get("latest_action"),
        )

    def __init__(
        self,
        sender_id: str,
        slots: dict[str, Any],
        latest_message: dict[str, Any] | None,
        events: list[dict[str, Any]] | RawEvents,
        paused: bool,
        followup_action: str | None,
        active_loop: dict[str, Any],
        latest_action_name: str | None,
        stack: list[dict[str, Any]] | None = None,
        user_id: str | None = None,
        *,
        latest_action: dict[str, Any] | None = None,
    ) -> None:
        """Keep references to the given containers; nothing is derived eagerly."""
        self._events = events
        self.sender_id = sender_id
        self.slots = slots
        self.followup_action = followup_action
        self._paused = paused
        # `latest_message` is the parse data of the latest user message:
        # {"intent": {...}, "entities": [...], "text": ..., "intent_ranking": [...]}
        self.latest_message = latest_message if latest_message else {}
        self.active_loop = active_loop
        self.latest_action_name = latest_action_name
        # the dialogue stack of flow-based assistants (CALM); empty otherwise
        self.stack = stack if stack is not None else []
        # the user behind the conversation when a channel tells it apart from sender_id
        self.user_id = user_id
        # {"action_name": ...} or {"action_text": ...}; not part of rasa-sdk's tracker
        self.latest_action = latest_action
        self._applied_cache: tuple[tuple[int, int, int], list[dict[str, Any]]] | None = None

    @property
    def events(self) -> list[dict[str, Any]]:
        """All events of the conversation; raw events are decoded here, once."""
        events = self._events
        if isinstance(events, RawEvents):
            events = self._events = events.decode()
        return events

    @events.setter
    def events(self, events: list[dict[str, Any]]) -> None:
        self._events = events

    @property
    def active_form(self) -> dict[str, Any]:
        """Deprecated alias of `active_loop`."""
        warnings.warn(
            "Use of `active_form` is deprecated. Please use `active_loop` instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.active_loop

    @property
    def active_loop_name(self) -> str | None:
        """Name of the active loop (form), or None if no loop is active."""
        if not self.active_loop:
            return None
        name = self.active_loop.get("name")
        if name == _SHOULD_NOT_BE_SET:
            return None
        return name

    def current_state(self) -> dict[str, Any]:
        """The tracker as a dict, in the shape rasa-sdk returns."""
        latest_event_time = self.events[-1].get("timestamp") if self.events else None
        return {
            "sender_id": self.sender_id,
            "slots": self.slots,
            "latest_message": self.latest_message,
            "latest_event_time": latest_event_time,
            "paused": self.is_paused(),
            "events": self.events,
            "latest_input_channel": self.get_latest_input_channel(),
            "active_loop": self.active_loop,
            "latest_action_name": self.latest_action_name,
            "stack": self.stack,
            "user_id": self.user_id,
        }

    def current_slot_values(self) -> dict[str, Any]:
        """All slots with their current values."""
        return self.slots

    def get_slot(self, key: str) -> Any | None:
        """Value of slot `key`, or None if the domain has no such slot."""
        if key in self.slots:
            return self.slots[key]
        logger.debug("Tried to access non existent slot '%s'.", key)
        return None

    def get_latest_entity_values(
        self,
        entity_type: str,
        entity_role: str | None = None,
        entity_group: str | None = None,
    ) -> Iterator[Any]:
        """Values of entities of `entity_type` with exactly this role and group in the latest message.

        As in rasa-sdk, a role or group of None means "none": an entity that has a role does
        not match when `entity_role` is None. For the first one only:
        `next(tracker.get_latest_entity_values("x"), None)`.
        """
        entities = self.latest_message.get("entities") or []
        return (
            x.get("value")
            for x in entities
            if x.get("entity") == entity_type
            and x.get("group") == entity_group
            and x.get("role") == entity_role
        )

    def get_latest_input_channel(self) -> str | None:
        """Input channel of the latest user message."""
        for event in reversed(self.events):
            if event.get("event") == "user":
                return event.get("input_channel")
        return None

    def is_paused(self) -> bool:
        """Whether the conversation is paused (e.g. handed over to a human)."""
        return self._paused

    def idx_after_latest_restart(self) -> int:
        """Index just after the latest `restart` event, 0 if there is none."""
        events = self.events
        for i in range(len(events) - 1, -1, -1):
            if events[i].get("event") == "restart":
                return i + 1
        return 0

    def events_after_latest_restart(self) -> list[dict[str, Any]]:
        """Events after the latest restart (a new list)."""
        return self.events[self.idx_after_latest_restart() :]

    def __eq__(self, other: object) -> bool:
        if isinstance(self, type(other)):
            assert isinstance(other, Tracker)
            return other.events == self.events and self.sender_id == other.sender_id
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def copy(self) -> Tracker:
        """A deep copy that can be changed without touching this tracker."""
        return Tracker(
            self.sender_id,
            copy.deepcopy(self.slots),
            copy.deepcopy(self.latest_message),
            copy.deepcopy(self.events),
            self._paused,
            self.followup_action,
            copy.deepcopy(self.active_loop),
            self.latest_action_name,
            copy.deepcopy(self.stack),
            self.user_id,
            latest_action=copy.deepcopy(self.latest_action),
        )

    def last_executed_action_has(self, name: str, skip: int = 0) -> bool:
        """Whether the latest applied action (ignoring `action_listen`) is `name`."""
        last = self.get_last_event_for("action", exclude=[ACTION_LISTEN_NAME], skip=skip)
        return last is not None and last.get("name") == name

    def get_last_event_for(
        self,
        event_type: str,
        exclude: list[str] | None = None,
        skip: int = 0,
    ) -> dict[str, Any] | None:
        """The latest applied event of `event_type`, skipping `skip` matches.

        `exclude` names actions to ignore when `event_type` is "action".
        """
        excluded = set(exclude or ())
        for event in reversed(self._applied()):
            if event.get("event") != event_type:
                continue
            if event_type == "action" and event.get("name") in excluded:
                continue
            if skip > 0:
                skip -= 1
                continue
            return event
        return None

    def applied_events(self) -> list[dict[str, Any]]:
        """Events that still count: restarts, undos and rewinds taken into account."""
        return list(self._applied())

    def _applied(self) -> list[dict[str, Any]]:
        # Cached until the event list changes (appended to, replaced or its
        # last event swapped); one pass, each event pushed and popped once.
        events = self.events
        key = (id(events), len(events), id(events[-1]) if events else 0)
        if self._applied_cache is not None and self._applied_cache[0] == key:
            return self._applied_cache[1]
        applied: list[dict[str, Any]] = []
        for event in events[self.idx_after_latest_restart() :]:
            event_type = event.get("event")
            if event_type == "undo":
                _undo_till_previous("action", applied)
            elif event_type == "rewind":
                # A user message implies an `action_listen` right before it, so
                # rewinding drops the user message and that action too.
                _undo_till_previous("user", applied)
                _undo_till_previous("action", applied)
            else:
                applied.append(event)
        self._applied_cache = (key, applied)
        return applied

    def slots_to_validate(self) -> dict[str, Any]:
        """Slots set by the trailing run of `slot` events: the candidates to validate.

        Rasa appends all slot candidates at the end of the events before it
        calls a validation action.
        """
        events = self.events
        start = len(events)
        while start > 0 and events[start - 1].get("event") == "slot":
            start -= 1
        return {event["name"]: event.get("value") for event in events[start:]}

    def add_slots(self, slots: list[EventType]) -> None:
        """Apply `SlotSet` events to this tracker (other events are ignored)."""
        for event in slots:
            if event.get("event") != "slot":
                continue
            self.slots[event["name"]] = event.get("value")
            self.events.append(event)

    def get_intent_of_latest_message(self, skip_fallback_intent: bool = True) -> str | None:
        """Top intent of the latest message, optionally passing over `nlu_fallback`."""
        if not self.latest_message:
            return None
        intent_ranking = self.latest_message.get("intent_ranking")
        if not intent_ranking:
            return None
        top = intent_ranking[0]
        if top.get("name") == NLU_FALLBACK_INTENT_NAME and skip_fallback_intent:
            return intent_ranking[1].get("name") if len(intent_ranking) >= 2 else None
        return top.get("name")


def _undo_till_previous(event_type: str, applied: list[dict[str, Any]]) -> None:
    """Pop events until one of `event_type` has been popped (or none are left)."""
    while applied:
        if applied.pop().get("event") == event_type:
            return


class Action:
    """A custom action: `name()` plus `run(dispatcher, tracker, domain)`.

    `run` may be a plain or an `async` method; it returns a list of event dicts.
    """

    def name(self) -> str:
        """Unique name Rasa uses to call this action."""
        raise NotImplementedError("An action must implement a name")

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Do the action's work; send messages through `dispatcher`, return events."""
        raise NotImplementedError("An action must implement its run method")

    def __str__(self) -> str:
        return f"Action('{self.name()}')"

    def __repr__(self) -> str:
        try:
            return f"<{type(self).__name__} {self.name()!r}>"
        except Exception:  # a broken name() must not break logging
            return f"<{type(self).__name__}>"


class ActionExecutionRejection(Exception):
    """Raised by an action to refuse running, so Rasa predicts another action."""

    def __init__(self, action_name: str, message: str | None = None) -> None:
        self.action_name = action_name
        self.message = message or f"Custom action '{action_name}' rejected execution."
        super().__init__(action_name, self.message)

    def __str__(self) -> str:
        return self.message


class ActionNotFoundException(Exception):
    """No action is registered under the requested name."""

    def __init__(self, action_name: str, message: str | None = None) -> None:
        self.action_name = action_name
        self.message = message or f"No registered action found for name '{action_name}'."
        super().__init__(action_name, self.message)

    def __str__(self) -> str:
        return self.message


# rasa-sdk's exact text: Rasa logs it, and clients may match on it.
ACTION_MISSING_DOMAIN_DEFAULT_MESSAGE = (
    "Missing domain context, assistant will retry the request and include "
    "the domain in the request payload. For more information please see "
    "https://rasa.com/docs/action-server/"
)


class ActionMissingDomainException(Exception):
    """The call carried neither a domain nor the digest of the cached one.

    Rasa answers HTTP 449 by resending the call with the full domain.
    """

    def __init__(self, action_name: str, message: str | None = None) -> None:
        self.action_name = action_name
        self.message = message or ACTION_MISSING_DOMAIN_DEFAULT_MESSAGE
        super().__init__(action_name, self.message)

    def __str__(self) -> str:
        return self.message
