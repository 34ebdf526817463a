"""ActionExecutor: registry, the run() contract, domain digest, timeouts, auto-reload."""

from __future__ import annotations

import asyncio
import logging
import os
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from action_server import Action, ActionExecutionRejection
from action_server.events import FollowupAction, SlotSet
from action_server.exceptions import ActionFailed, ActionLoadError, ActionTimeout, InvalidActionCall
from action_server.executor import ActionExecutor, CollectingDispatcher, is_compatible_rasa_version
from action_server.interfaces import ActionMissingDomainException, ActionNotFoundException

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DOMAIN = {"slots": {"cuisine": {"type": "text"}}, "responses": {}}


class ActionSync(Action):
    def name(self) -> str:
        return "action_sync"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f"cuisine is {tracker.get_slot('cuisine')}")
        return [SlotSet("seen", True), FollowupAction("action_listen")]


class ActionAsync(Action):
    def name(self) -> str:
        return "action_async"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        dispatcher.utter_message(text="async")
        return [SlotSet("async", 1)]


class ActionReturnsNone(Action):
    def name(self) -> str:
        return "action_none"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> None:
        dispatcher.utter_message(text="nothing to return")


class ActionReturnsJunk(Action):
    def name(self) -> str:
        return "action_junk"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        return [SlotSet("kept", 1), "not an event", {"no": "event key"}, 42]


class ActionRaises(Action):
    def name(self) -> str:
        return "action_raises"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        raise KeyError("secret detail")


class ActionRejects(Action):
    def name(self) -> str:
        return "action_rejects"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        raise ActionExecutionRejection("action_rejects", "not now")


class ActionSlowSync(Action):
    def name(self) -> str:
        return "action_slow_sync"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        time.sleep(1)
        return [SlotSet("slept", True)]


class ActionSlowAsync(Action):
    def name(self) -> str:
        return "action_slow_async"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        await asyncio.sleep(5)
        return []


class ActionEchoDomain(Action):
    def name(self) -> str:
        return "action_echo_domain"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        dispatcher.utter_message(json_message={"domain": domain})
        return []


class ActionDynamicName(Action):
    """Like API actions: one class, a name per instance."""

    def __init__(self, action_name: str) -> None:
        self.action_name = action_name

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=self.action_name)
        return []


ALL_ACTIONS = [
    ActionSync,
    ActionAsync,
    ActionReturnsNone,
    ActionReturnsJunk,
    ActionRaises,
    ActionRejects,
    ActionSlowSync,
    ActionSlowAsync,
    ActionEchoDomain,
]


def make_call(name: str, **overrides: Any) -> dict[str, Any]:
    call: dict[str, Any] = {
        "next_action": name,
        "sender_id": "user-1",
        "tracker": {"sender_id": "user-1", "slots": {"cuisine": "thai"}, "events": []},
        "domain": DOMAIN,
        "version": "3.10.0",
    }
    call.update(overrides)
    return call


def names(executor: ActionExecutor) -> list[str]:
    return [entry.name for entry in executor.list_actions()]


@pytest.fixture
def executor() -> Iterator[ActionExecutor]:
    executor = ActionExecutor(action_timeout=3)
    for action in ALL_ACTIONS:
        executor.register_action(action)
    yield executor
    executor.close()


# --- registry -----------------------------------------------------------------------


def test_list_actions_keeps_registration_order(executor: ActionExecutor) -> None:
    assert names(executor) == [cls().name() for cls in ALL_ACTIONS]
    assert list(executor.actions) == [cls().name() for cls in ALL_ACTIONS]


def test_register_action_accepts_instances_with_dynamic_names() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionDynamicName("getOrderDetails"))
    executor.register_action(ActionDynamicName("cancelOrder"))
    assert names(executor) == ["getOrderDetails", "cancelOrder"]


