"""The voice event webhook: phone-platform events in, speak/audio/transfer/hangup actions out.

``POST /webhooks/voice`` answers each event with at most one action (200, or 204 when there is
nothing to do); what a turn produced beyond that waits in the conversation's metadata in the
store, so any replica can deliver it on the next ``assistant_speak``/``assistant_speech_ended``.
``/webhooks/voice/ws`` is the WebSocket form: every action is sent, in order, at once.

Mapping: ``session_start`` starts ``voice.start_flow``; ``user_speak`` and ``dtmf_received``
are user messages; ``user_input_timeout`` runs ``voice.timeout_flow`` or re-asks the pending
question; ``session_end`` ends the conversation. Bot text becomes ``speak`` (consecutive texts
merged), ``custom.ssml``/``custom.audio`` become ``speak``/``audio``, the ``transfer`` step
action becomes ``transfer``, and an ended conversation a ``hangup`` after its last words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import ValidationError
from sanic import Blueprint, HTTPResponse, Request

from action_server.channels.rest import json_response
from action_server.channels.voice_models import (
    AudioAction,
    HangupAction,
    SpeakAction,
    TransferAction,
    VoiceEventError,
    check_wav,
    parse_event,
)
from action_server.config.endpoints import VoiceConfig
from action_server.stores.locks import ConversationLockTimeout
from action_server.stores.store import ConversationStoreError

if TYPE_CHECKING:
    from action_server.dialogue.engine import FlowEngine, TurnResult

__all__ = ["VoiceChannel", "voice_actions", "voice_blueprint"]

logger = logging.getLogger(__name__)

INPUT_CHANNEL = "voice"
METADATA_KEY = "voice"
# Keys of a message's ``custom`` dict that tune how it is spoken.
_SPEAK_OPTIONS = ("barge_in", "tts", "user_input_timeout_seconds")
# Ending the call must wait until the last words were heard, not just started.
_CALL_ENDING = frozenset({"hangup", "transfer"})
T = TypeVar("T")


class VoiceChannelError(Exception):
    """Handling an event failed on our side; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


# --- bot messages -> actions -----------------------------------------------------------------


def voice_actions(
    session_id: str,
    messages: list[dict[str, Any]],
    *,
    ended: bool = False,
    user_input_timeout_seconds: float | None = None,
) -> list[dict[str, Any]]:
    """Turn one turn's bot messages into actions, in order.

    Consecutive plain texts are merged into one ``speak``; a message whose ``custom`` carries
    ``ssml``, ``audio``, speak options or a ``transfer``/``hangup`` type stands alone. An ended
    conversation gets a ``hangup`` unless the call was transferred.
    """
    actions: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush() -> None:
        if texts:
            actions.append(SpeakAction(session_id=session_id, text=" ".join(texts)).to_json())
            texts.clear()

    for message in messages:
        custom = message.get("custom")
        custom = custom if isinstance(custom, Mapping) else {}
        text = message.get("text")
        text = text.strip() if isinstance(text, str) else ""
        kind = custom.get("type")
        options = {k: custom[k] for k in _SPEAK_OPTIONS if custom.get(k) is not None}
        spoken = _special_action(session_id, text, custom, options)
        if spoken is None and text and not options:
            texts.append(text)
        elif spoken is not None or text:
            flush()
            actions.append(spoken or _speak(session_id, {"text": text}, options))
        if kind == "transfer":
            flush()
            actions.append(_transfer(session_id, custom))
        elif kind == "hangup":
            flush()
            actions.append(HangupAction(session_id=session_id).to_json())
    flush()
    if ended and not any(a["type"] in _CALL_ENDING for a in actions):
        actions.append(HangupAction(session_id=session_id).to_json())
    if user_input_timeout_seconds is not None and not ended:
        for action in reversed(actions):
            if action["type"] in ("speak", "audio"):
                action.setdefault("user_input_timeout_seconds", user_input_timeout_seconds)
                break
    return actions


def _special_action(
    session_id: str, text: str, custom: Mapping[str, Any], options: dict[str, Any]
) -> dict[str, Any] | None:
    """``speak`` with SSML or ``audio`` from a message's custom payload, if it has one."""
    ssml = custom.get("ssml")
    if isinstance(ssml, str) and ssml.strip():
        return _speak(session_id, {"ssml": ssml}, options)
    audio = custom.get("audio")
    if audio is None:
        return None
    try:
        if not isinstance(audio, str):
            raise ValueError(f"audio must be a base64 string, got {type(audio).__name__}")
        check_wav(audio)
        return AudioAction(
            session_id=session_id,
            audio=audio,
            **{k: v for k, v in options.items() if k != "tts"},
        ).to_json()
    except (ValueError, ValidationError) as exc:
        # A broken recording must not silence the bot: say the text instead, if there is one.
        logger.warning("session %s: cannot play audio response: %s", session_id, exc)
        return _speak(session_id, {"text": text}, options) if text else None


