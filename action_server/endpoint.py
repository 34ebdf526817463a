"""The HTTP action server's Python API, at rasa-sdk's path (`rasa_sdk.endpoint`).

`create_app(executor)` and `run(executor, port, ...)` have rasa-sdk's signatures and build
our server (server/app.py): the same routes, plus our JSON errors without echoes, bounded
decompression, metrics and sync actions off the event loop. Plugins
(`plugin.attach_sanic_app_extensions`) and tracing (`tracing:` in endpoints.yml) apply as in
rasa-sdk.
"""

from __future__ import annotations

import argparse
import logging
import os
import ssl
from pathlib import Path
from typing import Any

from sanic import Sanic

from action_server.cli.arguments import add_endpoint_arguments, add_logging_arguments
from action_server.constants import (
    DEFAULT_ENDPOINTS_PATH,
    DEFAULT_KEEP_ALIVE_TIMEOUT,
    DEFAULT_SERVER_PORT,
)
from action_server.executor import ActionExecutor
from action_server.plugin import plugin_manager
from action_server.server.app import create_app as create_server_app
from action_server.server.runner import serve
from action_server.server.settings import ServerSettings, default_host
from action_server.tracing.utils import get_tracer_provider, set_span_attributes
from action_server.utils import number_of_sanic_workers

__all__ = [
    "create_app",
    "create_app_for_serve",
    "create_argument_parser",
    "create_ssl_config",
    "create_ssl_context",
    "load_tracer_provider",
    "run",
    "set_http_span_attributes",
]

logger = logging.getLogger(__name__)


def create_ssl_config(
    ssl_certificate: str | None, ssl_keyfile: str | None, ssl_password: str | None = None
) -> dict[str, str | None] | None:
    """Sanic's SSL dict (paths, picklable for worker processes), or None without a certificate."""
    if not ssl_certificate:
        return None
    return {"cert": ssl_certificate, "key": ssl_keyfile, "password": ssl_password}


def create_ssl_context(
    ssl_certificate: str | None,
    ssl_keyfile: str | None,
    ssl_ca_file: str | None = None,
    ssl_password: str | None = None,
) -> ssl.SSLContext | None:
    """A server TLS context (older rasa-sdk API), verifying clients against `ssl_ca_file`."""
    if not ssl_certificate:
        return None
    context = ssl.create_default_context(purpose=ssl.Purpose.CLIENT_AUTH, cafile=ssl_ca_file)
    context.load_cert_chain(ssl_certificate, keyfile=ssl_keyfile, password=ssl_password)
    return context


def create_argument_parser() -> argparse.ArgumentParser:
    """rasa-sdk's parser: the server flags and the logging flags."""
    parser = argparse.ArgumentParser(description="starts the action endpoint")
    add_endpoint_arguments(parser)
    add_logging_arguments(parser)
    return parser


async def load_tracer_provider(endpoints: str, app: Sanic) -> None:
    """Configure tracing from `endpoints` and keep the provider on `app.ctx`."""
    app.ctx.tracer_provider = get_tracer_provider(endpoints)


def _origins(cors_origins: str | list[str] | None) -> tuple[str, ...]:
    if isinstance(cors_origins, str):
        return (cors_origins,) if cors_origins else ()
    return tuple(cors_origins or ())


def create_app(
    action_executor: ActionExecutor | None = None,
    cors_origins: str | list[str] | None = "*",
    auto_reload: bool = False,
) -> Sanic:
    """The server app around `action_executor` (a new, empty one if None).

    `auto_reload` starts the executor's file watcher, which reloads edited action modules.
    """
    return _app(action_executor, cors_origins, auto_reload, None)


def _app(
    action_executor: ActionExecutor | None,
    cors_origins: str | list[str] | None,
    auto_reload: bool,
    tracer_provider: Any | None,
) -> Sanic:
    executor = action_executor if action_executor is not None else ActionExecutor()
    if auto_reload:
        executor.start_auto_reload()
    settings = ServerSettings(actions=None, cors_origins=_origins(cors_origins), endpoints=None)
    app = create_server_app(settings, executor, tracer_provider=tracer_provider)
    app.ctx.tracer_provider = tracer_provider
    # The app a user serves (or tests with `app.test_client`) is found by name in Sanic's
    # registry; the newest app of that name wins, as each test builds its own.
    previous = Sanic._app_registry.get(app.name)
    if previous is not None:
        Sanic.unregister_app(previous)
    Sanic.register_app(app)
    return app


def create_app_for_serve(
    action_executor: ActionExecutor,
    cors_origins: str | list[str] | None = "*",
    auto_reload: bool = False,
    endpoints: str = DEFAULT_ENDPOINTS_PATH,
    keep_alive_timeout: int = DEFAULT_KEEP_ALIVE_TIMEOUT,
) -> Sanic:
    """`create_app` with keep-alive, tracing and plugins, as rasa-sdk serves it.

    Tracing is configured before the app is built (rasa-sdk: in a start-up listener), so the
    webhook handler and the executor's methods are the traced ones.
    """
    tracer_provider = (
        get_tracer_provider(endpoints) if endpoints and Path(endpoints).is_file() else None
    )
    app = _app(action_executor, cors_origins, auto_reload, tracer_provider)
    app.config.KEEP_ALIVE_TIMEOUT = keep_alive_timeout
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def run(
    action_executor: ActionExecutor,
    port: int = DEFAULT_SERVER_PORT,
    cors_origins: str | list[str] | None = "*",
    ssl_certificate: str | None = None,
    ssl_keyfile: str | None = None,
    ssl_password: str | None = None,
    auto_reload: bool = False,
    endpoints: str = DEFAULT_ENDPOINTS_PATH,
    keep_alive_timeout: int = DEFAULT_KEEP_ALIVE_TIMEOUT,
) -> None:
    """Serve the executor's actions until SIGINT/SIGTERM (host from SANIC_HOST, as rasa-sdk).

    Served by our runner: the executor's package is registered again in each worker when
    `ACTION_SERVER_SANIC_WORKERS` > 1, so actions registered by hand need one worker.
    """
    packages = action_executor._registered_package_names
    settings = ServerSettings(
        actions=packages[0] if packages else None,
        host=os.environ.get("SANIC_HOST") or default_host(),
        port=port,
        cors_origins=_origins(cors_origins),
        ssl_certificate=ssl_certificate,
        ssl_keyfile=ssl_keyfile,
        ssl_password=ssl_password,
        auto_reload=auto_reload,
        workers=number_of_sanic_workers(),
        endpoints=endpoints if endpoints and Path(endpoints).is_file() else None,
        keep_alive_timeout=keep_alive_timeout,
    )
    serve(settings, executor=action_executor if settings.workers == 1 else None)


def set_http_span_attributes(
    span: Any, action_call: dict[str, Any], http_method: str, route: str
) -> None:
    """rasa-sdk's attributes of an HTTP webhook span."""
    set_span_attributes(span, action_call)
    if span.is_recording():
        span.set_attribute("http.method", http_method)
        span.set_attribute("http.route", route)
