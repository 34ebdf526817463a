"""The inspector's routes: the page, its static files and the JSON API it renders.

Mounted at ``/inspect`` by ``action-server run --inspect``. The executor and the flow engine
are the app's own (``app.ctx``), so the inspector runs exactly what the webhook and the
channels run. Every route sits behind the app's auth middleware like any other route.
"""

from __future__ import annotations

import ipaddress
import mimetypes
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from sanic import Blueprint, HTTPResponse, Request

from action_server.dialogue.engine import FlowEngineError
from action_server.inspector.actions import (
    ErrorMapper,
    RunRequest,
    RunRequestError,
    describe_all,
    run_action,
)
from action_server.inspector.conversations import chat_turn, conversation_view
from action_server.inspector.project import (
    ProjectPaths,
    flow_detail,
    flow_list,
    run_tests,
    validate,
)
from action_server.version import __version__

__all__ = ["InspectorConfig", "PREFIX", "inspector_blueprint", "is_loopback_host"]

PREFIX = "/inspect"
STATIC_DIR = Path(__file__).parent / "static"
TOKEN_MARK = "__TOKEN_QUERY__"
MAX_TEXT_CHARS = 10_000
_NO_FLOWS = "no flows are loaded: start the server with --flows to chat and to see flows"

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


@dataclass
class InspectorConfig:
    """What the inspector needs beyond the app: the error mapping and the project on disk.

    ``loopback_only`` (set when the server has no auth token) answers only requests addressed to
    a loopback host name, so a web page cannot reach the inspector through DNS rebinding.
    """

    map_error: ErrorMapper
    paths: ProjectPaths | None = None
    loopback_only: bool = True


