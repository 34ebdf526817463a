"""``action-server run --voice-start-flow FLOW --voice-timeout-flow FLOW``.

A command module of ``action_server.cli`` (see ``COMMAND_MODULES``): it adds no subcommand,
only these ``run`` options, which override ``voice:`` in endpoints.yml.
"""

from __future__ import annotations

import argparse
from typing import Any

from action_server.channels.mount import EXTRA_KEY
from action_server.cli.arguments import positive_seconds

__all__ = ["configure_run", "extend_run", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """No subcommand of our own; the hook protocol requires the function."""


def extend_run(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("voice channel (with --flows)")
    group.add_argument(
        "--voice-start-flow",
        default=None,
        metavar="FLOW",
        help="flow started when a call connects (overrides voice.start_flow in endpoints.yml)",
    )
    group.add_argument(
        "--voice-timeout-flow",
        default=None,
        metavar="FLOW",
        help="flow run when the caller says nothing (default: repeat the pending question)",
    )
    group.add_argument(
        "--voice-input-timeout",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="how long the phone platform waits for the caller after each question",
    )


def configure_run(args: argparse.Namespace, settings: Any) -> None:
    values = {
        "start_flow": getattr(args, "voice_start_flow", None),
        "timeout_flow": getattr(args, "voice_timeout_flow", None),
        "user_input_timeout_seconds": getattr(args, "voice_input_timeout", None),
    }
    values = {k: v for k, v in values.items() if v is not None}
    if values:
        settings.extra[EXTRA_KEY] = values
