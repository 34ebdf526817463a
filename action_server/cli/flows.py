"""``action-server flows validate|chat|test|graph`` and ``action-server run --flows``.

Plugged into the main command line through ``action_server.cli.COMMAND_MODULES``:
``register`` adds the ``flows`` group, ``extend_run``/``configure_run`` add ``--flows`` and
``--domain`` to ``run``, and ``app_hook`` builds the flow engine and the REST channel in every
server worker. Flows are served only when ``--flows`` is given: a ``flows/`` directory that
happens to exist never changes what ``run`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from action_server.dialogue.bootstrap import (
    ActionSetup,
    ProjectCheck,
    action_setup,
    check_project,
    project_paths,
)
from action_server.flows.issues import Issue
from action_server.understanding.llm_helpers import ENDPOINTS_ENV

if TYPE_CHECKING:
    from action_server.config.endpoints import EndpointsConfig
    from action_server.dialogue.engine import FlowEngine
    from action_server.flows.model import FlowProject
    from action_server.server.settings import AppExtension, ServerSettings
    from action_server.understanding.pipeline import Understanding

__all__ = ["app_hook", "configure_run", "extend_run", "register"]

logger = logging.getLogger(__name__)

APP_HOOK = "action_server.cli.flows:app_hook"
DEFAULT_TEST_PATHS = ("flows/tests",)
EXIT_COMMANDS = frozenset({"/exit", "/quit"})


class CommandError(Exception):
    """Stops a command with a message on stderr and exit code 1."""


# --- argument parsing ------------------------------------------------------------------------


def _add_project_arguments(parser: argparse.ArgumentParser, *, flows_default: bool) -> None:
    parser.add_argument(
        "--flows",
        nargs="+",
        default=None,
        metavar="PATH",
        help="flow files or directories"
        + (" (default: flows/)" if flows_default else " (serve flows and the REST channel)"),
    )
    parser.add_argument(
        "--domain",
        nargs="+",
        default=None,
        metavar="PATH",
        help="domain files or directories (default: the domain files among the flow paths, "
        "else domain.yml or domain/)",
    )


def _add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=None,
        metavar="PATH",
        help="Rasa config.yml: how users are understood (NLU adapter, LLM command generator; "
        "default: config.yml in the working directory or beside the flows, when present)",
    )


def _add_endpoints_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoints",
        default="endpoints.yml",
        help="endpoints configuration: where actions run and conversations live "
        "(default endpoints.yml)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``flows`` command group."""
    flows = subparsers.add_parser(
        "flows",
        help="validate, chat with, test and draw YAML flows",
        description="Work with YAML flows without starting the server.",
    )
    commands = flows.add_subparsers(dest="flows_command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="check flows and domain; list every problem with file:line:col",
        description="Check flows and domain files. Positional paths are classified by their "
        "top-level keys (flows, slots/responses/...), like --flows and --domain.",
    )
    validate.add_argument("paths", nargs="*", metavar="PATH", help="flow or domain files/dirs")
    chat = commands.add_parser("chat", help="talk to the flows in the terminal")
    chat.add_argument("--debug", action="store_true", help="show slots and the stack each turn")
    chat.add_argument("--sender", default=None, help="conversation id (default: a new one)")
    test = commands.add_parser("test", help="run Rasa end-to-end test cases")
    test.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"test files or directories (default: {', '.join(DEFAULT_TEST_PATHS)}, "
        "else e2e_tests/)",
    )
    test.add_argument(
        "-k",
        dest="select",
        default=None,
        metavar="PATTERN",
        help="run only the test cases whose name contains PATTERN",
    )
    test.add_argument(
        "--e2e-results",
        default=None,
        metavar="DIR",
        help="write passed and failed cases to DIR/e2e_results_{passed,failed}.yml",
    )
    graph = commands.add_parser("graph", help="print a flow as a Mermaid flowchart")
    graph.add_argument("flow", metavar="FLOW", help="id of the flow to draw")

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "validate": _validate_command,
        "chat": _chat_command,
        "test": _test_command,
        "graph": _graph_command,
    }
    for name, parser in (("validate", validate), ("chat", chat), ("test", test), ("graph", graph)):
        _add_project_arguments(parser, flows_default=True)
        _add_config_argument(parser)
        _add_endpoints_argument(parser)
        parser.set_defaults(handler=_guarded(handlers[name]))


def extend_run(parser: argparse.ArgumentParser) -> None:
    """``run --flows PATH... [--domain PATH...] [--config PATH]`` (``--endpoints`` is there)."""
    _add_project_arguments(parser, flows_default=False)
    _add_config_argument(parser)