def test_register_action_refuses_a_second_action_with_the_same_name() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionDynamicName("action_sync"))
    with pytest.raises(ActionLoadError, match="Duplicate action name 'action_sync'") as error:
        executor.register_action(ActionSync)
    assert "ActionDynamicName" in str(error.value)
    assert "ActionSync" in str(error.value)
    assert names(executor) == ["action_sync"]


def test_register_action_refuses_things_that_are_not_actions() -> None:
    with pytest.raises(ActionLoadError, match="not an Action subclass"):
        ActionExecutor().register_action(dict)  # type: ignore[arg-type]


def test_register_package_and_action_keep_one_order() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionSync)
    executor.register_package(str(FIXTURES / "actions_namespace"))
    assert names(executor) == [
        "action_sync",
        "action_nested",
        "action_top",
    ]


def test_register_package_load_error_leaves_the_registry_unchanged() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionSync)
    with pytest.raises(ActionLoadError, match="Duplicate action name"):
        executor.register_package(str(FIXTURES / "actions_duplicate"))
    assert names(executor) == ["action_sync"]


def test_discoverer_adds_actions_for_each_package() -> None:
    executor = ActionExecutor()
    executor.register_package(str(FIXTURES / "actions_namespace"))
    executor.add_discoverer(lambda loaded: [ActionDynamicName(f"api_{loaded.module_name}")])
    assert names(executor)[-1] == "api_actions_namespace"


def test_executor_reexports_the_collecting_dispatcher() -> None:
    from action_server.interfaces.dispatcher import CollectingDispatcher as Original

    assert CollectingDispatcher is Original


# --- run ------------------------------------------------------------------------------


async def test_sync_action_returns_events_and_responses(executor: ActionExecutor) -> None:
    result = await executor.execute(make_call("action_sync"))
    assert result["events"] == [SlotSet("seen", True), FollowupAction("action_listen")]
    assert [r["text"] for r in result["responses"]] == ["cuisine is thai"]


async def test_sync_action_runs_in_the_thread_pool(executor: ActionExecutor) -> None:
    seen: list[str] = []

    class ActionWhere(Action):
        def name(self) -> str:
            return "action_where"

        def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
            seen.append(threading.current_thread().name)
            return []

    executor.register_action(ActionWhere)
    await executor.execute(make_call("action_where"))
    assert seen[0].startswith("action")
    assert seen[0] != threading.main_thread().name


async def test_async_action_runs_on_the_loop_thread(executor: ActionExecutor) -> None:
    seen: list[str] = []

    class ActionWhereAsync(Action):
        def name(self) -> str:
            return "action_where_async"

        async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
            seen.append(threading.current_thread().name)
            return []

    executor.register_action(ActionWhereAsync)
    await executor.execute(make_call("action_where_async"))
    result = await executor.execute(make_call("action_async"))
    assert seen == [threading.current_thread().name]
    assert result["events"] == [SlotSet("async", 1)]
    assert result["responses"][0]["text"] == "async"


async def test_action_returning_none_has_no_events(executor: ActionExecutor) -> None:
    result = await executor.execute(make_call("action_none"))
    assert result["events"] == []
    assert result["responses"][0]["text"] == "nothing to return"


async def test_items_that_are_not_events_are_dropped_with_one_warning(
    executor: ActionExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="action_server.executor"):
        result = await executor.execute(make_call("action_junk"))
    assert result["events"] == [SlotSet("kept", 1)]
    warnings = [r for r in caplog.records if "not events" in r.getMessage()]
    assert len(warnings) == 1
    assert "action_junk" in warnings[0].getMessage()
    assert "3 item(s)" in warnings[0].getMessage()


async def test_unknown_action_raises_not_found(executor: ActionExecutor) -> None:
    with pytest.raises(ActionNotFoundException) as error:
        await executor.execute(make_call("action_nope"))
    assert str(error.value) == "No registered action found for name 'action_nope'."


async def test_exception_in_action_becomes_action_failed_without_the_detail(
    executor: ActionExecutor,
) -> None:
    with pytest.raises(ActionFailed) as error:
        await executor.execute(make_call("action_raises"))
    assert str(error.value) == "An exception occurred while running action 'action_raises'."
    assert "secret" not in str(error.value)
    assert isinstance(error.value.cause, KeyError)
    assert error.value.__cause__ is error.value.cause
    assert error.value.sender_id == "user-1"