class ApiError(Exception):
    """An expected failure of an API request: answered as ``{"error", "field"?}``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def _json(body: Any, status: int = 200) -> HTTPResponse:
    payload = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS, default=str)
    return HTTPResponse(payload, status=status, content_type="application/json")


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``127.x.x.x`` or ``[::1]``, with or without a port."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _body(request: Request) -> Any:
    # JSON only: a form or text/plain POST from another site (which needs no CORS preflight)
    # must not run actions through a visitor's browser.
    kind = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "send the body as JSON with 'Content-Type: application/json'")
    if not request.body:
        return {}
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None


def _engine(request: Request) -> Any:
    engine = getattr(request.app.ctx, "flow_engine", None)
    if engine is None:
        raise ApiError(404, _NO_FLOWS)
    return engine


def _registered(request: Request) -> frozenset[str]:
    engine = getattr(request.app.ctx, "flow_engine", None)
    names = set(request.app.ctx.executor.actions)
    if engine is not None:
        names |= set(engine.registered_actions)
    return frozenset(names)


def _guarded(handler: Handler, loopback_only: bool) -> Handler:
    async def run(request: Request, **kwargs: Any) -> HTTPResponse:
        if loopback_only and not is_loopback_host(request.host):
            return _json(
                {
                    "error": "without --auth-token the inspector answers only requests to "
                    "127.0.0.1 or localhost"
                },
                403,
            )
        try:
            return await handler(request, **kwargs)
        except ApiError as exc:
            body = {"error": exc.message}
            if exc.field:
                body["field"] = exc.field
            return _json(body, exc.status)
        except RunRequestError as exc:
            body = {"error": exc.message}
            if exc.field:
                body["field"] = exc.field
            return _json(body, 400)
        except FlowEngineError as exc:
            return _json({"error": str(exc)}, 409)

    run.__name__ = handler.__name__
    return run


def _static_files() -> dict[str, Path]:
    return {
        path.relative_to(STATIC_DIR).as_posix(): path
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
    }


def inspector_blueprint(config: InspectorConfig) -> Blueprint:
    """The ``/inspect`` page and ``/inspect/api/...`` (documented in docs/inspector.md)."""
    blueprint = Blueprint("inspector", url_prefix=PREFIX)
    files = _static_files()
    index_html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    async def page(request: Request) -> HTTPResponse:
        token = request.args.get("token")
        query = f"?token={quote(token, safe='')}" if token else ""
        return HTTPResponse(
            index_html.replace(TOKEN_MARK, query), content_type="text/html; charset=utf-8"
        )

    async def static(request: Request, name: str) -> HTTPResponse:
        path = files.get(name)
        if path is None:
            return _json({"error": f"no inspector file '{name}'"}, 404)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/javascript":
            kind += "; charset=utf-8"
        return HTTPResponse(path.read_bytes(), content_type=kind)

    async def overview(request: Request) -> HTTPResponse:
        engine = getattr(request.app.ctx, "flow_engine", None)
        return _json(
            {
                "version": __version__,
                "flows": engine is not None,
                "actions": len(request.app.ctx.executor.actions),
                "tests": list(config.paths.tests) if config.paths else [],
            }
        )

    async def actions(request: Request) -> HTTPResponse:
        engine = getattr(request.app.ctx, "flow_engine", None)
        return _json({"actions": describe_all(request.app.ctx.executor, engine)})

    async def run(request: Request, name: str) -> HTTPResponse:
        engine = getattr(request.app.ctx, "flow_engine", None)
        run_request = RunRequest.from_json(_body(request))
        report = await run_action(
            name, run_request, request.app.ctx.executor, engine, config.map_error
        )
        return _json(report)

    async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
        return _json(await conversation_view(_engine(request), conversation_id))

    async def message(request: Request, conversation_id: str) -> HTTPResponse:
        engine = _engine(request)
        body = _body(request)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "'text' must be a non-empty string", "text")
        if len(text) > MAX_TEXT_CHARS:
            raise ApiError(400, f"'text' is longer than {MAX_TEXT_CHARS} characters", "text")
        return _json(await chat_turn(engine, conversation_id, text))

    async def restart(request: Request, conversation_id: str) -> HTTPResponse:
        _body(request)  # JSON only, like every POST
        return _json(await chat_turn(_engine(request), conversation_id, "/restart"))

    async def flows(request: Request) -> HTTPResponse:
        return _json({"flows": flow_list(_engine(request).project)})

    async def flow(request: Request, flow_id: str) -> HTTPResponse:
        project = _engine(request).project
        found = project.flows.get(flow_id)
        if found is None:
            known = ", ".join(sorted(project.flows)) or "none"
            raise ApiError(404, f"no flow named '{flow_id}' (flows: {known})")
        return _json(flow_detail(found, request.args.get("step")))

    async def validation(request: Request) -> HTTPResponse:
        if config.paths is None:
            raise ApiError(404, _NO_FLOWS)
        return _json(validate(config.paths, _registered(request)))

    async def tests(request: Request) -> HTTPResponse:
        _body(request)  # JSON only, like every POST
        engine = _engine(request)
        if config.paths is None or not config.paths.tests:
            raise ApiError(404, "no e2e test directory found (looked for tests/ beside the flows)")
        transport = engine.action_client.transport
        return _json(await run_tests(config.paths, transport, _registered(request)))

    routes: list[tuple[Handler, str, str]] = [
        (page, "", "GET"),
        (static, "/static/<name:path>", "GET"),
        (overview, "/api", "GET"),
        (actions, "/api/actions", "GET"),
        (run, "/api/actions/<name>/run", "POST"),
        (conversation, "/api/conversations/<conversation_id>", "GET"),
        (message, "/api/conversations/<conversation_id>/messages", "POST"),
        (restart, "/api/conversations/<conversation_id>/restart", "POST"),
        (flows, "/api/flows", "GET"),
        (flow, "/api/flows/<flow_id>", "GET"),
        (validation, "/api/validation", "GET"),
        (tests, "/api/tests", "POST"),
    ]
    for index, (handler, uri, method) in enumerate(routes):
        name = f"inspector_{handler.__name__}_{index}"
        blueprint.add_route(
            _guarded(handler, config.loopback_only),
            uri,
            methods=[method],
            name=name,
            strict_slashes=False,
        )
    return blueprint
