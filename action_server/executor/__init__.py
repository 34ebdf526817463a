"""The action registry and the one place where actions run.

`ActionExecutor.run(call)` is rasa-sdk's API: it returns an `ActionExecutorRunResult` and
lets an action's own exception surface. `ActionExecutor.execute(call)` is the transports'
fast path (server, flow engine, CLI): the plain `{"events", "responses"}` dict, every action
error typed (`ActionFailed`, `ActionTimeout`, see docs/internals.md).
Async `run` methods run on the event loop; sync ones in a dedicated thread pool, so one
slow sync action never delays other requests.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import threading
import types
import warnings
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

from pydantic import BaseModel, Field

from action_server.exceptions import ActionFailed, ActionLoadError, ActionTimeout, InvalidActionCall
from action_server.executor.arguments import (
    ArgumentAction,
    ArgumentError,
    ArgumentSpec,
    arguments_of,
    webhook_arguments,
)
from action_server.executor.discovery import (
    LoadedActions,
    checked_name,
    describe_origin,
    load_actions,
    reload_actions,
    snapshot,
)
from action_server.executor.reloader import PollingWatcher
from action_server.executor.threads import ActionThreadPool, is_coroutine_function
from action_server.interfaces import (
    Action,
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
    Tracker,
)
from action_server.interfaces.caller_input import quote_input
from action_server.interfaces.dispatcher import CollectingDispatcher

__all__ = [
    "COMPATIBLE_RASA_MAJOR",
    "ActionExecutor",
    "ActionExecutorRunResult",
    "ActionName",
    "TimestampModule",
    "CollectingDispatcher",
    "Discoverer",
    "is_compatible_rasa_version",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_THREADS = 32
# We speak the action server protocol of Rasa 3.x (domain digest, 449 re-send).
COMPATIBLE_RASA_MAJOR = 3
# Bounds the memory a client can make us spend by sending ever new version strings.
_MAX_VERSION_CHARS = 100
_MAX_REMEMBERED_VERSIONS = 256

Discoverer = Callable[[LoadedActions], Iterable[Action]]
"""Finds extra actions (API actions, function actions) in a loaded actions package."""


@dataclass
class _PackageSource:
    """A registered package: what it loaded, plus what discoverers found in it."""

    loaded: LoadedActions
    extra: list[Action] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return [*self.loaded.actions, *self.extra]


# rasa-sdk's record of an imported module file (kept for code that imports the name).
TimestampModule = namedtuple("TimestampModule", ["timestamp", "module"])


class ActionExecutorRunResult(BaseModel):
    """What `ActionExecutor.run` returns (rasa-sdk's model): the events and the responses."""

    events: list[dict[str, Any]] = Field(alias="events")
    responses: list[dict[str, Any]] = Field(alias="responses")


class ActionName(BaseModel):
    """One entry of `ActionExecutor.list_actions()` (rasa-sdk's model)."""

    name: str = Field(alias="name")


class _FunctionAction(Action):
    """A function registered with `register_function`: an action whose `run` is the function."""

    def __init__(self, action_name: str, function: Callable[..., Any]) -> None:
        self._action_name = action_name
        self.function = function

    def name(self) -> str:
        return self._action_name

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        result = self.function(dispatcher, tracker, domain)
        return await result if inspect.isawaitable(result) else result


_Source = Union[_PackageSource, Action]


@dataclass(frozen=True)
class _Registry:
    """The actions by name, and the declared arguments of the class actions that have any.

    One object, swapped whole, so a reader never pairs new actions with old declarations.
    """

    actions: dict[str, Action] = field(default_factory=dict)
    # What runs for each name: `action.run`, or the function given to `register_function`
    # (rasa-sdk's `executor.actions[name]`, called with dispatcher, tracker, domain).
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # Only class actions that declare arguments: the common call pays one failed dict lookup.
    argument_specs: dict[str, list[ArgumentSpec]] = field(default_factory=dict)


def is_compatible_rasa_version(version: str) -> bool:
    """True for Rasa 3.x; rasa-sdk compares major.minor, we guarantee the whole major."""
    major = version.split(".", 1)[0]
    return major.isdigit() and int(major) == COMPATIBLE_RASA_MAJOR


class ActionExecutor:
    """Registers actions and runs them for action calls."""

    def __init__(
        self,
        *,
        action_timeout: float | None = None,
        auto_reload: bool = False,
        max_threads: int | None = None,
        reload_interval: float = 1.0,
    ) -> None:
        if action_timeout is not None and not (
            math.isfinite(action_timeout) and action_timeout > 0
        ):
            raise ValueError(f"action_timeout must be a positive number, got {action_timeout!r}.")
        if max_threads is not None and max_threads < 1:
            raise ValueError(f"max_threads must be at least 1, got {max_threads!r}.")
        self.action_timeout = action_timeout
        self.auto_reload = auto_reload
        self.max_threads = max_threads or DEFAULT_MAX_THREADS
        self._sources: list[_Source] = []
        # What register_package was given, in order (rasa-sdk keeps them to rescan on reload).
        self._registered_package_names: list[str] = []
        self._discoverers: list[Discoverer] = []
        self._registry = _Registry()
        # Serialises registry changes (the reloader thread vs. register_* calls).
        self._registry_lock = threading.RLock()
        # The domain Rasa sent last and its digest (rasa-sdk's public attributes).
        self.domain: dict[str, Any] | None = None
        self.domain_digest: str | None = None
        self._seen_versions: set[str | None] = set()
        self._threads = ActionThreadPool(self.max_threads)
        self._watcher = PollingWatcher(self.reload_if_changed, reload_interval)

    # --- registry -------------------------------------------------------------------

    @property
    def actions(self) -> dict[str, Callable[..., Any]]:
        """What runs for each action name, as in rasa-sdk: call it with (dispatcher, tracker,
        domain). A snapshot in registration order, safe to iterate."""
        return self._registry.functions

    @property
    def action_objects(self) -> dict[str, Action]:
        """The registered `Action` objects by name (for descriptions and typed arguments)."""
        return self._registry.actions

    def list_actions(self) -> list[ActionName]:
        """The registered action names, as rasa-sdk's `ActionName` models."""
        return [ActionName(name=name) for name in self._registry.functions]

    def register_package(self, package: str | types.ModuleType) -> None:
        """Import a package/module (dotted name, path or module object), register its actions.

        Raises `ActionLoadError` naming file and line on import errors and both classes
        on duplicate names; the registry is unchanged then.
        """
        if isinstance(package, types.ModuleType):
            package = package.__name__
        with self._registry_lock:
            loaded = load_actions(package)
            source = _PackageSource(loaded, self._discover(loaded))
            self._commit([*self._sources, source])
            self._registered_package_names.append(package)
            logger.info(
                "Registered %d action(s) from '%s': %s",
                len(source.actions),
                package,
                ", ".join(a.name() for a in source.actions) or "none",
            )
        if self.auto_reload:
            self._watcher.start()

    def register_action(self, action: type[Action] | Action) -> None:
        """Register one action class or instance; its name() is asked on every rebuild."""
        if isinstance(action, type):
            if not issubclass(action, Action):
                raise ActionLoadError(f"Cannot register {action!r}: it is not an Action subclass.")
            if inspect.isabstract(action):
                raise ActionLoadError(f"Cannot register {describe_origin(action)}: it is abstract.")
            action = action()
        elif not isinstance(action, Action):
            raise ActionLoadError(
                f"Cannot register {action!r}: only Action subclasses or instances can be "
                "registered."
            )
        with self._registry_lock:
            if any(source is action for source in self._sources):
                return
            self._commit([*self._sources, action])

    def register_function(self, action_name: str, f: Callable[..., Any]) -> None:
        """Register a function run as action `action_name` with (dispatcher, tracker, domain).

        As in rasa-sdk, registering a name again replaces its function.
        """
        if len(_parameters_of(f)) < 3:
            raise Exception(
                "You can only register functions that take 3 parameters as arguments. The "
                "three parameters your function will receive are: dispatcher, tracker, domain. "
                f"Your function accepts only {len(_parameters_of(f))} parameters."
            )
        with self._registry_lock:
            replaced = action_name in self._registry.functions
            sources = [
                source
                for source in self._sources
                if not (isinstance(source, _FunctionAction) and source.name() == action_name)
            ]
            self._commit([*sources, _FunctionAction(action_name, f)])
        logger.info(
            "%s function for '%s'.", "Re-registered" if replaced else "Registered", action_name
        )

    def add_discoverer(self, discoverer: Discoverer) -> None:
        """Let another action kind find its actions in every (re)loaded package.

        Its actions are registered after the package's classes, and are found again on
        each auto-reload, which a one-off `register_action` call would miss.
        """
        with self._registry_lock:
            self._discoverers.append(discoverer)
            sources = [
                _PackageSource(s.loaded, self._discover(s.loaded))
                if isinstance(s, _PackageSource)
                else s
                for s in self._sources
            ]
            self._commit(sources)

    def start_auto_reload(self) -> None:
        """Watch the registered packages from now on, as `auto_reload=True` does."""
        self.auto_reload = True
        self._watcher.start()

    def reload(self) -> None:
        """Re-import the registered packages whose files changed (rasa-sdk's name)."""
        self.reload_if_changed()

    def reload_if_changed(self) -> bool:
        """Re-import every package whose files changed; True if the registry changed.

        A failing reload logs the error and keeps the previous actions serving.
        """
        changed = False
        with self._registry_lock:
            for index, source in enumerate(list(self._sources)):
                if not isinstance(source, _PackageSource):
                    continue
                stamp = snapshot(source.loaded.roots)
                if stamp == source.loaded.stamp:
                    continue
                target = source.loaded.target
                # Remember the stamp now, so a broken file is retried only after its next edit.
                source.loaded.stamp = stamp
                try:
                    loaded = reload_actions(source.loaded)
                    fresh = _PackageSource(loaded, self._discover(loaded))
                    sources = list(self._sources)
                    sources[index] = fresh
                    self._commit(sources)
                except ActionLoadError as error:
                    logger.error(
                        "Auto-reload of '%s' failed; still serving the previous actions. %s",
                        target,
                        error,
                    )
                    continue
                changed = True
                logger.info(
                    "Reloaded '%s': %d action(s) registered.", target, len(self._registry.actions)
                )
        return changed

    def _discover(self, loaded: LoadedActions) -> list[Action]:
        found: list[Action] = []
        for discoverer in self._discoverers:
            try:
                found.extend(discoverer(loaded))
            except ActionLoadError:
                raise
            except Exception as error:
                raise ActionLoadError(
                    f"Cannot load actions from '{loaded.target}': discoverer "
                    f"{getattr(discoverer, '__qualname__', discoverer)!r} failed: "
                    f"{type(error).__name__}: {error}"
                ) from error
        return found

    def _commit(self, sources: list[_Source]) -> None:
        """Build the registry from `sources` and swap it in whole, or raise and change nothing."""
        registry: dict[str, Action] = {}
        for source in sources:
            for action in source.actions if isinstance(source, _PackageSource) else [source]:
                name = checked_name(action)
                existing = registry.get(name)
                # A registered function replaces an action of its name, as in rasa-sdk.
                if (
                    not isinstance(action, _FunctionAction)
                    and existing is not None
                    and existing is not action
                ):
                    raise ActionLoadError(
                        f"Duplicate action name '{name}': {describe_origin(existing)} and "
                        f"{describe_origin(action)} both return it from name(). "
                        "Rename one of them."
                    )
                registry[name] = action
        argument_specs = {
            name: specs
            for name, action in registry.items()
            if (specs := _declared_class_arguments(action))
        }
        functions = {
            name: action.function if isinstance(action, _FunctionAction) else action.run
            for name, action in registry.items()
        }
        # Readers on the event loop see either the old or the new registry, never a mix.
        self._sources = sources
        self._registry = _Registry(registry, functions, argument_specs)

    # --- execution ------------------------------------------------------------------

    async def run(
        self,
        action_call: dict[str, Any],
        sink: asyncio.Queue[Any] | None = None,
        dispatcher: CollectingDispatcher | None = None,
    ) -> ActionExecutorRunResult | None:
        """rasa-sdk's entry point: the result model, or None when `next_action` is missing.

        The action's own exception surfaces unchanged. With a `sink` queue, streamed
        chunks go to it as they come (`stream_start`, `stream_chunk`, `stream_end`),
        then `stream_done` with the result, or `stream_error` with the exception.
        """
        if not action_call.get("next_action"):
            logger.warning("Received an action call without an action.")
            return None
        if dispatcher is None:
            dispatcher = CollectingDispatcher()
        if sink is not None:
            dispatcher._stream_sink = sink.put
        try:
            answer = await self._run_unwrapped(action_call, dispatcher)
            result = ActionExecutorRunResult(events=answer["events"], responses=answer["responses"])
        except Exception as error:
            if sink is not None:
                await sink.put({"event": "stream_error", "exception": error})
            raise
        if sink is not None:
            await sink.put({"event": "stream_done", "result": result})
        return result

    async def _run_unwrapped(
        self, action_call: dict[str, Any], dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        """`_execute`, with the action's own exception raised as itself (rasa-sdk's API)."""
        cause: BaseException | None = None
        try:
            return await self._execute(action_call, dispatcher)
        except ActionFailed as failed:
            cause = failed.cause
        raise cause  # outside the handler: the action's exception, without our wrapper

    async def run_streaming(
        self, action_call: dict[str, Any], sink: asyncio.Queue[Any]
    ) -> ActionExecutorRunResult | None:
        """`run(action_call, sink=sink)`, for callers that always stream."""
        return await self.run(action_call, sink=sink)

    async def execute(self, call: dict[str, Any]) -> dict[str, Any]:
        """The transports' path: `{"events": [...], "responses": [...]}`, errors typed.

        An action's exception arrives as `ActionFailed` (cause attached), a missing
        action as `ActionNotFoundException`, a malformed call as `InvalidActionCall`.
        """
        return await self._execute(call, CollectingDispatcher())

    async def _execute(
        self, call: dict[str, Any], dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        action_name = call.get("next_action")
        if not isinstance(action_name, str) or not action_name:
            raise InvalidActionCall(
                str(action_name or ""), "The action call has no 'next_action' string."
            )
        registry = self._registry
        run = registry.functions.get(action_name)
        if run is None:
            raise ActionNotFoundException(action_name)
        self._warn_on_incompatible_version(call.get("version"))
        domain = self._domain_for(call, action_name)
        tracker_state = call.get("tracker")
        if not isinstance(tracker_state, dict):
            raise InvalidActionCall(
                action_name, f"The call of action '{action_name}' has no 'tracker' object."
            )
        try:
            tracker = Tracker.from_dict(_own_containers(tracker_state))
        except ValueError as error:
            raise InvalidActionCall(
                action_name, f"The call of action '{action_name}' has an invalid tracker: {error}"
            ) from None
        specs = registry.argument_specs.get(action_name)
        if specs is not None:
            # Rejects (HTTP 400) naming the action and the missing or badly typed argument.
            webhook_arguments(action_name, specs, tracker)

        invocation = self._invoke(run, action_name, dispatcher, tracker, domain)
        if self.action_timeout is None:
            result = await invocation
        else:
            try:
                # _invoke wraps every error of the action, so a TimeoutError here is ours.
                result = await asyncio.wait_for(invocation, self.action_timeout)
            except asyncio.TimeoutError:
                if not is_coroutine_function(run):
                    # Python cannot stop a thread: it keeps its pool slot until run returns.
                    logger.warning(
                        "Sync action '%s' timed out; its thread keeps running until it returns.",
                        action_name,
                    )
                raise ActionTimeout(action_name, self.action_timeout) from None

        if dispatcher.is_streaming_active:
            # rasa-sdk closes a stream the action left open and keeps its chunks as messages.
            logger.warning(
                "Action '%s' called stream_start() / stream_chunk() but never called "
                "stream_end(). Closing the stream automatically.",
                action_name,
            )
            await dispatcher.stream_end()

        return self._create_api_response(_validate_events(result, action_name), dispatcher.messages)

    @staticmethod
    def _create_api_response(
        events: list[dict[str, Any]], messages: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The answer of one call (its own method: tracing wraps it in a span, as rasa-sdk's)."""
        return {"events": events, "responses": messages}

    async def _invoke(
        self,
        run: Callable[..., Any],
        action_name: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> Any:
        # The declared signature is async, but users write plain `def run` too.
        try:
            if is_coroutine_function(run):
                return await run(dispatcher, tracker, domain)
            result = await self._threads.run(run, dispatcher, tracker, domain)
            if inspect.isawaitable(result):
                result = await result
            return result
        except (ActionExecutionRejection, InvalidActionCall):
            raise  # InvalidActionCall: the caller's data (tracker.events) failed to decode
        except (Exception, SystemExit) as error:
            raise ActionFailed(action_name, error, sender_id=tracker.sender_id) from error

    def _domain_for(self, call: dict[str, Any], action_name: str) -> dict[str, Any]:
        """rasa-sdk's domain digest protocol: Rasa omits a domain we already hold.

        No domain and a digest we do not hold (or no digest at all) -> 449, and Rasa
        re-sends the call with the domain. A non-empty domain is cached with its digest.
        """
        domain = call.get("domain")
        digest = call.get("domain_digest")
        if domain is None:
            if not self.is_domain_digest_valid(digest):
                raise ActionMissingDomainException(action_name)
            return self.domain or {}
        if not isinstance(domain, dict):
            raise InvalidActionCall(
                action_name,
                f"The call of action '{action_name}' has a 'domain' that is not an object.",
            )
        if domain:
            self.domain, self.domain_digest = domain, digest
            return domain
        return self.domain or {}

    def is_domain_digest_valid(self, domain_digest: str | None) -> bool:
        """True when we hold a domain and `domain_digest` is its digest."""
        return bool(self.domain_digest) and self.domain_digest == domain_digest

    def update_and_return_domain(
        self, payload: dict[str, Any], action_name: str
    ) -> dict[str, Any] | None:
        """rasa-sdk's domain step: keep a sent domain, or raise the 449 exception when the
        call has no domain and a digest we do not hold."""
        payload_domain = payload.get("domain")
        payload_digest = payload.get("domain_digest")
        if not self.is_domain_digest_valid(payload_digest) and payload_domain is None:
            raise ActionMissingDomainException(action_name)
        if payload_domain:
            self.domain, self.domain_digest = payload_domain, payload_digest
        return self.domain

    @staticmethod
    def validate_events(events: list[Any], action_name: str) -> list[dict[str, Any]]:
        """The events Rasa can apply: dicts with an `event` key; other items are dropped
        with a logged error (rasa-sdk's static method)."""
        return _validate_events(list(events), action_name)

    def _warn_on_incompatible_version(self, version: Any) -> None:
        """Warn once per distinct incompatible Rasa version; never reject a call."""
        key = version if isinstance(version, str) or version is None else quote_input(version)
        key = key if key is None else key[:_MAX_VERSION_CHARS]
        # Once full, stop warning rather than warn on every call: distinct bad versions can
        # neither flood the log nor grow memory.
        if key in self._seen_versions or len(self._seen_versions) >= _MAX_REMEMBERED_VERSIONS:
            return
        self._seen_versions.add(key)
        # Hand-written calls (curl, tests) often send no version: not a warning.
        if key is None or is_compatible_rasa_version(key):
            return
        logger.warning(
            "Rasa version %s may not be compatible with this action server, which "
            "implements the action server protocol of Rasa %d.x (rasa-sdk %d.x).",
            quote_input(key),
            COMPATIBLE_RASA_MAJOR,
            COMPATIBLE_RASA_MAJOR,
        )

    # --- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        """Stop the reloader and the thread pool (running sync actions finish first)."""
        self._watcher.stop()
        self._threads.close()


def _declared_class_arguments(action: Action) -> list[ArgumentSpec]:
    """Arguments a plain class action declares, checked by `run` before the action runs.

    `ArgumentAction`s (API and function actions) validate their own arguments in `run`.
    """
    if isinstance(action, ArgumentAction):
        return []
    try:
        return arguments_of(action)
    except ArgumentError as error:
        raise ActionLoadError(
            f"Cannot register {describe_origin(action)}: invalid 'arguments' declaration: {error}"
        ) from None


def _parameters_of(function: Callable[..., Any]) -> list[str]:
    """Parameter names of a function (rasa-sdk's `utils.arguments_of`)."""
    return list(inspect.signature(function).parameters)


def _own_containers(tracker_state: dict[str, Any]) -> dict[str, Any]:
    """Shallow copies of `slots` and `events`, which actions (forms) update in place.

    The caller's call dict stays untouched (the flow engine keeps it as its state);
    copying the lists costs pointers only, never the event dicts. `RawEvents` (the server's
    unparsed events) need no copy: each tracker decodes its own new list.
    """
    state = dict(tracker_state)
    if isinstance(state.get("slots"), dict):
        state["slots"] = dict(state["slots"])
    if isinstance(state.get("events"), list):
        state["events"] = list(state["events"])
    return state


def _validate_events(result: Any, action_name: str) -> list[dict[str, Any]]:
    """Keep what Rasa can apply: dicts with an `event` key (like rasa-sdk's validate_events)."""
    if result is None:
        return []
    if not isinstance(result, (list, tuple)):
        logger.warning(
            "Action '%s' returned %s instead of a list of events; it was ignored.",
            action_name,
            type(result).__name__,
        )
        return []
    events: list[dict[str, Any]] = []
    dropped = 0
    for item in result:
        if isinstance(item, dict) and item.get("event"):
            events.append(item)
        elif type(item).__module__ == "rasa.core.events" and hasattr(item, "as_dict"):
            # Rasa's own event objects, as rasa-sdk tolerates them (with a warning).
            warnings.warn(
                f"Action '{action_name}' returned an event of `rasa.core.events`; use the "
                "helpers in `action_server.events` instead.",
                UserWarning,
                stacklevel=2,
            )
            events.append(item.as_dict())
        else:
            dropped += 1
    if dropped:
        logger.error(
            "Action '%s' returned %d item(s) that are not events (dicts with an 'event' "
            "key); they were ignored. Use the helpers in action_server.events.",
            action_name,
            dropped,
        )
    return events
