"""The voice and RTVI channels as Sanic blueprints, for an app that has a flow engine.

``create_app`` calls ``channel_blueprints`` when it is given a flow engine. Voice settings come
from ``endpoints.yml`` (``voice:``) with ``action-server run --voice-*`` flags on top (those
arrive in ``settings.extra["voice"]``, see ``channels_cli``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sanic import Blueprint

from action_server.config.endpoints import VoiceConfig, load_endpoints

if TYPE_CHECKING:
    from action_server.dialogue.engine import FlowEngine
    from action_server.executor import ActionExecutor

__all__ = ["EXTRA_KEY", "channel_blueprints", "voice_config"]

EXTRA_KEY = "voice"


def voice_config(settings: Any) -> VoiceConfig:
    """endpoints.yml's ``voice`` section, overridden by command-line values that are set."""
    endpoints = getattr(settings, "endpoints", None)
    base = load_endpoints(endpoints).voice or VoiceConfig()
    overrides = (getattr(settings, "extra", None) or {}).get(EXTRA_KEY) or {}
    values = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=values) if values else base


def channel_blueprints(
    settings: Any, executor: ActionExecutor, flow_engine: FlowEngine
) -> list[Blueprint]:
    """Voice webhook and RTVI blueprints; a voice flow that does not exist is a ValueError."""
    from action_server.channels.rtvi import RtviDispatcher, rtvi_blueprint
    from action_server.channels.voice import VoiceChannel, voice_blueprint

    channel = VoiceChannel(flow_engine, voice_config(settings))
    return [voice_blueprint(channel), rtvi_blueprint(RtviDispatcher(executor, flow_engine))]
