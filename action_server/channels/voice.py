"""The voice event webhook (sipgate AI Flow): phone events in, speak/audio/transfer/... out.

``POST /webhooks/voice`` answers each event with at most one action (200, or 204 when there is
nothing to do); what a turn produced beyond that waits in the conversation's metadata in the
store, so any replica can deliver it on the next ``assistant_speak``/``assistant_speech_ended``.
With ``voice.action_arrays`` a turn's actions go out at once as a JSON array instead.
``/webhooks/voice/ws`` is the WebSocket form: every action is sent at once (one message each,
or one array message with ``action_arrays``).

Mapping: ``session_start`` starts ``voice.start_flow``; ``user_speak`` and ``dtmf_received``
are user messages; ``user_input_timeout`` runs ``voice.timeout_flow`` or re-asks the pending
question; ``session_end`` ends the conversation; other event types are ignored (204). Bot text
becomes ``speak`` (consecutive texts merged), ``custom.ssml``/``custom.audio`` become
``speak``/``audio``, the ``transfer`` step action becomes ``transfer``, ``custom.type`` of
``barge_in``/``send_sms``/``mix_audio``/``configure_transcription``/``configure_voice_to_voice``
the action of that type, and an ended conversation a ``hangup`` after its last words.

Transfers: while a transfer is outstanding, the caller speaking does not cancel it (a pending
transfer goes out at once); when it fails, sipgate sends ``session_start`` again for the same
session, and the conversation continues with the transfer's ``fallback_text``. Input during
speech whose barge-in strategy is ``manual`` is answered with ``barge_in`` first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import ValidationError
from sanic import Blueprint, HTTPResponse, Request

from action_server.channels.limits import message_too_long
from action_server.channels.rest import json_response
from action_server.channels.voice_models import (
    PASSTHROUGH_ACTIONS,
    AudioAction,
    BargeInAction,
    HangupAction,
    IgnoredEvent,
    SpeakAction,
    TransferAction,
    VoiceEventError,
    check_wav,
    parse_event,
)
from action_server.config.endpoints import VoiceConfig
from action_server.interfaces.caller_input import JsonInputError, decode_json
from action_server.stores.locks import ConversationLockTimeout
from action_server.stores.store import ConversationStoreError

if TYPE_CHECKING:
    from action_server.dialogue.engine import FlowEngine, TurnResult

__all__ = ["VoiceChannel", "voice_actions", "voice_blueprint"]

logger = logging.getLogger(__name__)

INPUT_CHANNEL = "voice"
METADATA_KEY = "voice"
# Keys of a message's ``custom`` dict that tune how it is spoken.
_SPEAK_OPTIONS = ("barge_in", "tts", "user_input_timeout_seconds", "vad")
_AUDIO_OPTIONS = ("barge_in", "user_input_timeout_seconds")
_USER_INPUT = frozenset({"user_speak", "dtmf_received"})
DEFAULT_TRANSFER_FALLBACK = "Sorry, I could not connect you. How else can I help?"
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
    session: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Turn one turn's bot messages into actions, in order.

    Consecutive plain texts are merged into one ``speak``; a message whose ``custom`` carries
    ``ssml``, ``audio``, speak options or an action ``type`` stands alone. An ended
    conversation gets a ``hangup`` unless the call was transferred. ``session`` (the event's)
    supplies the transfer's caller id when the message does not.
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
            transfer = _transfer(session_id, custom, session or {})
            if transfer is not None:
                actions.append(transfer)
        elif kind == "hangup":
            flush()
            actions.append(HangupAction(session_id=session_id).to_json())
        elif kind == "barge_in":
            flush()
            actions.append(BargeInAction(session_id=session_id).to_json())
        elif kind in PASSTHROUGH_ACTIONS:
            flush()
            passthrough = _passthrough(session_id, kind, custom)
            if passthrough is not None:
                actions.append(passthrough)
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
            **{k: v for k, v in options.items() if k in _AUDIO_OPTIONS},
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


def _transfer(
    session_id: str, custom: Mapping[str, Any], session: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The ``transfer`` action, or None (logged) when its target or caller id is unusable.

    sipgate requires a caller id; without one in the message, the number is the line the
    caller dialled (``session.phone_number``) and the name the caller's number.
    """
    target = custom.get("target") or custom.get("target_phone_number")
    line = session.get("phone_number") or session.get("to_phone_number")
    number = custom.get("caller_id_number") or line
    name = custom.get("caller_id_name") or session.get("from_phone_number") or number
    try:
        if not target:
            raise ValueError("it has no target")
        if not number:
            raise ValueError("no caller_id_number, and the session has no phone_number")
        return TransferAction(
            session_id=session_id,
            target_phone_number=target,
            caller_id_name=str(name) if name else "",
            caller_id_number=str(number),
            timeout=custom.get("timeout"),
        ).to_json()
    except (ValueError, ValidationError) as exc:
        logger.warning("session %s: cannot transfer the call: %s", session_id, exc)
        return None


