"""App hooks used by the server tests (`--app-hook tests.server.hooks:...`)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, HTTPResponse, Request

from action_server.server.responses import json_response
from action_server.server.settings import AppExtension, ServerSettings


def hello_extension(settings: ServerSettings, executor: Any) -> AppExtension:
    """A channel-like blueprint that can see the executor (a flow engine is not needed)."""
    blueprint = Blueprint("hello_channel", url_prefix="/hello")
    actions = list(executor.actions)

    @blueprint.get("/")
    async def hello(request: Request) -> HTTPResponse:
        return json_response({"hello": "world", "actions": len(actions)})

    return AppExtension(blueprints=[blueprint])


def nothing(settings: ServerSettings, executor: Any) -> None:
    return None
