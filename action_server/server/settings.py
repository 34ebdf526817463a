"""Everything the server needs to start, as one picklable value.

The CLI builds a `ServerSettings`; every Sanic worker process receives the same object and
rebuilds its executor from it, so nothing here may hold live resources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanic import Blueprint

__all__ = [
    "AUTH_TOKEN_ENV",
    "AppExtension",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_PORT",
    "ServerSettings",
    "WORKERS_ENV",
    "default_host",
    "default_workers",
]

DEFAULT_PORT = 5055
DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024
# The largest WebSocket message (voice, RTVI); a larger one closes the socket with code 1009.
DEFAULT_WEBSOCKET_MAX_SIZE = 1024 * 1024
AUTH_TOKEN_ENV = "ACTION_SERVER_AUTH_TOKEN"
WORKERS_ENV = "ACTION_SERVER_SANIC_WORKERS"
HOST_ENV = "SANIC_HOST"


def default_host() -> str:
    """rasa-sdk reads the bind address from SANIC_HOST; keep that for drop-in deployments."""
    return os.environ.get(HOST_ENV, "0.0.0.0")


def default_workers() -> int:
    """Worker count from ACTION_SERVER_SANIC_WORKERS (rasa-sdk's variable), else 1."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if not raw:
        return 1
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{WORKERS_ENV} must be a whole number >= 1, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{WORKERS_ENV} must be a whole number >= 1, got {raw!r}")
    return value


@dataclass
class ServerSettings:
    """Validated start-up options of `action-server run`."""

    actions: str | None = "actions"
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    cors_origins: tuple[str, ...] = ()
    ssl_certificate: str | None = None
    ssl_keyfile: str | None = None
    ssl_password: str | None = None
    auto_reload: bool = False
    workers: int = 1
    endpoints: str | None = "endpoints.yml"
    auth_token: str | None = None
    action_timeout: float | None = None
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    websocket_max_size: int = DEFAULT_WEBSOCKET_MAX_SIZE
    log_level: str = "INFO"
    log_file: str | None = None
    # Seconds an idle keep-alive connection stays open (rasa-sdk's default, 120).
    keep_alive_timeout: int = 120
    # A dictConfig YAML applied after our logging set-up, in every worker.
    logging_config_file: str | None = None
    # Dotted "package.module:function" paths called as function(settings, executor) in every
    # worker; each returns an `AppExtension` (flow engine and/or blueprints). This is how the
    # flows group and channels plug into the server without the server importing them.
    app_hooks: tuple[str, ...] = ()
    # Free-form options for those hooks (e.g. flow and domain paths), set by their CLI groups.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_certificate else "http"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.max_body_size < 1:
            raise ValueError(f"max body size must be > 0 bytes, got {self.max_body_size}")
        if self.websocket_max_size < 1:
            raise ValueError(f"WebSocket max size must be > 0 bytes, got {self.websocket_max_size}")
        if self.action_timeout is not None and not (
            0 < self.action_timeout < float("inf")  # also rejects NaN
        ):
            raise ValueError(
                f"action timeout must be a finite number of seconds > 0, got {self.action_timeout}"
            )
        if self.ssl_keyfile and not self.ssl_certificate:
            raise ValueError("--ssl-keyfile needs --ssl-certificate")


@dataclass
class AppExtension:
    """What an app hook (see `ServerSettings.app_hooks`) adds: a flow engine and/or blueprints.

    A hook is `def hook(settings: ServerSettings, executor: ActionExecutor) -> AppExtension | None`
    and runs in every worker process, after the actions are registered.
    """

    flow_engine: Any | None = None
    blueprints: list[Blueprint] = field(default_factory=list)