async def test_rejection_propagates_unchanged(executor: ActionExecutor) -> None:
    with pytest.raises(ActionExecutionRejection) as error:
        await executor.execute(make_call("action_rejects"))
    assert error.value.action_name == "action_rejects"
    assert str(error.value) == "not now"


async def test_slow_async_action_times_out() -> None:
    executor = ActionExecutor(action_timeout=0.2)
    executor.register_action(ActionSlowAsync)
    with pytest.raises(ActionTimeout) as error:
        await executor.execute(make_call("action_slow_async"))
    assert str(error.value) == "Action 'action_slow_async' timed out after 0.2 s"


async def test_slow_sync_action_times_out_with_integral_seconds_formatted_plainly() -> None:
    executor = ActionExecutor(action_timeout=0.5)
    executor.register_action(ActionSlowSync)
    with pytest.raises(ActionTimeout):
        await executor.execute(make_call("action_slow_sync"))
    assert str(ActionTimeout("action_x", 2.0)) == "Action 'action_x' timed out after 2 s"
    executor.close()


def test_action_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="action_timeout"):
        ActionExecutor(action_timeout=0)


async def test_slow_sync_action_does_not_block_a_concurrent_async_call(
    executor: ActionExecutor,
) -> None:
    slow = asyncio.create_task(executor.execute(make_call("action_slow_sync")))
    await asyncio.sleep(0.05)  # let the slow action reach its thread
    fast = await executor.execute(make_call("action_async"))
    assert fast["events"] == [SlotSet("async", 1)]
    assert not slow.done()
    assert (await slow)["events"] == [SlotSet("slept", True)]


async def test_call_without_tracker_object_is_invalid(executor: ActionExecutor) -> None:
    with pytest.raises(InvalidActionCall, match="no 'tracker' object"):
        await executor.execute(make_call("action_sync", tracker="nope"))


async def test_call_without_next_action_is_invalid(executor: ActionExecutor) -> None:
    with pytest.raises(InvalidActionCall, match="next_action"):
        await executor.execute({"tracker": {"sender_id": "x"}})


async def test_run_does_not_mutate_the_call(executor: ActionExecutor) -> None:
    call = make_call("action_sync")
    before = repr(call)
    await executor.execute(call)
    assert repr(call) == before


# --- domain digest (HTTP 449 path) ------------------------------------------------


async def test_call_without_domain_or_digest_asks_for_the_domain(
    executor: ActionExecutor,
) -> None:
    call = make_call("action_echo_domain")
    del call["domain"]
    with pytest.raises(ActionMissingDomainException) as error:
        await executor.execute(call)
    assert error.value.action_name == "action_echo_domain"


async def test_domain_is_cached_by_digest_and_reused_when_omitted(
    executor: ActionExecutor,
) -> None:
    await executor.execute(make_call("action_echo_domain", domain_digest="d1"))
    call = make_call("action_echo_domain", domain_digest="d1")
    del call["domain"]
    result = await executor.execute(call)
    assert result["responses"][0]["custom"] == {"domain": DOMAIN}


async def test_omitted_domain_with_an_unknown_digest_asks_for_the_domain(
    executor: ActionExecutor,
) -> None:
    await executor.execute(make_call("action_echo_domain", domain_digest="d1"))
    call = make_call("action_echo_domain", domain_digest="d2")
    del call["domain"]
    with pytest.raises(ActionMissingDomainException):
        await executor.execute(call)


async def test_empty_domain_without_cache_runs_with_an_empty_domain(
    executor: ActionExecutor,
) -> None:
    result = await executor.execute(make_call("action_echo_domain", domain={}))
    assert result["responses"][0]["custom"] == {"domain": {}}


