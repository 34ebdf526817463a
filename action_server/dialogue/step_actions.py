"""``pre_actions``/``post_actions`` of steps and flows: one registry keyed by ``type``.

Built-in types are registered exactly like user types (``register_action(type, handler)``), so
a project can add ``type: send_sms`` or replace ``say``. A handler is called with the action's
dict (``{"type": ..., **params}``) and a ``FlowContext``; it may be sync or async.

Built-ins:
- ``say`` / ``tts_say``: a bot message from ``text`` with ``{slot}`` interpolation;
- ``end_conversation``: optional goodbye ``text``; clears the stack and ends the conversation;
- ``function``: ``handler: "package.module:function"``, called like any handler;
- ``transfer``: a ``{"custom": {"type": "transfer", "target": ...}}`` message (a voice channel
  turns it into a call transfer), optional ``text`` before it; optional ``caller_id_name``,
  ``caller_id_number``, ``timeout`` (5-120 s) and ``fallback_text`` (said if the transfer
  fails) go into ``custom`` too; the bot's part is over, so the conversation ends too.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from action_server.dialogue.responses import interpolate

__all__ = [
    "DEFAULT_REGISTRY",
    "FlowContext",
    "StepActionError",
    "StepActionHandler",
    "StepActionRegistry",
    "register_action",
]

logger = logging.getLogger(__name__)


class StepActionError(Exception):
    """A step action is unknown, misconfigured, or its handler failed; says which and where."""


class FlowContext:
    """What a step-action handler may see and do: read/set slots, add messages, end the chat.

    The engine builds one per step action; the callbacks apply changes to the running turn so
    they are recorded as events in order.
    """

    def __init__(
        self,
        *,
        conversation_id: str,
        flow_id: str,
        step_id: str | None,
        slots: Mapping[str, Any],
        set_slot: Callable[[str, Any], None],
        add_message: Callable[[dict[str, Any]], None],
        end_conversation: Callable[[str], None],
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.conversation_id = conversation_id
        self.flow_id = flow_id
        self.step_id = step_id
        self._slots = slots
        self._set_slot = set_slot
        self._add_message = add_message
        self._end_conversation = end_conversation
        self.metadata: Mapping[str, Any] = metadata or {}

    @property
    def slots(self) -> Mapping[str, Any]:
        """Current slot values (read-only view; use ``set_slot`` to change one)."""
        return self._slots

    def get_slot(self, name: str) -> Any:
        return self._slots.get(name)

    def set_slot(self, name: str, value: Any) -> None:
        """Set a domain slot (coerced to its type); ValueError names slot and value."""
        self._set_slot(name, value)

    def add_message(self, message: dict[str, Any]) -> None:
        """Send a bot message dict (``text``, ``buttons``, ``image``, ``custom`` ...)."""
        self._add_message(message)

    def say(self, text: str) -> None:
        """Send ``text`` after ``{slot}`` interpolation."""
        self._add_message({"text": interpolate(text, self._slots)})

    def end_conversation(self, reason: str = "end_conversation") -> None:
        self._end_conversation(reason)


StepActionHandler = Callable[[dict[str, Any], FlowContext], Awaitable[None] | None]


class StepActionRegistry:
    """Handlers by type; ``run`` dispatches one step action."""

    def __init__(self) -> None:
        self._handlers: dict[str, StepActionHandler] = {}
        self._functions: dict[str, Callable[..., Any]] = {}

    def register(self, type_name: str, handler: StepActionHandler) -> None:
        """Add or replace the handler for ``type_name``."""
        if not isinstance(type_name, str) or not type_name:
            raise ValueError(f"step action type must be a non-empty string, got {type_name!r}")
        if not callable(handler):
            raise TypeError(f"handler for step action type '{type_name}' is not callable")
        self._handlers[type_name] = handler

    def known_types(self) -> set[str]:
        return set(self._handlers)

    def copy(self) -> StepActionRegistry:
        clone = StepActionRegistry()
        clone._handlers = dict(self._handlers)
        return clone

    async def run(self, action: dict[str, Any], context: FlowContext, where: str = "") -> None:
        """Run one step action; every failure becomes a StepActionError naming type and place."""
        type_name = action.get("type")
        prefix = f"{where}: " if where else ""
        handler = self._handlers.get(str(type_name))
        if handler is None:
            known = ", ".join(sorted(self._handlers))
            raise StepActionError(
                f"{prefix}unknown step action type {type_name!r} (known types: {known})"
            )
        try:
            result = handler(action, context)
            if inspect.isawaitable(result):
                await result
        except StepActionError as exc:
            raise StepActionError(f"{prefix}{exc}") from exc
        except Exception as exc:
            raise StepActionError(
                f"{prefix}step action '{type_name}' failed: {type(exc).__name__}: {exc}"
            ) from exc

    def resolve_function(self, spec: Any) -> Callable[..., Any]:
        """Import ``package.module:function`` (cached); errors say what could not be found."""
        if not isinstance(spec, str) or ":" not in spec:
            raise StepActionError(
                f"'handler' must look like 'package.module:function', got {spec!r}"
            )
        cached = self._functions.get(spec)
        if cached is not None:
            return cached
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise StepActionError(
                f"cannot import module '{module_name}' for handler '{spec}': "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        function: Any = module
        for part in attribute.split("."):
            function = getattr(function, part, None)
            if function is None:
                raise StepActionError(f"module '{module_name}' has no '{attribute}' ('{spec}')")
        if not callable(function):
            raise StepActionError(f"handler '{spec}' is not callable")
        self._functions[spec] = function
        return function


# --- built-in types -------------------------------------------------------------------------


def _text(action: dict[str, Any], required: bool) -> str | None:
    text = action.get("text")
    if text is None and not required:
        return None
    if not isinstance(text, str):
        raise StepActionError(f"step action '{action.get('type')}' needs a 'text' string")
    return text


def _say(action: dict[str, Any], context: FlowContext) -> None:
    context.say(_text(action, required=True) or "")


def _end_conversation(action: dict[str, Any], context: FlowContext) -> None:
    text = _text(action, required=False)
    if text:
        context.say(text)
    context.end_conversation("end_conversation")


def _transfer(action: dict[str, Any], context: FlowContext) -> None:
    target = action.get("target")
    if target is None or (isinstance(target, str) and not target.strip()):
        raise StepActionError("step action 'transfer' needs a 'target' (a number or address)")
    text = _text(action, required=False)
    custom: dict[str, Any] = {"type": "transfer", "target": interpolate(target, context.slots)}
    for key in _TRANSFER_TEXTS:
        value = action.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
            raise StepActionError(f"step action 'transfer': '{key}' must be a non-empty string")
        custom[key] = interpolate(str(value), context.slots)
    timeout = action.get("timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 5 <= timeout <= 120:
            raise StepActionError(
                f"step action 'transfer': 'timeout' must be whole seconds from 5 to 120, "
                f"got {timeout!r}"
            )
        custom["timeout"] = timeout
    if text:
        context.say(text)
    context.add_message({"custom": custom})
    context.end_conversation("transfer")


_TRANSFER_TEXTS = ("caller_id_name", "caller_id_number", "fallback_text")


def _make_function_handler(registry: StepActionRegistry) -> StepActionHandler:
    async def run_function(action: dict[str, Any], context: FlowContext) -> None:
        function = registry.resolve_function(action.get("handler"))
        result = function(action, context)
        if inspect.isawaitable(result):
            await result

    return run_function


def _with_builtins(registry: StepActionRegistry) -> StepActionRegistry:
    registry.register("say", _say)
    registry.register("tts_say", _say)
    registry.register("end_conversation", _end_conversation)
    registry.register("transfer", _transfer)
    registry.register("function", _make_function_handler(registry))
    return registry


DEFAULT_REGISTRY: StepActionRegistry = _with_builtins(StepActionRegistry())
"""The process-wide registry engines use unless given their own."""


def register_action(type_name: str, handler: StepActionHandler) -> None:
    """Register a step-action type (or replace one, built-ins included) for every engine."""
    DEFAULT_REGISTRY.register(type_name, handler)
