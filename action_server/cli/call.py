"""``action-server call NAME``: run one action from the terminal and print its events.

In-process by default (the actions package is loaded like ``run`` does); with ``--url`` the
same action call goes to a running server's ``/webhook``. Explicit ``--arg`` values travel in
the latest message's ``metadata["args"]`` (see ``action_server.executor.arguments``), so both paths see
the same call. Exit codes: 0 success, 1 load/call failure, 2 bad or missing arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from action_server.config.safe_yaml import safe_load
from action_server.executor.arguments import (
    ArgumentError,
    ArgumentSpec,
    build_call,
    coerce_cli_value,
    describe_action,
    parse_argument_specs,
)

__all__ = [
    "format_actions",
    "main",
    "register",
    "run_call_command",
]


class _UsageError(Exception):
    """Bad command-line input: exit code 2."""


class _CallFailed(Exception):
    """Loading or running the action failed: exit code 1."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Plug ``call`` into the ``action-server`` command line (see ``action_server.cli``)."""
    parser = subparsers.add_parser(
        "call",
        help="run one action and print its events and responses as JSON",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    add_call_arguments(parser)
    parser.set_defaults(handler=run_call_command)


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the action to run")
    parser.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="K=V",
        help="an action argument (typed by the action's declaration; JSON for arrays/objects)",
    )
    parser.add_argument(
        "--slot", action="append", default=[], metavar="K=V", help="a slot value in the tracker"
    )
    parser.add_argument(
        "--sender", help='conversation id (sender_id) of the call (default: "default")'
    )
    parser.add_argument("--tracker", help="JSON file with a whole tracker to send")
    parser.add_argument("--domain", help="domain file (YAML or JSON) to send with the call")
    parser.add_argument("--url", help="send the call to a running server instead, e.g. :5055")
    parser.add_argument("--token", help="auth token for --url (sent as ?token=)")
    parser.add_argument(
        "--actions",
        "--actions-module",
        dest="actions",
        default="actions",
        help="actions package or path for an in-process call (default: actions)",
    )