def _passthrough(session_id: str, kind: str, custom: Mapping[str, Any]) -> dict[str, Any] | None:
    options = {k: v for k, v in custom.items() if k not in ("type", "session_id")}
    try:
        return PASSTHROUGH_ACTIONS[kind](session_id=session_id, **options).to_json()
    except ValidationError as exc:
        logger.warning("session %s: ignoring invalid %s action: %s", session_id, kind, exc)
        return None


def transfer_fallback(messages: list[dict[str, Any]]) -> str | None:
    """The ``fallback_text`` of a turn's transfer message, if it has one."""
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, Mapping) and custom.get("type") == "transfer":
            text = custom.get("fallback_text")
            return text if isinstance(text, str) and text.strip() else None
    return None


def _speech_strategy(action: dict[str, Any]) -> str:
    barge_in = action.get("barge_in")
    strategy = barge_in.get("strategy") if isinstance(barge_in, Mapping) else None
    return str(strategy or "default")


def _ended(result: TurnResult) -> bool:
    from action_server.dialogue.engine import ENDED_TEXT

    if any(event.get("event") == "session_ended" for event in result.events):
        return True
    # The engine answers messages to an ended conversation with this text and no events.
    return not result.events and any(m.get("text") == ENDED_TEXT for m in result.messages)


# --- the channel --------------------------------------------------------------------------------


@dataclass
class _Answer:
    """A turn's actions, and what the channel must remember about them."""

    actions: list[dict[str, Any]]
    fallback_text: str | None = None
    transfer_resolved: bool = False  # a failed transfer was handled: forget it


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
        return await self._respond(parse_event(data), deliver_all=True)

    async def handle_http(self, data: Any) -> list[dict[str, Any]]:
        """The actions to answer one event with now: all with ``action_arrays``, else <= 1.

        Without arrays the rest waits in the store for the next assistant event.
        """
        return await self._respond(parse_event(data), deliver_all=self.config.action_arrays)

    # -- events

    async def _respond(self, event: Any, deliver_all: bool) -> list[dict[str, Any]]:
        if isinstance(event, IgnoredEvent):
            logger.info("session %s: ignoring event type '%s'", event.session_id, event.type)
            return []
        session_id = event.session.id
        if event.type in ("assistant_speak", "assistant_speech_ended"):
            return await self._assistant_event(session_id, event.type == "assistant_speech_ended")
        if event.type == "user_speech_started":
            return []
        if event.type == "session_end":
            await self._guard(session_id, self._session_end(session_id))
            return []
        voice = await self._voice(session_id)
        outstanding = voice.get("transfer")
        if outstanding is not None and event.type == "session_start":
            answer = await self._guard(session_id, self._transfer_failed(event, voice))
        elif outstanding is not None and event.type in _USER_INPUT:
            # The caller spoke while the transfer was announced or connecting: it goes on.
            pending = voice.get("pending") or []
            transfers = [a for a in pending if a.get("type") == "transfer"][:1]
            answer = _Answer(transfers, fallback_text=voice.get("transfer_fallback"))
        else:
            answer = await self._guard(session_id, self._dispatch(event))
            if event.type in _USER_INPUT and voice.get("speaking") == "manual":
                answer.actions.insert(0, BargeInAction(session_id=session_id).to_json())
        now = answer.actions if deliver_all else answer.actions[:1]
        later = [] if deliver_all else answer.actions[1:]
        await self._remember(session_id, answer, now, later)
        return now

    async def _dispatch(self, event: Any) -> _Answer:
        if event.type == "session_start":
            return await self._session_start(event)
        if event.type == "user_speak":
            return await self._user_input(event, event.text, {"barged_in": event.barged_in})
        if event.type == "dtmf_received":
            return await self._user_input(event, event.digit, {"dtmf": event.digit})
        if event.type == "user_input_timeout":
            return await self._input_timeout(event)
        return _Answer([])

    async def _guard(self, session_id: str, work: Any) -> Any:
        try:
            return await work
        except ConversationLockTimeout as exc:
            raise VoiceChannelError(str(exc), 503) from exc
        except ConversationStoreError as exc:
            logger.error("session %s: %s", session_id, exc)
            raise VoiceChannelError(f"session '{session_id}': {exc}") from exc

    async def _session_start(self, event: Any) -> _Answer:
        if self.config.start_flow is None:
            return _Answer([])
        result = await self.engine.start_flow(event.session.id, self.config.start_flow)
        await self._update_voice(
            event.session.id,
            lambda voice: voice.__setitem__("session", event.session.model_dump(exclude_none=True)),
        )
        return self._answer(event, result)

    async def _user_input(self, event: Any, text: str, extra: dict[str, Any]) -> _Answer:
        too_long = message_too_long(text, "text")
        if too_long is not None:
            raise VoiceEventError(f"event '{event.type}': {too_long}")
        metadata = {
            "input_channel": INPUT_CHANNEL,
            METADATA_KEY: {"session": event.session.model_dump(exclude_none=True), **extra},
        }
        result = await self.engine.handle(event.session.id, text, metadata)
        return self._answer(event, result)

    async def _input_timeout(self, event: Any) -> _Answer:
        session_id = event.session.id
        if self.config.timeout_flow is not None:
            result = await self.engine.start_flow(session_id, self.config.timeout_flow)
            return self._answer(event, result)
        question = await self._repeat_question(session_id)
        if question is None:
            return _Answer([])
        return _Answer(
            voice_actions(
                session_id,
                [question],
                user_input_timeout_seconds=self.config.user_input_timeout_seconds,
            )
        )

    async def _transfer_failed(self, event: Any, voice: dict[str, Any]) -> _Answer:
        """sipgate restarted the session after a failed transfer: the conversation goes on."""
        from action_server.dialogue import flow_events

        session_id = event.session.id
        message = {"text": voice.get("transfer_fallback") or DEFAULT_TRANSFER_FALLBACK}
        store = self.engine.store
        async with store.lock(session_id):
            state = await store.load(session_id)
            if state is not None:
                state.ended = False
                state.stack = []
                state.events.append(flow_events.bot_uttered(message))
                await store.save(state)
        actions = voice_actions(
            session_id,
            [message],
            user_input_timeout_seconds=self.config.user_input_timeout_seconds,
        )
        return _Answer(actions, transfer_resolved=True)

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
            voice = state.metadata.get(METADATA_KEY, {})
            for key in ("pending", "transfer", "transfer_fallback", "speaking"):
                voice.pop(key, None)
            if not state.ended:
                state.ended = True
                state.stack = []
                state.events.append(flow_events.session_ended("session_end"))
            await store.save(state)

    def _answer(self, event: Any, result: TurnResult) -> _Answer:
        actions = voice_actions(
            event.session.id,
            result.messages,
            ended=_ended(result),
            user_input_timeout_seconds=self.config.user_input_timeout_seconds,
            session=event.session.model_dump(exclude_none=True),
        )
        return _Answer(actions, fallback_text=transfer_fallback(result.messages))

    # -- what the channel remembers between events (in the store, for any replica)

    async def _voice(self, session_id: str) -> dict[str, Any]:
        state = await self._guard(session_id, self.engine.store.load(session_id))
        if state is None:
            return {}
        voice: dict[str, Any] = state.metadata.get(METADATA_KEY) or {}
        return voice

    async def _remember(
        self,
        session_id: str,
        answer: _Answer,
        now: list[dict[str, Any]],
        later: list[dict[str, Any]],
    ) -> None:
        transfer = next((a for a in answer.actions if a.get("type") == "transfer"), None)

        def record(voice: dict[str, Any]) -> None:
            _set_or_drop(voice, "pending", later)
            if answer.transfer_resolved:
                voice.pop("transfer", None)
                voice.pop("transfer_fallback", None)
            if transfer is not None:
                voice["transfer"] = transfer
                _set_or_drop(voice, "transfer_fallback", answer.fallback_text)
            _note_speech(voice, now)

        await self._update_voice(session_id, record)

    async def _assistant_event(self, session_id: str, speech_ended: bool) -> list[dict[str, Any]]:
        """Speech started/ended: deliver the next pending action (HTTP), track what plays."""

        def pop(voice: dict[str, Any]) -> list[dict[str, Any]]:
            if speech_ended:
                voice.pop("speaking", None)
            pending = voice.get("pending") or []
            if not pending or (pending[0].get("type") in _CALL_ENDING and not speech_ended):
                return []
            action: dict[str, Any] = pending.pop(0)
            _set_or_drop(voice, "pending", pending)
            _note_speech(voice, [action])
            return [action]

        return await self._update_voice(session_id, pop) or []

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


