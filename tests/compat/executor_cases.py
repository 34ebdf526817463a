"""`ActionExecutor`, `slots`, `utils`, `constants` and `knowledge_base` cases, run against
rasa-sdk and, after the import rename, against us.

Run as a script: `python executor_cases.py` prints one JSON object, case id -> outcome, as
model_cases.py does. The file imports `rasa_sdk` only; keep it standalone.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import os
import random
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker, utils
from rasa_sdk import constants as const
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor, ActionExecutorRunResult, CollectingDispatcher
from rasa_sdk.interfaces import ActionMissingDomainException, ActionNotFoundException
from rasa_sdk.knowledge_base.actions import ActionQueryKnowledgeBase
from rasa_sdk.knowledge_base.storage import InMemoryKnowledgeBase
from rasa_sdk.knowledge_base.utils import (
    get_attribute_slots,
    get_object_name,
    reset_attribute_slots,
)
from rasa_sdk.slots import SlotMapping

Outcome = dict[str, Any]
CASES: dict[str, Callable[[], Any]] = {}
LOG: list[list[str]] = []


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        LOG.append([record.levelname, record.name.split(".")[-1]])


def case(case_id: str, run: Callable[[], Any]) -> None:
    if case_id in CASES:
        raise ValueError(f"duplicate case id {case_id!r}")
    CASES[case_id] = run


def arun(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --- actions -------------------------------------------------------------------------------


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f"hi {tracker.sender_id}", domain_keys=sorted(domain or {}))
        return [SlotSet("greeted", True), {"no_event": 1}, "junk"]


class ActionSync(Action):
    def name(self) -> str:
        return "action_sync"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:  # type: ignore[override]
        dispatcher.utter_message(response="utter_sync")
        return None


class ActionBoom(Action):
    def name(self) -> str:
        return "action_boom"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        raise KeyError("the action's own error")


class ActionStream(Action):
    def name(self) -> str:
        return "action_stream"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        await dispatcher.stream_start()
        await dispatcher.stream_chunk(text="Hel")
        await dispatcher.stream_chunk(text="lo", json_message={"k": 1}, buttons=[{"t": 1}])
        await dispatcher.stream_end()
        return [SlotSet("streamed", True)]


class ActionOpenStream(Action):
    def name(self) -> str:
        return "action_open_stream"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        await dispatcher.stream_chunk(text="left open")
        return []


DOMAIN = {"slots": {"greeted": {"type": "bool"}}, "responses": {}}


def executor() -> ActionExecutor:
    built = ActionExecutor()
    for cls in (ActionGreet, ActionSync, ActionBoom, ActionStream, ActionOpenStream):
        built.register_action(cls)
    return built


def call(name: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "next_action": name,
        "sender_id": "ann",
        "tracker": {"sender_id": "ann", "slots": {}, "events": [], "latest_message": {}},
        "domain": DOMAIN,
        "domain_digest": "digest-1",
        "version": "3.10.0",
    }
    body.update(extra)
    return body


def dumped(result: Any) -> Any:
    if isinstance(result, ActionExecutorRunResult):
        return ["ActionExecutorRunResult", result.model_dump(), result.model_dump(by_alias=True)]
    return result


def run_case(the_call: dict[str, Any], **kwargs: Any) -> Callable[[], Any]:
    return lambda: dumped(arun(executor().run(the_call, **kwargs)))


case("run/async_action", run_case(call("action_greet")))
case("run/sync_action", run_case(call("action_sync")))
case("run/no_next_action", run_case(call(None)))
case("run/empty_next_action", run_case(call("")))
case("run/unknown_action", run_case(call("action_nope")))
case("run/action_exception_surfaces", run_case(call("action_boom")))
case("run/no_domain_unknown_digest", run_case(call("action_greet", domain=None)))
case("run/stream_unary", run_case(call("action_stream")))
case("run/stream_left_open", run_case(call("action_open_stream")))


def with_dispatcher() -> Any:
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text="before")
    result = arun(executor().run(call("action_greet"), dispatcher=dispatcher))
    return [dumped(result), dispatcher.messages]


case("run/given_dispatcher", with_dispatcher)


def drained(queue: asyncio.Queue[Any]) -> list[Any]:
    items = []
    while not queue.empty():
        item = queue.get_nowait()
        if "result" in item:
            item = {**item, "result": dumped(item["result"])}
        if "exception" in item:
            exc = item["exception"]
            item = {**item, "exception": [type(exc).__name__, str(exc)]}
        items.append(item)
    return items


def streamed(name: str, method: str = "run") -> Callable[[], Any]:
    async def go() -> Any:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        runner = getattr(executor(), method)
        try:
            result = dumped(await runner(call(name), sink=queue))
        except Exception as exc:
            result = ["raised", type(exc).__name__, str(exc)]
        return [result, drained(queue)]

    return lambda: arun(go())


case("sink/stream", streamed("action_stream"))
case("sink/run_streaming", streamed("action_stream", "run_streaming"))
case("sink/not_streaming", streamed("action_greet"))
case("sink/left_open", streamed("action_open_stream"))
case("sink/error", streamed("action_boom"))
case("sink/unknown", streamed("action_nope"))
case("sink/no_action", streamed(None))  # type: ignore[arg-type]


# --- the registry --------------------------------------------------------------------------


def registry() -> Any:
    built = executor()
    return {
        "names": [entry.model_dump() for entry in built.list_actions()],
        "types": sorted({type(entry).__name__ for entry in built.list_actions()}),
        "coroutine": {n: inspect.iscoroutinefunction(f) for n, f in built.actions.items()},
        "direct_call": direct_call(built),
    }


def direct_call(built: ActionExecutor) -> Any:
    dispatcher = CollectingDispatcher()
    tracker = Tracker.from_dict(call("x")["tracker"])
    events = arun(built.actions["action_greet"](dispatcher, tracker, DOMAIN))
    sync_events = built.actions["action_sync"](dispatcher, tracker, DOMAIN)
    return [events, sync_events, dispatcher.messages]


case("registry/actions_and_list", registry)


def register_function(f: Callable[..., Any], name: str = "action_fn") -> Callable[[], Any]:
    def go() -> Any:
        built = ActionExecutor()
        built.register_function(name, f)
        built.register_function(name, f)  # registering again replaces
        return [
            [entry.name for entry in built.list_actions()],
            built.actions[name] is f,
            dumped(arun(built.run(call(name)))),
        ]

    return go


def sync_fn(dispatcher: Any, tracker: Any, domain: Any) -> Any:
    dispatcher.utter_message(text="sync fn")
    return [SlotSet("fn", "sync")]


async def async_fn(dispatcher: Any, tracker: Any, domain: Any) -> Any:
    dispatcher.utter_message(text="async fn")
    return [SlotSet("fn", "async")]


def two_args(dispatcher: Any, tracker: Any) -> Any:
    return []


case("register_function/sync", register_function(sync_fn))
case("register_function/async", register_function(async_fn))
case("register_function/too_few_parameters", register_function(two_args))


def function_overrides_class() -> Any:
    built = executor()
    built.register_function("action_greet", sync_fn)
    return [[e.name for e in built.list_actions()], dumped(arun(built.run(call("action_greet"))))]


case("register_function/replaces_class_action", function_overrides_class)


def register_module_object() -> Any:
    module = importlib.import_module("exec_case_pkg")
    built = ActionExecutor()
    built.register_package(module)
    names = [entry.name for entry in built.list_actions()]
    return [n for n in names if n.startswith("action_pkg")]


case("register_package/module_object", register_module_object)


def reload_picks_up_changes() -> Any:
    built = ActionExecutor()
    built.register_package("exec_case_pkg")
    path = PKG_DIR / "exec_case_pkg" / "extra.py"
    path.write_text(ACTION_SOURCE.format(cls="ActionPkgNew", name="action_pkg_new"))
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))
    built.reload()
    names = [entry.name for entry in built.list_actions()]
    return sorted(n for n in names if n.startswith("action_pkg"))


case("reload/new_module", reload_picks_up_changes)


# --- events and domain ---------------------------------------------------------------------


class _RasaCoreEvent:
    def as_dict(self) -> dict[str, Any]:
        return {"event": "slot", "name": "core", "value": 1}


_RasaCoreEvent.__module__ = "rasa.core.events"

case(
    "validate_events/mixed",
    lambda: ActionExecutor.validate_events(
        [SlotSet("a", 1), {"event": ""}, {"x": 1}, "text", 3, None, {"event": "restart"}],
        "action_x",
    ),
)
case("validate_events/empty", lambda: ActionExecutor.validate_events([], "action_x"))
case(
    "validate_events/rasa_core_event",
    lambda: ActionExecutor.validate_events([_RasaCoreEvent()], "action_x"),
)


def domain_protocol() -> Any:
    built = ActionExecutor()
    steps: list[Any] = [[built.domain, built.domain_digest, built.is_domain_digest_valid(None)]]
    for payload in (
        {"domain": None, "domain_digest": "d1"},
        {"domain": {"slots": {}}, "domain_digest": "d1"},
        {"domain_digest": "d1"},
        {"domain": {}, "domain_digest": "d2"},
        {"domain": None, "domain_digest": "d2"},
        {"domain": {"responses": {}}, "domain_digest": None},
        {"domain": None},
    ):
        try:
            steps.append(["ok", built.update_and_return_domain(payload, "action_x")])
        except ActionMissingDomainException as exc:
            steps.append(["449", type(exc).__name__, str(exc)])
        steps.append([built.domain, built.domain_digest])
    steps.append([built.is_domain_digest_valid(d) for d in (None, "", "d1", "d2")])
    return steps


case("domain/digest_protocol", domain_protocol)


def exception_shapes() -> Any:
    return [
        [type(e).__name__, str(e), e.action_name]
        for e in (ActionNotFoundException("a"), ActionMissingDomainException("b"))
    ]


case("exceptions/executor", exception_shapes)


# --- slots ---------------------------------------------------------------------------------

case("slots/str", lambda: [str(m) for m in SlotMapping])
case("slots/to_list", lambda: [SlotMapping.to_list(x) for x in (None, "a", ["a"], 0, {"k": 1})])
case("slots/from_entity/minimal", lambda: SlotMapping.from_entity("city"))
case(
    "slots/from_entity/all",
    lambda: SlotMapping.from_entity("city", "inform", ["deny", "stop"], "to", "g1"),
)
case("slots/from_intent", lambda: SlotMapping.from_intent(True, "affirm", "deny"))
case("slots/from_intent/lists", lambda: SlotMapping.from_intent(3, ["a", "b"]))
case("slots/from_trigger_intent", lambda: SlotMapping.from_trigger_intent("v", not_intent="x"))
case("slots/from_text", lambda: SlotMapping.from_text())
case("slots/from_text/intent", lambda: SlotMapping.from_text(intent="inform"))


def slot_tracker(intent: str, entities: list[dict[str, Any]], loop: str | None) -> Tracker:
    return Tracker(
        "ann",
        {},
        {"intent": {"name": intent}, "entities": entities, "text": "x"},
        [],
        False,
        None,
        {"name": loop} if loop else {},
        "action_listen",
    )


SLOT_DOMAIN = {"forms": {"booking_form": {"ignored_intents": "chitchat"}}}
ENTITIES = [{"entity": "city", "value": "Paris", "role": "to"}, {"entity": "n", "value": 2}]
for _mapping_id, _mapping in {
    "any": {},
    "wanted": {"intent": "inform"},
    "wanted_list": {"intent": ["greet", "inform"]},
    "excluded": {"not_intent": "inform"},
    "ignored_in_form": {"conditions": [{"active_loop": "booking_form"}]},
    "other_form": {"conditions": [{"active_loop": "other"}]},
}.items():
    for _intent in ("inform", "chitchat"):
        for _loop in (None, "booking_form"):
            case(
                f"slots/intent_is_desired/{_mapping_id}/{_intent}/{_loop}",
                lambda m=_mapping, i=_intent, lp=_loop: SlotMapping.intent_is_desired(
                    m, slot_tracker(i, [], lp), SLOT_DOMAIN
                ),
            )
for _mapping_id, _mapping in {
    "city_to": SlotMapping.from_entity("city", role="to"),
    "city_no_role": SlotMapping.from_entity("city"),
    "n": SlotMapping.from_entity("n"),
    "missing": SlotMapping.from_entity("date"),
}.items():
    case(
        f"slots/entity_is_desired/{_mapping_id}",
        lambda m=_mapping: SlotMapping.entity_is_desired(m, slot_tracker("inform", ENTITIES, None)),
    )


# --- utils and constants -------------------------------------------------------------------

case(
    "constants/values",
    lambda: [
        const.DEFAULT_SERVER_PORT,
        const.DEFAULT_SANIC_WORKERS,
        const.DEFAULT_KEEP_ALIVE_TIMEOUT,
        const.DEFAULT_STREAM_BARGE_IN_TIMEOUT_SECONDS,
        const.ENV_SANIC_WORKERS,
        const.ACTION_SERVER_STREAM_BARGE_IN_TIMEOUT_SECONDS_ENV_VAR,
        const.DEFAULT_LOG_LEVEL_LIBRARIES,
        const.ENV_LOG_LEVEL_LIBRARIES,
        const.DEFAULT_ENCODING,
        list(const.YAML_VERSION),
        const.PYTHON_LOGGING_SCHEMA_DOCS,
        const.DEFAULT_ENDPOINTS_PATH,
        const.NO_GRACE_PERIOD,
    ],
)
case(
    "utils/element",
    lambda: [utils.Element(title="t", subtitle="s", junk=1), utils.Element({"a": 1}, buttons=[])],
)
case(
    "utils/button",
    lambda: [utils.Button(title="b", payload="/x"), isinstance(utils.Button(), dict)],
)
case("utils/arguments_of", lambda: list(utils.arguments_of(lambda a, b=1, *c, **d: None)))
case(
    "utils/call_potential_coroutine",
    lambda: [arun(utils.call_potential_coroutine(v)) for v in (1, None, asyncio.sleep(0, "x"))],
)
case("utils/all_subclasses", lambda: [c.__name__ for c in utils.all_subclasses(OSError)][:6])


def singleton() -> Any:
    class One(metaclass=utils.Singleton):
        pass

    first, second = One(), One()
    utils.Singleton.clear()
    return [first is second, One() is first]


case("utils/singleton", singleton)


def sanic_workers(value: str | None) -> Callable[[], Any]:
    def go() -> Any:
        if value is None:
            os.environ.pop(const.ENV_SANIC_WORKERS, None)
        else:
            os.environ[const.ENV_SANIC_WORKERS] = value
        try:
            return utils.number_of_sanic_workers()
        finally:
            os.environ.pop(const.ENV_SANIC_WORKERS, None)

    return go


for _value in (None, "1", "4", "0", "-2", "many"):
    case(f"utils/number_of_sanic_workers/{_value}", sanic_workers(_value))


def yaml_file(text: str, name: str = "file.yml") -> Callable[[], Any]:
    def go() -> Any:
        path = PKG_DIR / name
        path.write_text(text, encoding="utf-8")
        return utils.read_yaml_file(path)

    return go


case("utils/read_yaml", lambda: utils.read_yaml("a: 1\nb: [x, 'y']\nc: {d: null}\ne: 1.5\n"))
case("utils/read_yaml_empty", lambda: utils.read_yaml(""))
case("utils/read_yaml_file", yaml_file("slots:\n  city: {type: text}\nemoji: 'ok ✓'\n"))
case(
    "utils/read_file_missing_type",
    lambda: type_only(lambda: utils.read_file(PKG_DIR / "nope.txt")),
)
case("utils/file_as_bytes", lambda: list(bytes_of()))


def type_only(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except Exception as exc:
        return [type(exc).__name__, isinstance(exc, FileNotFoundError)]


def bytes_of() -> bytes:
    path = PKG_DIR / "raw.bin"
    path.write_bytes(b"\x00\x01abc")
    return utils.file_as_bytes(str(path))


# --- knowledge base ------------------------------------------------------------------------

KB_DATA = {
    "restaurant": [
        {"id": 0, "name": "Donath", "cuisine": "Italian", "price-range": "mid", "wifi": True},
        {"id": 1, "name": "Berlin Burrito", "cuisine": "Mexican", "price-range": "low"},
        {"id": 2, "name": "I due forni", "cuisine": "Italian", "price-range": "mid"},
    ],
    "hotel": [{"id": 0, "name": "Hilton", "city": "Berlin", "breakfast-included": True}],
}


def kb() -> InMemoryKnowledgeBase:
    path = PKG_DIR / "kb.json"
    path.write_text(json.dumps(KB_DATA))
    return InMemoryKnowledgeBase(str(path))


def kb_queries() -> Any:
    base = kb()
    base.set_representation_function_of_object("hotel", lambda o: o["name"] + " hotel")
    return {
        "types": base.get_object_types(),
        "attributes": arun(base.get_attributes_of_object("restaurant")),
        "attributes_unknown": arun(base.get_attributes_of_object("zoo")),
        "key_attribute": arun(base.get_key_attribute_of_object("restaurant")),
        "representation": arun(base.get_representation_function_of_object("restaurant"))(
            KB_DATA["restaurant"][0]
        ),
        "representation_custom": arun(base.get_representation_function_of_object("hotel"))(
            KB_DATA["hotel"][0]
        ),
        "objects_italian": arun(
            base.get_objects("restaurant", [{"name": "cuisine", "value": "Italian"}], 5)
        ),
        "objects_limit": arun(base.get_objects("restaurant", [], 1)),
        "objects_none": arun(base.get_objects("zoo", [], 5)),
        "object_by_id": arun(base.get_object("restaurant", 1)),
        "object_by_name": arun(base.get_object("restaurant", "Donath")),
        "object_by_str_id": arun(base.get_object("restaurant", "2")),
        "object_missing": arun(base.get_object("restaurant", 99)),
        "object_none": arun(base.get_object("restaurant", None)),
        "object_unknown_type": arun(base.get_object("zoo", 0)),
        "ordinal_mapping": sorted(base.ordinal_mention_mapping),
        "ordinal_last": base.ordinal_mention_mapping["LAST"](["a", "b", "c"]),
    }


case("knowledge_base/in_memory", kb_queries)


def kb_tracker(slots: dict[str, Any], mention: str | None = None) -> Tracker:
    return Tracker("ann", {**slots, "mention": mention}, {}, [], False, None, {}, "action_listen")


KB_DOMAIN_SLOTS = {"cuisine": None, "price-range": None, "knowledge_base_objects": None}
case(
    "knowledge_base/utils/get_attribute_slots",
    lambda: get_attribute_slots(
        kb_tracker({"cuisine": "Italian", "price-range": None, "wifi": True}),
        ["cuisine", "price-range", "wifi", "name"],
    ),
)
case(
    "knowledge_base/utils/reset_attribute_slots",
    lambda: reset_attribute_slots(
        kb_tracker({"cuisine": "Italian", "price-range": "mid"}), ["cuisine", "price-range", "x"]
    ),
)


def object_name(
    mention: str | None, objects: list[Any] | None, last: Any = None
) -> Callable[[], Any]:
    def go() -> Any:
        tracker = kb_tracker(
            {"knowledge_base_objects": objects, "knowledge_base_last_object": last},
            mention,
        )
        return get_object_name(tracker, kb().ordinal_mention_mapping, use_last_object_mention=True)

    return go


case("knowledge_base/utils/get_object_name/ordinal", object_name("2", ["a", "b", "c"]))
case("knowledge_base/utils/get_object_name/last", object_name("LAST", ["a", "b", "c"]))
case("knowledge_base/utils/get_object_name/it", object_name("it", None, "Donath"))
case("knowledge_base/utils/get_object_name/name", object_name("Donath", None))
case("knowledge_base/utils/get_object_name/none", object_name(None, None))


class ActionKb(ActionQueryKnowledgeBase):
    def __init__(self) -> None:
        super().__init__(kb())


def kb_action(slots: dict[str, Any], entities: list[dict[str, Any]]) -> Callable[[], Any]:
    def go() -> Any:
        built = ActionExecutor()
        built.register_action(ActionKb())
        tracker = {
            "sender_id": "ann",
            "slots": {
                "object_type": None,
                "attribute": None,
                "mention": None,
                "cuisine": None,
                "knowledge_base_listed_objects": None,
                "knowledge_base_last_object": None,
                "knowledge_base_last_object_type": None,
                **slots,
            },
            "latest_message": {"intent": {"name": "query"}, "entities": entities, "text": "q"},
            "events": [],
        }
        the_call = {"next_action": "action_query_knowledge_base", "tracker": tracker, "domain": {}}
        return dumped(arun(built.run(the_call)))

    return go


case("knowledge_base/action/list", kb_action({"object_type": "restaurant"}, []))
case(
    "knowledge_base/action/list_filtered",
    kb_action({"object_type": "restaurant", "cuisine": "Italian"}, []),
)
case(
    "knowledge_base/action/list_none",
    kb_action({"object_type": "restaurant", "cuisine": "Thai"}, []),
)
case(
    "knowledge_base/action/type_from_entity",
    kb_action({}, [{"entity": "hotel", "value": "Hilton"}]),
)
case(
    "knowledge_base/action/attribute_by_ordinal",
    kb_action(
        {
            "object_type": "restaurant",
            "attribute": "cuisine",
            "mention": "1",
            "knowledge_base_listed_objects": [1, 0],
        },
        [{"entity": "attribute", "value": "cuisine"}],
    ),
)
case(
    "knowledge_base/action/attribute_of_last",
    kb_action(
        {
            "attribute": "wifi",
            "mention": "it",
            "knowledge_base_last_object": 0,
            "knowledge_base_last_object_type": "restaurant",
        },
        [{"entity": "attribute", "value": "wifi"}],
    ),
)
case(
    "knowledge_base/action/unknown_attribute",
    kb_action(
        {
            "object_type": "restaurant",
            "attribute": "stars",
            "mention": "LAST",
            "knowledge_base_listed_objects": [0, 1],
        },
        [{"entity": "attribute", "value": "stars"}],
    ),
)
case("knowledge_base/action/rephrase", kb_action({}, [{"entity": "attribute", "value": "x"}]))


# --- running -------------------------------------------------------------------------------

ACTION_SOURCE = textwrap.dedent(
    """
    from rasa_sdk import Action


    class {cls}(Action):
        def name(self):
            return "{name}"

        async def run(self, dispatcher, tracker, domain):
            return []
    """
)
PKG_DIR = Path(tempfile.mkdtemp(prefix="exec-cases-"))


def write_package() -> None:
    package = PKG_DIR / "exec_case_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text(
        ACTION_SOURCE.format(cls="ActionPkgOne", name="action_pkg_one")
    )
    sys.path.insert(0, str(PKG_DIR))


def outcome(run: Callable[[], Any]) -> Outcome:
    LOG.clear()
    random.seed(7)  # the knowledge base shuffles its answers
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Outcome = {"result": json.loads(json.dumps(run(), default=repr))}
        except Exception as exc:  # the exception type and text are part of the contract
            result = {"error": [type(exc).__name__, str(exc)]}
    result["warnings"] = [w.category.__name__ for w in caught]
    result["log"] = sorted({level for level, _ in LOG if level in ("WARNING", "ERROR")})
    return result


def main() -> None:
    write_package()
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    results = {case_id: outcome(run) for case_id, run in CASES.items()}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
