"""Starting the server: build the app from settings and serve it with one or more workers.

With one worker the app is served in this process (fast start-up, easy to debug). With more,
Sanic spawns worker processes that each call `build_app(settings)` through an `AppLoader`, so
every worker has its own executor and thread pool.
"""

from __future__ import annotations

import importlib
import logging
import ssl
from functools import partial
from pathlib import Path
from typing import Any

from sanic import Blueprint, Sanic
from sanic.worker.loader import AppLoader

from action_server.executor import ActionExecutor
from action_server.kinds.discovery import install_action_kinds
from action_server.plugin import plugin_manager
from action_server.server.app import create_app, startup_message
from action_server.server.gc_tuning import gc_tuning_enabled, tune_gc
from action_server.server.logs import configure_logging
from action_server.server.settings import AppExtension, ServerSettings
from action_server.tracing.utils import get_tracer_provider

__all__ = ["build_app", "build_executor", "serve", "ssl_context"]

logger = logging.getLogger(__name__)


def build_executor(settings: ServerSettings) -> ActionExecutor:
    """The executor with the user's actions registered; raises `ActionLoadError` on bad code."""
    executor = ActionExecutor(
        action_timeout=settings.action_timeout, auto_reload=settings.auto_reload
    )
    # API actions (YAML) and function actions live in the same package as class actions.
    install_action_kinds(executor)
    if settings.actions:
        executor.register_package(settings.actions)
    return executor


def _load_hook(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"App hook '{path}' must look like 'package.module:function'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"Cannot load app hook '{path}': {exc}") from None


def build_app(settings: ServerSettings, executor: ActionExecutor | None = None) -> Sanic:
    """Everything one worker needs; also the `AppLoader` factory for multi-worker runs.

    `executor`: one already built (rasa-sdk's `endpoint.run(executor)`), else from settings.
    """
    configure_logging(settings.log_level, settings.log_file, settings.logging_config_file)
    if executor is None:
        executor = build_executor(settings)
    flow_engine: Any | None = None
    blueprints: list[Blueprint] = []
    for path in settings.app_hooks:
        extension = _load_hook(path)(settings, executor)
        if extension is None:
            continue
        if not isinstance(extension, AppExtension):
            raise TypeError(f"App hook '{path}' returned {extension!r}, expected an AppExtension")
        if extension.flow_engine is not None:
            if flow_engine is not None:
                raise ValueError(f"App hook '{path}' adds a second flow engine")
            flow_engine = extension.flow_engine
        blueprints.extend(extension.blueprints)
    app = create_app(
        settings,
        executor,
        flow_engine=flow_engine,
        blueprints=blueprints,
        tracer_provider=_tracer_provider(settings),
    )
    # Plugins (rasa-sdk's hook) add routes, listeners and middleware in every worker.
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    if gc_tuning_enabled():
        # Last start-up listener, so the whole start-up heap (listeners included) is frozen.
        app.register_listener(_tune_gc_after_start, "after_server_start")
    # Sanic's workers find the app they serve by name in its registry.
    Sanic.register_app(app)
    return app


def _tracer_provider(settings: ServerSettings) -> Any | None:
    """The `tracing:` section of endpoints.yml, once per worker process (None without one)."""
    if not settings.endpoints or not Path(settings.endpoints).is_file():
        return None
    return get_tracer_provider(settings.endpoints)


async def _tune_gc_after_start(_: Sanic) -> None:
    tune_gc()


def ssl_context(settings: ServerSettings) -> ssl.SSLContext | None:
    """TLS context from the certificate files; errors name the file that failed."""
    if not settings.ssl_certificate:
        return None
    context = ssl.create_default_context(purpose=ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(
            settings.ssl_certificate,
            keyfile=settings.ssl_keyfile,
            password=settings.ssl_password,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"Cannot load TLS certificate '{settings.ssl_certificate}'"
            + (f" with key '{settings.ssl_keyfile}'" if settings.ssl_keyfile else "")
            + f": {exc}"
        ) from None
    return context


def serve(settings: ServerSettings, executor: ActionExecutor | None = None) -> None:
    """Serve until SIGINT/SIGTERM. Load errors surface here, before any worker starts.

    A given `executor` serves a single worker only (it cannot be sent to other processes).
    """
    if executor is not None and settings.workers != 1:
        raise ValueError("a ready executor can only be served by one worker")
    context = ssl_context(settings)
    loader = AppLoader(factory=partial(build_app, settings, executor))
    app = loader.load()
    single = settings.workers == 1
    if not single:

        async def announce(_: Sanic) -> None:
            logger.info(startup_message(settings, app.ctx.executor))

        app.register_listener(announce, "main_process_ready")
    app.prepare(
        host=settings.host,
        port=settings.port,
        # An SSLContext cannot be pickled to spawned workers; Sanic rebuilds one from a dict.
        ssl=context if single else _ssl_dict(settings),
        workers=settings.workers,
        single_process=single,
        motd=False,
        access_log=settings.log_level == "DEBUG",
        # Our executor has its own reloader; Sanic's would restart whole workers.
        auto_reload=False,
    )
    if single:
        Sanic.serve_single(app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


def _ssl_dict(settings: ServerSettings) -> dict[str, Any] | None:
    if not settings.ssl_certificate:
        return None
    # The key may live in the certificate file; "names" spares Sanic reading a SAN list.
    ssl_def: dict[str, Any] = {
        "cert": settings.ssl_certificate,
        "key": settings.ssl_keyfile or settings.ssl_certificate,
        "names": [],
    }
    if settings.ssl_password:
        ssl_def["password"] = settings.ssl_password
    return ssl_def