def _speak(session_id: str, content: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    try:
        return SpeakAction(session_id=session_id, **content, **options).to_json()
    except ValidationError as exc:
        logger.warning(
            "session %s: ignoring invalid speak options %s: %s", session_id, options, exc
        )
        return SpeakAction(session_id=session_id, **content).to_json()


def _transfer(session_id: str, custom: Mapping[str, Any]) -> dict[str, Any]:
    target = custom.get("target") or custom.get("target_phone_number")
    extra: dict[str, Any] = {
        k: str(custom[k]) for k in ("caller_id_name", "caller_id_number") if custom.get(k)
    }
    return TransferAction(session_id=session_id, target_phone_number=str(target), **extra).to_json()


def _ended(result: TurnResult) -> bool:
    from action_server.dialogue.engine import ENDED_TEXT

    if any(event.get("event") == "session_ended" for event in result.events):
        return True
    # The engine answers messages to an ended conversation with this text and no events.
    return not result.events and any(m.get("text") == ENDED_TEXT for m in result.messages)


# --- the channel --------------------------------------------------------------------------------


class VoiceChannel:
    """Feeds voice events to the flow engine and turns its answers into voice actions."""

    def __init__(self, engine: FlowEngine, config: VoiceConfig | None = None) -> None:
        self.engine = engine
        self.config = config or VoiceConfig()
        for name in ("start_flow", "timeout_flow"):
            flow = getattr(self.config, name)
            if flow is not None and flow not in engine.project.flows:
                known = ", ".join(sorted(engine.project.flows)) or "none"
                raise ValueError(f"voice.{name}: there is no flow named '{flow}' (flows: {known})")

    # -- public API

    async def handle(self, data: Any) -> list[dict[str, Any]]:
        """Every action for one decoded event, in order (the WebSocket form)."""
        event = parse_event(data)
        return await self._dispatch(event)

    async def handle_one(self, data: Any) -> dict[str, Any] | None:
        """At most one action for one decoded event; the rest waits in the store (HTTP form)."""
        event = parse_event(data)
        session_id = event.session.id
        if event.type in ("assistant_speak", "assistant_speech_ended"):
            return await self._next_pending(session_id, event.type == "assistant_speech_ended")
        actions = await self._dispatch(event)
        if event.type in ("user_speech_started",):
            return None
        # A new turn makes whatever the previous one left unsaid stale.
        await self._set_pending(session_id, actions[1:])
        return actions[0] if actions else None

    # -- events

    async def _dispatch(self, event: Any) -> list[dict[str, Any]]:
        session_id = event.session.id
        try:
            if event.type == "session_start":
                return await self._session_start(event)
            if event.type == "user_speak":
                return await self._user_input(event, event.text, {"barged_in": event.barged_in})
            if event.type == "dtmf_received":
                return await self._user_input(event, event.digit, {"dtmf": event.digit})
            if event.type == "user_input_timeout":
                return await self._input_timeout(event)
            if event.type == "session_end":
                await self._session_end(session_id)
            return []
        except ConversationLockTimeout as exc:
            raise VoiceChannelError(str(exc), 503) from exc
        except ConversationStoreError as exc:
            logger.error("session %s: %s", session_id, exc)
            raise VoiceChannelError(f"session '{session_id}': {exc}") from exc

    async def _session_start(self, event: Any) -> list[dict[str, Any]]:
        if self.config.start_flow is None:
            return []
        result = await self.engine.start_flow(event.session.id, self.config.start_flow)
        await self._update_voice(
            event.session.id,
            lambda voice: voice.__setitem__("session", event.session.model_dump(exclude_none=True)),
        )
        return self._actions(event.session.id, result)

    async def _user_input(
        self, event: Any, text: str, extra: dict[str, Any]
    ) -> list[dict[str, Any]]:
        metadata = {
            "input_channel": INPUT_CHANNEL,
            METADATA_KEY: {"session": event.session.model_dump(exclude_none=True), **extra},
        }
        result = await self.engine.handle(event.session.id, text, metadata)
        return self._actions(event.session.id, result)

    async def _input_timeout(self, event: Any) -> list[dict[str, Any]]:
        session_id = event.session.id
        if self.config.timeout_flow is not None:
            result = await self.engine.start_flow(session_id, self.config.timeout_flow)
            return self._actions(session_id, result)
        question = await self._repeat_question(session_id)
        if question is None:
            return []
        return voice_actions(
            session_id,
            [question],
            user_input_timeout_seconds=self.config.user_input_timeout_seconds,
        )

    async def _repeat_question(self, session_id: str) -> dict[str, Any] | None:
        """The last bot message again (recorded in the tracker), when a flow waits for input."""
        from action_server.dialogue import flow_events

        store = self.engine.store
        async with store.lock(session_id):
            state = await store.load(session_id)
            if state is None or state.ended or not state.stack:
                return None
            last = next((e for e in reversed(state.events) if e.get("event") == "bot"), None)
            if last is None:
                return None
            data = last.get("data") or {}
            message = {"text": last.get("text"), **{k: v for k, v in data.items() if v}}
            message = {k: v for k, v in message.items() if v is not None}
            utter_action = (last.get("metadata") or {}).get("utter_action")
            state.events.append(flow_events.bot_uttered(message, utter_action))
            await store.save(state)
            return message

    async def _session_end(self, session_id: str) -> None:
        from action_server.dialogue import flow_events

        store = self.engine.store
        async with store.lock(session_id):
            state = await store.load(session_id)
            if state is None:
                return
            state.metadata.get(METADATA_KEY, {}).pop("pending", None)
            if not state.ended:
                state.ended = True
                state.stack = []
                state.events.append(flow_events.session_ended("session_end"))
            await store.save(state)

    def _actions(self, session_id: str, result: TurnResult) -> list[dict[str, Any]]:
        return voice_actions(
            session_id,
            result.messages,
            ended=_ended(result),
            user_input_timeout_seconds=self.config.user_input_timeout_seconds,
        )

    # -- the pending queue (HTTP)

    async def _next_pending(self, session_id: str, speech_ended: bool) -> dict[str, Any] | None:
        def pop(voice: dict[str, Any]) -> dict[str, Any] | None:
            pending = voice.get("pending") or []
            if not pending or (pending[0].get("type") in _CALL_ENDING and not speech_ended):
                return None
            action: dict[str, Any] = pending.pop(0)
            voice["pending"] = pending
            return action

        return await self._update_voice(session_id, pop)

    async def _set_pending(self, session_id: str, actions: list[dict[str, Any]]) -> None:
        def replace(voice: dict[str, Any]) -> None:
            if actions:
                voice["pending"] = actions
            else:
                voice.pop("pending", None)

        await self._update_voice(session_id, replace)

    async def _update_voice(
        self, session_id: str, change: Callable[[dict[str, Any]], T]
    ) -> T | None:
        """Apply ``change`` to the conversation's voice metadata under its lock, and save."""
        store = self.engine.store
        try:
            async with store.lock(session_id):
                state = await store.load(session_id)
                if state is None:
                    return None  # never started: nothing is pending, nothing to remember
                voice = state.metadata.setdefault(METADATA_KEY, {})
                before = orjson.dumps(voice)
                result = change(voice)
                if orjson.dumps(voice) != before:
                    await store.save(state)
                return result
        except ConversationLockTimeout as exc:
            raise VoiceChannelError(str(exc), 503) from exc
        except ConversationStoreError as exc:
            raise VoiceChannelError(f"session '{session_id}': {exc}") from exc


# --- HTTP and WebSocket --------------------------------------------------------------------------


def _decode(raw: bytes | str | None, what: str = "the body") -> Any:
    if not raw:
        raise VoiceEventError(f"{what} is empty: send one JSON event")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise VoiceEventError(f"{what} is not valid JSON: {exc}") from None


async def _guarded(work: Callable[[], Any], where: str) -> tuple[Any, str | None, int]:
    """Run ``work``; map failures to (None, message, status) so no traceback reaches a client."""
    try:
        return await work(), None, 200
    except VoiceEventError as exc:
        return None, str(exc), 400
    except VoiceChannelError as exc:
        return None, str(exc), exc.status
    except Exception as exc:
        from action_server.dialogue.engine import FlowEngineError

        if isinstance(exc, FlowEngineError):
            logger.error("%s: %s", where, exc)
            return None, str(exc), 500
        logger.exception("%s: unexpected error", where)
        return None, f"{where}: internal error while handling the event (see the server log)", 500


def voice_blueprint(channel: VoiceChannel) -> Blueprint:
    """``POST /webhooks/voice`` and ``/webhooks/voice/ws`` around ``channel``."""
    blueprint = Blueprint("voice_channel", url_prefix="/webhooks/voice")

    async def webhook(request: Request) -> HTTPResponse:
        try:
            data = _decode(request.body)
        except VoiceEventError as exc:
            return json_response({"error": str(exc)}, 400)
        action, error, status = await _guarded(lambda: channel.handle_one(data), "voice webhook")
        if error is not None:
            return json_response({"error": error}, status)
        if action is None:
            return HTTPResponse(status=204)
        return json_response(action)

    async def health(_: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    async def websocket(request: Request, ws: Any) -> None:
        while True:
            raw = await ws.recv()
            if raw is None:
                return
            try:
                data = _decode(raw, "the message")
            except VoiceEventError as exc:
                await ws.send(orjson.dumps({"type": "error", "error": str(exc)}).decode())
                continue
            actions, error, _ = await _guarded(partial(channel.handle, data), "voice websocket")
            if error is not None:
                await ws.send(orjson.dumps({"type": "error", "error": error}).decode())
                continue
            for action in actions:
                await ws.send(orjson.dumps(action).decode())

    blueprint.add_route(webhook, "", methods=["POST"], name="webhook")
    blueprint.add_route(health, "", methods=["GET"], name="health")
    blueprint.add_websocket_route(websocket, "/ws", name="websocket")
    return blueprint
