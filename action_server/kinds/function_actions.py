"""Python function actions: a plain function becomes an ``Action``.

Two ways to declare one in the actions package:

* a module with ``execute_action(context)`` plus module-level ``NAME``, ``DESCRIPTION``, ``ARGS``;
* any function decorated ``@action(name=..., description=..., args=...)``.

The function may be sync (run in a worker thread) or async. It receives an ``ActionContext``
(item access: ``context["args"]``, ``context["conversation"]``, ``context["set_metadata"](k, v)``
...; attribute access works too) and returns a dict, a list of events, or None.

How the result reaches Rasa (and flows), since Rasa has no notion of these helpers:

* returned dict -> one ``SlotSet`` per key that is a slot of the domain; every key when the
  call carried no domain slots (e.g. ``action-server call`` without a domain);
* returned list -> passed through as events;
* conversation metadata -> ``SlotSet("conversation_metadata", {...})`` (whole dict, once);
* tags -> ``SlotSet("conversation_tags", [...])``;
* ``record_event(name, data)`` -> a custom message ``{"custom": {"action_server": {"type":
  "event", "name", "data"}}}`` (channels that do not know it ignore it);
* ``handoff(reason)`` -> ``ConversationPaused`` plus a custom message ``{"type": "handoff",
  "reason"}`` so the channel can route to a human.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from action_server.events import ConversationPaused, SlotSet
from action_server.executor.arguments import ArgumentAction, ArgumentSpec, parse_argument_specs

if TYPE_CHECKING:
    from action_server.interfaces import Tracker
    from action_server.interfaces.dispatcher import CollectingDispatcher

__all__ = [
    "METADATA_SLOT",
    "TAGS_SLOT",
    "ActionContext",
    "FunctionAction",
    "action",
    "discover_function_actions",
]

logger = logging.getLogger(__name__)

METADATA_SLOT = "conversation_metadata"
TAGS_SLOT = "conversation_tags"
_SPEC_ATTRIBUTE = "__action_server_action__"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class _FunctionSpec:
    name: str
    description: str
    arguments: list[ArgumentSpec]


def action(
    name: str | None = None, *, description: str | None = None, args: Any = None
) -> Callable[[F], F]:
    """Mark a function as an action; the function itself is returned unchanged (testable)."""

    def mark(function: F) -> F:
        spec = _FunctionSpec(
            name=name or function.__name__,
            description=description if description is not None else _first_line(function.__doc__),
            arguments=parse_argument_specs(args, where=f"action '{name or function.__name__}'"),
        )
        setattr(function, _SPEC_ATTRIBUTE, spec)
        return function

    return mark


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


@dataclass
class ActionContext:
    """What a function action gets: arguments, the conversation, and helpers.

    ``conversation`` is ``{"id", "messages", "slots", "metadata"}``, or None when the call has
    no conversation (an empty sender id, e.g. ``action-server call`` without ``--sender``).
    """

    args: dict[str, Any]
    conversation: dict[str, Any] | None
    dispatcher: CollectingDispatcher
    tracker: Tracker
    domain: Mapping[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    handed_off: bool = False
    _metadata_changed: bool = False
    _tags_changed: bool = False

    def __getitem__(self, key: str) -> Any:
        if key.startswith("_") or not hasattr(self, key):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def get_metadata(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def set_metadata(self, key: str, value: Any) -> None:
        self.metadata[key] = value
        self._metadata_changed = True

    def delete_metadata(self, key: str) -> None:
        if self.metadata.pop(key, None) is not None:
            self._metadata_changed = True

    def add_tag(self, tag: str) -> None:
        if tag not in self.tags:
            self.tags.append(tag)
            self._tags_changed = True

    def record_event(self, name: str, data: Mapping[str, Any] | None = None) -> None:
        self.dispatcher.utter_message(
            json_message={
                "action_server": {"type": "event", "name": name, "data": dict(data or {})}
            }
        )

    def handoff(self, reason: str = "") -> None:
        """Pause the bot (Rasa's ``ConversationPaused``) and tell the channel to fetch a human."""
        if not self.handed_off:
            self.handed_off = True
            self.events.append(ConversationPaused())
            self.dispatcher.utter_message(
                json_message={"action_server": {"type": "handoff", "reason": reason}}
            )

    def utter(self, text: str | None = None, **kwargs: Any) -> None:
        self.dispatcher.utter_message(text=text, **kwargs)

    def helper_events(self) -> list[dict[str, Any]]:
        events = list(self.events)
        if self._metadata_changed:
            events.append(SlotSet(METADATA_SLOT, dict(self.metadata)))
        if self._tags_changed:
            events.append(SlotSet(TAGS_SLOT, list(self.tags)))
        return events


def _conversation(tracker: Tracker, metadata: dict[str, Any]) -> dict[str, Any] | None:
    if not tracker.sender_id:
        return None
    messages = []
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("user", "bot"):
            messages.append(
                {
                    "role": "user" if kind == "user" else "assistant",
                    "text": event.get("text"),
                    "timestamp": event.get("timestamp"),
                }
            )
    return {
        "id": tracker.sender_id,
        "messages": messages,
        "slots": dict(tracker.slots),
        "metadata": metadata,
    }


class FunctionAction(ArgumentAction):
    """Adapts a function to the ``Action`` contract, so webhook and flows treat it alike."""

    kind = "function"
    open_ended = True

    def __init__(
        self,
        function: Callable[[ActionContext], Any],
        name: str,
        description: str = "",
        arguments: list[ArgumentSpec] | None = None,
    ) -> None:
        self.function = function
        self._name = name
        self.description = description
        self.arguments = list(arguments or [])

    def name(self) -> str:
        return self._name

    async def execute(
        self,
        args: dict[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        stored = tracker.get_slot(METADATA_SLOT)
        metadata = dict(stored) if isinstance(stored, Mapping) else {}
        tags = tracker.get_slot(TAGS_SLOT)
        context = ActionContext(
            args=args,
            conversation=_conversation(tracker, metadata),
            dispatcher=dispatcher,
            tracker=tracker,
            domain=domain,
            metadata=metadata,
            tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        )
        if inspect.iscoroutinefunction(self.function):
            result = await self.function(context)
        else:
            result = await asyncio.to_thread(self.function, context)
            if inspect.isawaitable(result):
                result = await result
        return context.helper_events() + self._result_events(result, domain)

    def _result_events(self, result: Any, domain: Mapping[str, Any]) -> list[dict[str, Any]]:
        if result is None:
            return []
        if isinstance(result, list):
            return result
        if not isinstance(result, Mapping):
            raise TypeError(
                f"function action '{self.name()}' returned {type(result).__name__}; "
                "expected a dict of slot values, a list of events or None"
            )
        slots = domain.get("slots") if isinstance(domain, Mapping) else None
        if slots:
            dropped = [key for key in result if key not in slots]
            if dropped:
                logger.debug("action %s: keys %s are not domain slots", self.name(), dropped)
            return [SlotSet(key, value) for key, value in result.items() if key in slots]
        return [SlotSet(key, value) for key, value in result.items()]


def discover_function_actions(module: ModuleType) -> list[FunctionAction]:
    """Function actions defined in ``module`` (imported functions are not picked up twice)."""
    found: list[FunctionAction] = []
    execute = module.__dict__.get("execute_action")
    if callable(execute) and getattr(execute, "__module__", None) == module.__name__:
        if not hasattr(execute, _SPEC_ATTRIBUTE):
            name = module.__dict__.get("NAME") or module.__name__.rsplit(".", 1)[-1]
            description = module.__dict__.get("DESCRIPTION") or _first_line(module.__doc__)
            arguments = parse_argument_specs(
                module.__dict__.get("ARGS"), where=f"{module.__name__}: ARGS"
            )
            found.append(FunctionAction(execute, str(name), str(description), arguments))
    for value in list(module.__dict__.values()):
        spec = getattr(value, _SPEC_ATTRIBUTE, None)
        if isinstance(spec, _FunctionSpec) and value.__module__ == module.__name__:
            found.append(FunctionAction(value, spec.name, spec.description, spec.arguments))
    return found