def configure_run(args: argparse.Namespace, settings: ServerSettings) -> None:
    """Ask every worker to build the flow engine; nothing happens without ``--flows``.

    The LLM helpers of actions read the model groups of ``--endpoints`` in every worker.
    """
    if settings.endpoints:
        os.environ.setdefault(ENDPOINTS_ENV, settings.endpoints)
    if args.flows is None:
        if args.domain is not None:
            raise ValueError("--domain needs --flows (the domain only matters to flows)")
        if args.config is not None:
            raise ValueError("--config needs --flows (it says how the flows understand users)")
        return
    settings.app_hooks = (*settings.app_hooks, APP_HOOK)
    settings.extra["flows"] = list(args.flows)
    settings.extra["domain"] = list(args.domain) if args.domain else None
    settings.extra["config"] = args.config


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        _quiet_logging()
        try:
            return handler(args)
        except CommandError as exc:
            print(f"action-server: error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130

    return run


def _quiet_logging() -> None:
    from action_server.server.logs import configure_logging

    configure_logging("WARNING")


# --- shared set-up ---------------------------------------------------------------------------


def _load_endpoints(path: str) -> EndpointsConfig:
    from action_server.config.endpoints import ConfigError, load_endpoints

    try:
        return load_endpoints(path)
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc


def _actions(config: EndpointsConfig, endpoints_file: str) -> ActionSetup:
    from action_server.exceptions import ActionLoadError

    try:
        setup = action_setup(config.action_endpoint, endpoints_file)
    except ActionLoadError as exc:
        module = config.action_endpoint.actions_module if config.action_endpoint else None
        raise CommandError(
            f"{endpoints_file}: action_endpoint.actions_module '{module}' cannot be loaded: {exc}"
        ) from exc
    for warning in setup.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return setup


def _paths(args: argparse.Namespace, positional: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Flow and domain paths; a Rasa project directory is read in Rasa's layout."""
    return project_paths([*positional, *(args.flows or [])], args.domain)


def _step_action_types() -> set[str]:
    from action_server.dialogue.step_actions import DEFAULT_REGISTRY

    return DEFAULT_REGISTRY.known_types()


def _print_issues(issues: Sequence[Issue]) -> None:
    for issue in issues:
        print(issue)
    count = len(issues)
    print(f"{count} problem{'s' if count != 1 else ''} found")


def _checked_project(
    args: argparse.Namespace, registered: frozenset[str] | None, positional: Sequence[str] = ()
) -> ProjectCheck:
    flows, domain = _paths(args, positional)
    return check_project(flows, domain, registered, _step_action_types())


def _understanding(
    config_option: str | None,
    endpoints: EndpointsConfig,
    endpoints_file: str,
    project: FlowProject,
    flows: Sequence[str],
    domain: Sequence[str],
) -> Understanding:
    """The command source from config.yml and endpoints.yml; ConfigError says what is wrong."""
    from action_server.config.pipeline import find_config_file, load_pipeline_config
    from action_server.understanding import configure_llm_helpers
    from action_server.understanding.pipeline import build_understanding

    config_file = find_config_file(config_option, list(flows))
    pipeline = load_pipeline_config(config_file)
    nlu_paths = [*flows, *domain]
    base = Path(config_file).parent if config_file else Path(".")
    if (base / "data").is_dir():
        nlu_paths.append(str(base / "data"))
    understanding = build_understanding(pipeline, endpoints, project, nlu_paths, endpoints_file)
    configure_llm_helpers(endpoints, understanding.llm_group)
    return understanding


def _cli_understanding(
    args: argparse.Namespace, config: EndpointsConfig, project: FlowProject
) -> Understanding:
    from action_server.config.endpoints import ConfigError

    flows, domain = _paths(args)
    try:
        understanding = _understanding(args.config, config, args.endpoints, project, flows, domain)
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc
    for warning in understanding.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in understanding.notes:
        print(f"note: {note}", file=sys.stderr)
    return understanding


@dataclass
class _Engine:
    engine: FlowEngine
    setup: ActionSetup


def _build_engine(args: argparse.Namespace, *, memory: bool) -> _Engine:
    from action_server.dialogue.engine import FlowEngine
    from action_server.stores import InMemoryConversationStore, create_store
    from action_server.stores.store import ConversationStoreError

    config = _load_endpoints(args.endpoints)
    setup = _actions(config, args.endpoints)
    check = _checked_project(args, setup.registered)
    if check.project is None:
        _print_issues(check.issues)
        raise CommandError("the flows have problems; fix them and try again")
    try:
        store = (
            InMemoryConversationStore()
            if memory or config.tracker_store is None
            else create_store(config.tracker_store)
        )
    except ConversationStoreError as exc:
        raise CommandError(f"{args.endpoints}: tracker_store: {exc}") from exc
    understanding = _cli_understanding(args, config, check.project)
    engine = FlowEngine(
        check.project,
        setup.client,
        store,
        understanding.source,
        registered_actions=setup.registered or (),
    )
    return _Engine(engine, setup)


# --- validate --------------------------------------------------------------------------------


def _validate_command(args: argparse.Namespace) -> int:
    from action_server.exceptions import ActionLoadError
    from action_server.flows.validation import summary_line

    config = _load_endpoints(args.endpoints)
    load_problem: str | None = None
    try:
        registered: frozenset[str] | None = _actions(config, args.endpoints).registered
    except CommandError as exc:
        if not isinstance(exc.__cause__, ActionLoadError):
            raise
        load_problem, registered = str(exc), None
    check = _checked_project(args, registered, args.paths)
    for note in check.notes:
        print(f"note: {note}", file=sys.stderr)
    if load_problem:
        print(f"error: {load_problem}", file=sys.stderr)
        print("(the check for unknown custom actions was skipped)", file=sys.stderr)
    if check.project is None:
        _print_issues(check.issues)
        return 1
    if load_problem:
        return 1
    understanding = _cli_understanding(args, config, check.project)
    print(summary_line(check.project, len(check.skipped)))
    print(f"note: understanding users with {understanding.description}", file=sys.stderr)
    return 0


# --- graph -----------------------------------------------------------------------------------


def _graph_command(args: argparse.Namespace) -> int:
    from action_server.flows.graph import flow_to_mermaid
    from action_server.flows.loader import load_project

    flows, domain = _paths(args)
    result = load_project(flows, domain)
    if result.issues:
        _print_issues(result.issues)
        return 1
    flow = result.project.flows.get(args.flow)
    if flow is None:
        known = ", ".join(sorted(result.project.flows)) or "none"
        raise CommandError(f"no flow named '{args.flow}' (flows: {known})")
    sys.stdout.write(flow_to_mermaid(flow))
    return 0


# --- test ------------------------------------------------------------------------------------


def _test_command(args: argparse.Namespace) -> int:
    from action_server.testing.cases import load_test_suites
    from action_server.testing.report import format_report, write_results
    from action_server.testing.runner import E2ERunner, stubbed_action_names

    paths = args.paths or _default_test_paths()
    suites, issues, _ = load_test_suites(paths)
    if issues:
        _print_issues(issues)
        return 1
    for suite in suites:
        for note in suite.notes:
            print(f"note: {note}", file=sys.stderr)
    selected = sum(
        1 for s in suites for c in s.cases if args.select is None or args.select in c.name
    )
    if not selected and not any(suite.issues for suite in suites):
        where = ", ".join(paths) + (f" matching -k {args.select!r}" if args.select else "")
        raise CommandError(f"no test cases found in {where}")
    config = _load_endpoints(args.endpoints)
    setup = _actions(config, args.endpoints)
    stubbed = stubbed_action_names(suites)
    registered = None if setup.registered is None else setup.registered | stubbed
    check = _checked_project(args, registered)
    if check.project is None:
        _print_issues(check.issues)
        return 1
    understanding = _cli_understanding(args, config, check.project)
    runner = E2ERunner(
        check.project, setup.client.transport, registered or (), understanding.source
    )

    async def run_all() -> list[Any]:
        results = []
        try:
            for suite in suites:
                results.extend(await runner.run_suite(suite, args.select))
        finally:
            await setup.client.close()
            await understanding.source.close()
        return results

    results = asyncio.run(run_all())
    lines, summary = format_report(results)
    for line in lines:
        print(line)
    print(summary)
    if args.e2e_results:
        for path in write_results(args.e2e_results, results):
            print(f"wrote {path}", file=sys.stderr)
    return 0 if results and all(result.passed for result in results) else 1


def _default_test_paths() -> list[str]:
    """``flows/tests`` here, or ``e2e_tests`` in a Rasa project."""
    found = [p for p in (*DEFAULT_TEST_PATHS, "e2e_tests", "tests/e2e_tests") if Path(p).exists()]
    return found[:1] or list(DEFAULT_TEST_PATHS)


# --- chat ------------------------------------------------------------------------------------


def _chat_command(args: argparse.Namespace) -> int:
    built = _build_engine(args, memory=False)
    sender = args.sender or uuid.uuid4().hex
    asyncio.run(_chat(built.engine, sender, debug=args.debug))
    return 0


def _show_message(message: dict[str, Any], debug: bool) -> list[str]:
    """Lines for one bot message; buttons are numbered so the user can type the number."""
    lines = []
    if message.get("text"):
        lines.append(f"bot> {message['text']}")
    buttons = message.get("buttons") or message.get("quick_replies") or []
    for number, button in enumerate(buttons, start=1):
        title = button.get("title", "") if isinstance(button, dict) else str(button)
        payload = button.get("payload", "") if isinstance(button, dict) else ""
        lines.append(f"  {number}: {title}" + (f"  ({payload})" if debug else ""))
    if message.get("image"):
        lines.append(f"bot> [image] {message['image']}")
    if message.get("attachment"):
        lines.append(f"bot> [attachment] {json.dumps(message['attachment'])}")
    if message.get("custom"):
        lines.append(f"bot> [custom] {json.dumps(message['custom'], ensure_ascii=False)}")
    return lines


def _debug_lines(tracker: dict[str, Any]) -> list[str]:
    slots = ", ".join(
        f"{name}={value!r}" for name, value in tracker.get("slots", {}).items() if value is not None
    )
    frames = [
        f"{f.get('flow_id')}@{f.get('step_id')} ({f.get('state')})"
        for f in tracker.get("stack", [])
    ]
    commands = (tracker.get("latest_message") or {}).get("commands") or []
    shown = "; ".join(json.dumps(command, ensure_ascii=False) for command in commands)
    return [
        f"  commands: {shown or '(none)'}",
        f"  slots: {slots or '(none set)'}",
        f"  stack: {' > '.join(frames) or '(empty)'}",
    ]


async def _chat(engine: FlowEngine, sender: str, *, debug: bool) -> None:
    interactive = sys.stdin.isatty()
    if interactive:
        print("Type a message (or a button number). /exit or Ctrl-D to quit.")
    buttons: list[str] = []
    try:
        while True:
            if interactive:
                print("you> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if text in EXIT_COMMANDS:
                break
            if text.isdigit() and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]
                if debug:
                    print(f"  (sending {text})")
            try:
                turn = await engine.handle(sender, text, {"input_channel": "cmdline"})
            except Exception as exc:  # one failed turn must not end the session
                logger.debug("turn failed", exc_info=True)
                print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            buttons = []
            for message in turn.messages:
                for out in _show_message(message, debug):
                    print(out)
                buttons.extend(
                    str(b.get("payload", ""))
                    for b in (message.get("buttons") or message.get("quick_replies") or [])
                    if isinstance(b, dict)
                )
            if debug:
                for out in _debug_lines(await engine.tracker(sender)):
                    print(out)
            sys.stdout.flush()
    finally:
        await engine.close()
        close_source = getattr(engine.command_source, "close", None)
        if close_source is not None:  # the LLM client's connections
            await close_source()


# --- run --flows -----------------------------------------------------------------------------


def app_hook(settings: ServerSettings, executor: Any) -> AppExtension:
    """Build the flow engine and the REST channel in one server worker.

    Problems become ``ValueError`` so ``action-server run`` prints them and exits 1.
    """
    from action_server.channels.rest import rest_blueprint
    from action_server.config.endpoints import load_endpoints
    from action_server.dialogue.engine import FlowEngine
    from action_server.server.settings import AppExtension
    from action_server.stores import create_store
    from action_server.stores.store import ConversationStoreError

    flows, domain = project_paths(
        list(settings.extra.get("flows") or []), settings.extra.get("domain")
    )
    endpoints_file = settings.endpoints or "endpoints.yml"
    config = load_endpoints(settings.endpoints)
    setup = action_setup(
        config.action_endpoint, endpoints_file, executor=executor, executor_package=settings.actions
    )
    for warning in setup.warnings:
        logger.warning(warning)
    check = check_project(flows, domain, setup.registered, _step_action_types())
    if check.project is None:
        count = len(check.issues)
        listed = "\n".join(str(issue) for issue in check.issues)
        raise ValueError(f"{count} problem{'s' if count != 1 else ''} in the flows:\n{listed}")
    try:
        store = create_store(config.tracker_store)
    except ConversationStoreError as exc:
        raise ValueError(f"{endpoints_file}: tracker_store: {exc}") from exc
    from action_server.config.endpoints import ConfigError

    try:
        understanding = _understanding(
            settings.extra.get("config"), config, endpoints_file, check.project, flows, domain
        )
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
    for warning in understanding.warnings:
        logger.warning(warning)
    for note in understanding.notes:
        logger.info(note)
    engine = FlowEngine(
        check.project,
        setup.client,
        store,
        understanding.source,
        registered_actions=setup.registered or (),
    )
    kind = config.tracker_store.kind if config.tracker_store else "sqlite"
    logger.info(
        "Flows: %d flows from %s; actions run in %s; conversations in the %s store; "
        "users understood with %s; REST channel at /webhooks/rest/webhook",
        len(check.project.flows),
        ", ".join(check.files),
        setup.where,
        kind,
        understanding.description,
    )
    return AppExtension(flow_engine=engine, blueprints=[rest_blueprint(engine)])
