"""create_app/build_app in-process: what gets mounted, without starting a server."""

from __future__ import annotations

import pytest

from action_server.executor import ActionExecutor
from action_server.server.app import create_app
from action_server.server.runner import build_app
from action_server.server.settings import ServerSettings
from tests.conftest import SERVER_ACTIONS


def test_create_app_can_build_several_apps_in_one_process() -> None:
    settings = ServerSettings(actions=None)
    first = create_app(settings, ActionExecutor())
    second = create_app(settings, ActionExecutor())
    assert first is not second
    assert first.config.REQUEST_MAX_SIZE == settings.max_body_size


def test_build_app_mounts_what_app_hooks_return() -> None:
    settings = ServerSettings(
        actions=SERVER_ACTIONS,
        app_hooks=("tests.server.hooks:hello_extension", "tests.server.hooks:nothing"),
    )
    app = build_app(settings)
    try:
        assert app.ctx.flow_engine is None
        assert "hello_channel" in app.blueprints
    finally:
        app.ctx.executor.close()
        type(app).unregister_app(app)


def test_build_app_rejects_a_malformed_hook_path() -> None:
    with pytest.raises(ValueError, match="must look like 'package.module:function'"):
        build_app(ServerSettings(actions=None, app_hooks=("tests.server.hooks",)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 70000}, "port must be between 0 and 65535"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"max_body_size": 0}, "max body size must be > 0 bytes"),
        ({"action_timeout": float("nan")}, "action timeout must be a finite number"),
        ({"ssl_keyfile": "key.pem"}, "--ssl-keyfile needs --ssl-certificate"),
    ],
)
def test_server_settings_reject_bad_values(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerSettings(**options)  # type: ignore[arg-type]