def _pairs(items: Sequence[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _UsageError(f"{option} expects KEY=VALUE, got {item!r}")
        pairs.append((key, value))
    return pairs


def _read_structured(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _UsageError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        raise _UsageError(f"{what} file {path} is not valid JSON/YAML: {exc}") from None


def _base_tracker(args: argparse.Namespace) -> dict[str, Any]:
    if args.tracker:
        tracker = _read_structured(args.tracker, "tracker")
        if not isinstance(tracker, dict):
            raise _UsageError(f"tracker file {args.tracker} must hold a JSON object")
    else:
        tracker = {"events": [], "slots": {}, "latest_message": {}, "paused": False}
    if args.sender is not None:
        tracker["sender_id"] = args.sender
    tracker.setdefault("sender_id", "default")  # what Rasa calls a conversation without an id
    if not isinstance(tracker.get("slots"), dict):
        tracker["slots"] = {}
    for key, value in _pairs(args.slot, "--slot"):
        tracker["slots"][key] = coerce_cli_value(value)
    return tracker


def _coerce_args(
    raw: list[tuple[str, str]], specs: list[ArgumentSpec], action: str
) -> dict[str, Any]:
    by_name = {spec.name: spec for spec in specs}
    values: dict[str, Any] = {}
    for key, text in raw:
        if specs and key not in by_name:
            declared = ", ".join(by_name) or "none"
            raise _UsageError(f"action '{action}' has no argument '{key}' (declared: {declared})")
        try:
            values[key] = coerce_cli_value(text, by_name.get(key))
        except ArgumentError as exc:
            raise _UsageError(f"action '{action}': {exc.message}") from None
    return values


def _missing(specs: list[ArgumentSpec], args: dict[str, Any], slots: dict[str, Any]) -> list:
    return [
        spec
        for spec in specs
        if spec.required and args.get(spec.name) is None and slots.get(spec.name) is None
    ]


def _missing_message(action: str, missing: list[ArgumentSpec]) -> str:
    lines = [f"action '{action}' needs these arguments (pass them with --arg NAME=VALUE):"]
    for spec in missing:
        detail = f": {spec.description}" if spec.description else ""
        lines.append(f"  {spec.name} ({spec.type}){detail}")
    return "\n".join(lines)


def format_actions(descriptions: list[dict[str, Any]]) -> str:
    """A human listing: ``name [kind] description`` and one line per argument."""
    lines = []
    for entry in descriptions:
        description = f"  {entry['description']}" if entry.get("description") else ""
        lines.append(f"{entry['name']} [{entry.get('kind', 'class')}]{description}")
        for arg in entry.get("arguments", []):
            optional = "" if arg.get("required", True) else ", optional"
            detail = f": {arg['description']}" if arg.get("description") else ""
            lines.append(f"    --arg {arg['name']}=<{arg['type']}{optional}>{detail}")
    return "\n".join(lines)


def _load_executor(actions: str) -> Any:
    from action_server.exceptions import ActionLoadError
    from action_server.executor import ActionExecutor
    from action_server.kinds.discovery import install_action_kinds

    executor = ActionExecutor()
    install_action_kinds(executor)
    try:
        executor.register_package(actions)
    except ActionLoadError as exc:
        executor.close()
        raise _CallFailed(str(exc)) from None
    return executor


async def _run_in_process(executor: Any, call: dict[str, Any]) -> dict[str, Any]:
    from action_server.exceptions import ActionFailed, ActionTimeout
    from action_server.interfaces import ActionExecutionRejection, ActionNotFoundException

    try:
        result: dict[str, Any] = await executor.execute(call)
        return result
    except ActionNotFoundException as exc:
        known = ", ".join(executor.actions) or "none"
        raise _CallFailed(f"{exc} Registered actions: {known}") from None
    except ActionExecutionRejection as exc:
        raise _CallFailed(f"action '{call['next_action']}' rejected the call: {exc}") from None
    except ActionTimeout as exc:
        raise _CallFailed(str(exc)) from None
    except ActionFailed as exc:  # a terminal user wants the cause, unlike an HTTP client
        cause = exc.__cause__ or getattr(exc, "cause", None)
        raise _CallFailed(f"{exc} {type(cause).__name__}: {cause}") from None


def _server_url(url: str) -> str:
    if url.startswith(":"):
        url = f"http://127.0.0.1{url}"
    elif "://" not in url:
        url = f"http://{url}"
    return url.rstrip("/").removesuffix("/webhook")


def _remote_specs(url: str, name: str, params: dict[str, str]) -> tuple[list[ArgumentSpec], str]:
    """Arguments and kind of ``name`` from ``GET /actions?describe=true`` (best effort)."""
    import httpx

    try:
        response = httpx.get(f"{url}/actions", params={**params, "describe": "true"}, timeout=10)
        entries = response.json() if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return [], "class"
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name:
            try:
                specs = parse_argument_specs(entry.get("arguments") or [])
            except ArgumentError:
                specs = []
            return specs, str(entry.get("kind", "class"))
    return [], "class"


def _post(url: str, call: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    import httpx

    try:
        response = httpx.post(f"{url}/webhook", json=call, params=params, timeout=60)
    except httpx.HTTPError as exc:
        raise _CallFailed(f"cannot reach {url}/webhook: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        raise _CallFailed(f"{url}/webhook answered HTTP {response.status_code}, not JSON") from None
    if response.status_code != 200:
        error = body.get("error") if isinstance(body, dict) else body
        raise _CallFailed(f"{url}/webhook answered HTTP {response.status_code}: {error}")
    if not isinstance(body, dict):
        raise _CallFailed(f"{url}/webhook answered {type(body).__name__}, expected an object")
    return body


def _checked_call(
    name: str,
    tracker: dict[str, Any],
    domain: dict[str, Any],
    raw_args: list[tuple[str, str]],
    specs: list[ArgumentSpec],
    kind: str,
) -> dict[str, Any]:
    """Coerce and check ``--arg`` values against the action's specs, then build its call."""
    values = _coerce_args(raw_args, specs, name)
    missing = _missing(specs, values, tracker["slots"])
    if missing:
        raise _UsageError(_missing_message(name, missing))
    return build_call(name, tracker, values, domain, args_as_slots=kind == "class")


def _call(args: argparse.Namespace) -> dict[str, Any]:
    tracker = _base_tracker(args)
    domain = _read_structured(args.domain, "domain") if args.domain else {}
    if not isinstance(domain, dict):
        raise _UsageError(f"domain file {args.domain} must hold a mapping")
    raw_args = _pairs(args.arg, "--arg")
    if args.url:
        url = _server_url(args.url)
        params = {"token": args.token} if args.token else {}
        specs, kind = _remote_specs(url, args.name, params)
        call = _checked_call(args.name, tracker, domain, raw_args, specs, kind)
        return _post(url, call, params)

    executor = _load_executor(args.actions)
    try:
        action = executor.action_objects.get(args.name)
        if action is None:
            known = ", ".join(executor.actions) or "none"
            raise _CallFailed(
                f"No registered action found for name '{args.name}'. Registered: {known}"
            )
        description = describe_action(action)
        specs = parse_argument_specs(description["arguments"])
        call = _checked_call(args.name, tracker, domain, raw_args, specs, description["kind"])
        return asyncio.run(_run_in_process(executor, call))
    finally:
        executor.close()


def run_call_command(args: argparse.Namespace) -> int:
    """Handler of ``action-server call``; prints ``{"events", "responses"}`` as JSON."""
    try:
        result = _call(args)
    except _UsageError as exc:
        print(f"action-server call: {exc}", file=sys.stderr)
        return 2
    except _CallFailed as exc:
        print(f"action-server call: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``call`` on its own (tests, or ``python -m action_server.cli.call``)."""
    parser = argparse.ArgumentParser(prog="action-server call")
    add_call_arguments(parser)
    return run_call_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