def _set_or_drop(voice: dict[str, Any], key: str, value: Any) -> None:
    if value:
        voice[key] = value
    else:
        voice.pop(key, None)


def _note_speech(voice: dict[str, Any], sent: list[dict[str, Any]]) -> None:
    """Remember the barge-in strategy of the last speech sent (``manual`` needs ``barge_in``)."""
    for action in reversed(sent):
        if action.get("type") in ("speak", "audio"):
            voice["speaking"] = _speech_strategy(action)
            return


# --- HTTP and WebSocket --------------------------------------------------------------------------


def _decode(raw: bytes | str | None, what: str = "the body") -> Any:
    if not raw:
        raise VoiceEventError(f"{what} is empty: send one JSON event")
    try:
        return decode_json(raw)
    except JsonInputError as exc:
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
        actions, error, status = await _guarded(lambda: channel.handle_http(data), "voice webhook")
        if error is not None:
            return json_response({"error": error}, status)
        if not actions:
            return HTTPResponse(status=204)
        return json_response(actions[0] if len(actions) == 1 else actions)

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
            if channel.config.action_arrays and len(actions) > 1:
                await ws.send(orjson.dumps(actions).decode())
                continue
            for action in actions:
                await ws.send(orjson.dumps(action).decode())

    blueprint.add_route(webhook, "", methods=["POST"], name="webhook")
    blueprint.add_route(health, "", methods=["GET"], name="health")
    blueprint.add_websocket_route(websocket, "/ws", name="websocket")
    return blueprint