async def test_domain_that_is_not_an_object_is_invalid(executor: ActionExecutor) -> None:
    with pytest.raises(InvalidActionCall, match="'domain'"):
        await executor.execute(make_call("action_echo_domain", domain=["x"]))


# --- version ------------------------------------------------------------------------


async def test_incompatible_rasa_version_warns_once_per_version(
    executor: ActionExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="action_server.executor"):
        for version in ["2.8.1", "2.8.1", "3.6.2", None, "4.0.0", "2.8.1"]:
            call = make_call("action_async", version=version)
            await executor.execute(call)
    warned = [r.getMessage() for r in caplog.records if "may not be compatible" in r.getMessage()]
    assert len(warned) == 2
    assert "2.8.1" in warned[0]
    assert "4.0.0" in warned[1]


def test_rasa_3_versions_are_compatible() -> None:
    assert is_compatible_rasa_version("3.10.7")
    assert not is_compatible_rasa_version("2.8.0")
    assert not is_compatible_rasa_version("garbage")


# --- auto-reload ------------------------------------------------------------------


ACTION_SOURCE = """
    from action_server import Action

    class {cls}(Action):
        def name(self):
            return "{name}"

        def run(self, dispatcher, tracker, domain):
            dispatcher.utter_message(text="{text}")
            return []
"""


def write(path: Path, source: str) -> None:
    """Write and move the mtime forward, so even a same-second edit is seen as new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    path.write_text(textwrap.dedent(source))
    if existed:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def package(tmp_path: Path) -> Path:
    package = tmp_path / f"reload_{uuid.uuid4().hex[:10]}"
    write(package / "__init__.py", "")
    write(package / "one.py", ACTION_SOURCE.format(cls="ActionOne", name="action_one", text="v1"))
    return package


async def test_reload_picks_up_an_edited_module(package: Path) -> None:
    executor = ActionExecutor()
    executor.register_package(str(package))
    assert executor.reload_if_changed() is False
    write(package / "one.py", ACTION_SOURCE.format(cls="ActionOne", name="action_one", text="v2"))
    assert executor.reload_if_changed() is True
    result = await executor.execute(make_call("action_one"))
    assert result["responses"][0]["text"] == "v2"


async def test_reload_picks_up_a_new_module(package: Path) -> None:
    executor = ActionExecutor()
    executor.register_package(str(package))
    write(package / "two.py", ACTION_SOURCE.format(cls="ActionTwo", name="action_two", text="new"))
    assert executor.reload_if_changed() is True
    assert names(executor) == ["action_one", "action_two"]
    assert (await executor.execute(make_call("action_two")))["responses"][0]["text"] == "new"


async def test_failed_reload_keeps_the_previous_actions_and_logs(
    package: Path, caplog: pytest.LogCaptureFixture
) -> None:
    executor = ActionExecutor()
    executor.register_package(str(package))
    write(package / "one.py", "def broken(:\n")
    with caplog.at_level(logging.ERROR, logger="action_server.executor"):
        assert executor.reload_if_changed() is False
    assert "Auto-reload" in caplog.text and "one.py, line 1" in caplog.text
    assert (await executor.execute(make_call("action_one")))["responses"][0]["text"] == "v1"
    # Fixing the file recovers on the next change.
    write(package / "one.py", ACTION_SOURCE.format(cls="ActionOne", name="action_one", text="v3"))
    assert executor.reload_if_changed() is True
    assert (await executor.execute(make_call("action_one")))["responses"][0]["text"] == "v3"


async def test_auto_reload_thread_applies_edits_without_a_restart(package: Path) -> None:
    executor = ActionExecutor(auto_reload=True, reload_interval=0.05)
    try:
        executor.register_package(str(package))
        write(
            package / "one.py", ACTION_SOURCE.format(cls="ActionOne", name="action_one", text="v2")
        )
        deadline = time.monotonic() + 10
        text = "v1"
        while text != "v2" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            text = (await executor.execute(make_call("action_one")))["responses"][0]["text"]
        assert text == "v2"
    finally:
        executor.close()
