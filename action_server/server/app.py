"""The Sanic application: routes and middleware wired together, no business logic.

`create_app` takes a ready executor (and optionally a flow engine and channel blueprints) so
that tests, the CLI and every worker process build the same app the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterable
from typing import Any

from sanic import Blueprint, HTTPResponse, Request, Sanic
from sanic.config import Config
from sanic.response import BaseHTTPResponse

from action_server.config.secrets import remember_secret
from action_server.executor.arguments import describe_actions
from action_server.server.auth import TokenAuth
from action_server.server.compression import (
    BodyTooLarge,
    CompressionError,
    UnsupportedEncoding,
    decode_body,
)
from action_server.server.cors import CorsPolicy
from action_server.server.errors import JsonErrorHandler
from action_server.server.metrics import ServerMetrics
from action_server.server.responses import json_error, json_response
from action_server.server.settings import ServerSettings
from action_server.server.webhook import TracedWebhookHandler, WebhookHandler

__all__ = ["APP_NAME", "create_app"]

logger = logging.getLogger(__name__)

APP_NAME = "action_server"
# The most bytes a body is inflated to on the event loop (~0.3 ms); a body that inflates to
# more is decoded again in a thread, so a small, highly compressed body cannot stall every
# other request (a 96 KB gzip of zeros inflates to ~100 MB).
_INLINE_DECODE_BYTES = 128 * 1024
_OPEN_PATHS = frozenset({"/health"})


def create_app(
    settings: ServerSettings,
    executor: Any,
    flow_engine: Any | None = None,
    blueprints: Iterable[Blueprint] = (),
    tracer_provider: Any | None = None,
) -> Sanic:
    """Build the app around `executor` (an `ActionExecutor`); mount `blueprints` as given."""
    config = Config()
    config.REQUEST_MAX_SIZE = settings.max_body_size
    config.WEBSOCKET_MAX_SIZE = settings.websocket_max_size
    config.FALLBACK_ERROR_FORMAT = "json"
    config.ACCESS_LOG = settings.log_level == "DEBUG"
    config.NOISY_EXCEPTIONS = False
    config.KEEP_ALIVE_TIMEOUT = settings.keep_alive_timeout
    app = Sanic(
        APP_NAME,
        config=config,
        configure_logging=False,
        error_handler=JsonErrorHandler(settings.max_body_size),
    )
    # Out of Sanic's global registry again, so tests can build many apps in one process;
    # `runner.build_app` registers the app a process actually serves.
    Sanic.unregister_app(app)
    app.ctx.settings = settings
    app.ctx.executor = executor
    app.ctx.flow_engine = flow_engine
    metrics = ServerMetrics()
    app.ctx.metrics = metrics

    _add_middleware(app, settings)
    _add_routes(app, executor, metrics, tracer_provider)
    for blueprint in blueprints:
        app.blueprint(blueprint)
    if flow_engine is not None:
        # Voice webhook and RTVI: channels that only make sense with flows to run.
        from action_server.channels.mount import channel_blueprints

        for blueprint in channel_blueprints(settings, executor, flow_engine):
            app.blueprint(blueprint)
    _add_lifecycle(app, settings, executor, flow_engine)
    return app


def _add_routes(
    app: Sanic, executor: Any, metrics: ServerMetrics, tracer_provider: Any | None
) -> None:
    async def health(_: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    async def actions(request: Request) -> HTTPResponse:
        if request.args.get("describe", "").lower() in ("1", "true", "yes"):
            return json_response(describe_actions(executor.action_objects.values()))
        return json_response([{"name": name} for name in executor.actions])

    async def metrics_route(_: Request) -> HTTPResponse:
        body, content_type = metrics.render()
        return HTTPResponse(body, content_type=content_type)

    app.add_route(health, "/health", methods=["GET"], name="health")
    app.add_route(actions, "/actions", methods=["GET"], name="actions")
    webhook = (
        WebhookHandler(executor, metrics)
        if tracer_provider is None
        else TracedWebhookHandler(executor, metrics, tracer_provider)
    )
    app.add_route(webhook, "/webhook", methods=["POST"], name="webhook")
    app.add_route(metrics_route, "/metrics", methods=["GET"], name="metrics")


def _add_middleware(app: Sanic, settings: ServerSettings) -> None:
    # Registration order is execution order for request middleware. Sanic also re-runs request
    # middleware when routing fails (404/405), which is what lets a preflight to any path work.
    cors = CorsPolicy(settings.cors_origins) if settings.cors_origins else None
    auth = TokenAuth(settings.auth_token) if settings.auth_token else None
    if settings.auth_token:
        remember_secret(settings.auth_token)  # Sanic's access log shows `?token=...`
    limit = settings.max_body_size

    if cors is not None:

        async def cors_preflight(request: Request) -> HTTPResponse | None:
            if cors.is_preflight(request):
                return cors.preflight_response(request)
            return None

        async def cors_headers(request: Request, response: BaseHTTPResponse) -> None:
            cors.decorate(request, response)

        app.register_middleware(cors_preflight, "request")
        app.register_middleware(cors_headers, "response")

    if auth is not None:

        async def authenticate(request: Request) -> HTTPResponse | None:
            if request.path in _OPEN_PATHS or auth.is_authorized(request):
                return None
            return json_error(
                "Missing or invalid auth token: pass it as the 'token' query parameter "
                "or as 'Authorization: Bearer <token>'",
                401,
                {"WWW-Authenticate": "Bearer"},
            )

        app.register_middleware(authenticate, "request")

    async def decompress(request: Request) -> HTTPResponse | None:
        encoding = request.headers.get("content-encoding")
        # The ctx flag matters because Sanic re-runs request middleware on the error path.
        if not encoding or getattr(request.ctx, "body_decoded", False):
            return None
        request.ctx.body_decoded = True
        body = request.body or b""
        if not body:
            return None
        try:
            try:
                decoded = decode_body(body, encoding, min(limit, _INLINE_DECODE_BYTES))
            except BodyTooLarge:
                if limit <= _INLINE_DECODE_BYTES:
                    raise
                decoded = await asyncio.to_thread(decode_body, body, encoding, limit)
        except UnsupportedEncoding as exc:
            return json_error(str(exc), 415)
        except BodyTooLarge as exc:
            return json_error(str(exc), 413)
        except CompressionError as exc:
            return json_error(f"Cannot decode request body: {exc}", 400)
        request.body = decoded
        return None

    app.register_middleware(decompress, "request")


def _add_lifecycle(app: Sanic, settings: ServerSettings, executor: Any, flow_engine: Any) -> None:
    async def announce(app: Sanic) -> None:
        # With several workers the CLI's main process announces once instead.
        if settings.workers == 1:
            logger.info(startup_message(settings, executor))

    async def close_resources(app: Sanic) -> None:
        for resource in (flow_engine, executor):
            close = getattr(resource, "close", None) or getattr(resource, "shutdown", None)
            if close is None or resource is None:
                continue
            try:
                result = close()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("Error while closing %s", type(resource).__name__)

    app.register_listener(announce, "after_server_start")
    app.register_listener(close_resources, "after_server_stop")


def startup_message(settings: ServerSettings, executor: Any) -> str:
    count = len(executor.actions)
    noun = "action" if count == 1 else "actions"
    return (
        f"Action server listening on {settings.scheme}://{settings.host}:{settings.port} "
        f"with {count} {noun}"
    )
