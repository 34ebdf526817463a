"""The gRPC action service Rasa Pro calls when `action_endpoint.url` is `grpc://host:port`.

rasa-sdk's service and names (`GRPCActionServerWebhook`, `run_grpc`): the `Webhook`,
`WebhookStream`, `AckStreamChunks` and `Actions` RPCs of `action_server_webhook.ActionService`,
plus the standard gRPC health service (service name `ActionServer`), over TLS when given a
certificate (and mutual TLS with a CA file). Calls run through `ActionExecutor.execute`, as
over HTTP; failures become a status code with rasa-sdk's JSON details (`grpc_errors`), and an
action's own exception is logged, never echoed to the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from action_server.constants import (
    ACTION_SERVER_STREAM_BARGE_IN_TIMEOUT_SECONDS_ENV_VAR,
    DEFAULT_ENDPOINTS_PATH,
    DEFAULT_SERVER_PORT,
    DEFAULT_STREAM_BARGE_IN_TIMEOUT_SECONDS,
    NO_GRACE_PERIOD,
)
from action_server.exceptions import ActionFailed, ActionTimeout, InvalidActionCall
from action_server.executor import ActionExecutor, ActionExecutorRunResult, CollectingDispatcher
from action_server.grpc_errors import ActionExecutionFailed, ResourceNotFound, ResourceNotFoundType
from action_server.grpc_py import action_webhook_pb2, action_webhook_pb2_grpc, webhook_views_pb2
from action_server.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from action_server.interfaces.raw_events import RawEvents
from action_server.server.errors import ActionError, map_action_exception, unexpected_error
from action_server.server.wire import DomainCache
from action_server.tracing.utils import (
    TracerProvider,
    get_tracer_and_context,
    get_tracer_provider,
    set_span_attributes,
)
from action_server.utils import file_as_bytes, number_of_sanic_workers

__all__ = ["GRPC_ACTION_SERVER_NAME", "GRPCActionServerWebhook", "run_grpc"]

logger = logging.getLogger(__name__)

GRPC_ACTION_SERVER_NAME = "ActionServer"
# The largest request, as the HTTP server's default --max-body-size.
DEFAULT_MAX_MESSAGE_SIZE = 100_000_000
# Our HTTP error kinds (server/errors.py) as gRPC status codes. NOT_FOUND (action or domain)
# and INTERNAL (rejection) are what Rasa Pro reads; a failed action is UNKNOWN, as when
# rasa-sdk lets the exception escape, but without its text.
_STATUS_OF_KIND = {
    "not_found": grpc.StatusCode.NOT_FOUND,
    "missing_domain": grpc.StatusCode.NOT_FOUND,
    "rejected": grpc.StatusCode.INTERNAL,
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
    "timeout": grpc.StatusCode.DEADLINE_EXCEEDED,
    "failed": grpc.StatusCode.UNKNOWN,
}
# What the executor raises itself; anything else from `ActionExecutor.run` is the action's own.
_TYPED_ERRORS = (
    ActionNotFoundException,
    ActionExecutionRejection,
    ActionMissingDomainException,
    InvalidActionCall,
    ActionTimeout,
    ActionFailed,
)
_CHUNK_FIELDS = ("text", "image", "custom", "attachment", "buttons", "elements")
_STRUCT = struct_pb2.Struct.DESCRIPTOR
_parse_struct = struct_pb2.Struct.FromString
_DOMAINS = DomainCache()
# The view's domain arrives as its serialized bytes: converted once per distinct domain.
_DOMAIN_BYTES = webhook_views_pb2.WebhookRequestView.DESCRIPTOR.fields_by_name["domain"]
_TRACKER_EVENTS = frozenset(
    {
        action_webhook_pb2.Tracker.DESCRIPTOR.fields_by_name["events"],
        webhook_views_pb2.TrackerView.DESCRIPTOR.fields_by_name["events"],
    }
)


# --- protobuf <-> the action call's JSON ------------------------------------------------------


def _value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return _struct(value.struct_value)
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None


def _struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    fields = struct.fields
    return {key: _value(fields[key]) for key in fields}


def message_to_dict(message: Any) -> dict[str, Any]:
    """The set fields of a message as JSON, keyed by proto field name.

    The same dict as `json_format.MessageToDict(message, preserving_proto_field_name=True)`
    for the messages of our proto (no int64, enum or bytes fields), at a fraction of the cost:
    Structs are walked directly. A tracker's `events` become `StructEvents`, the same list
    once read.
    """
    result: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field in _TRACKER_EVENTS:
            result["events"] = StructEvents(value)
        elif field is _DOMAIN_BYTES:
            result["domain"] = _DOMAINS.get(value, _decode_domain)
        elif field.message_type is None:
            result[field.name] = value
        elif field.message_type is _STRUCT:
            result[field.name] = (
                [_struct(item) for item in value] if _is_repeated(field) else _struct(value)
            )
        elif field.message_type.GetOptions().map_entry:
            result[field.name] = dict(value)
        elif _is_repeated(field):
            result[field.name] = [message_to_dict(item) for item in value]
        else:
            result[field.name] = message_to_dict(value)
    return result


class StructEvents(RawEvents):
    """A tracker's events as the request's repeated Structs, converted only when read.

    As over HTTP (`RawEvents`), most actions never read `tracker.events`, and converting
    2,000 events costs far more than running the action.
    """

    __slots__ = ("_structs",)

    def __init__(self, structs: Any) -> None:
        super().__init__(b"")
        self._structs = structs

    @property
    def nbytes(self) -> int:
        return sum(len(i) if isinstance(i, bytes) else i.ByteSize() for i in self._structs)

    def decode(self) -> list[dict[str, Any]]:
        return [
            _struct(_parse_struct(item) if isinstance(item, bytes) else item)
            for item in self._structs
        ]

    def __repr__(self) -> str:
        return f"<StructEvents {len(self._structs)} events>"


def action_call_from_request(request: Any) -> dict[str, Any]:
    """The action call of a `WebhookRequest`, the tracker's events left as Structs until an
    action reads them, the domain converted once per distinct domain (as over HTTP)."""
    return message_to_dict(request)


def _decode_domain(raw: bytes) -> dict[str, Any]:
    return message_to_dict(action_webhook_pb2.Domain.FromString(raw))


def _is_repeated(field: Any) -> bool:
    return bool(field.is_repeated)


def webhook_response(result: dict[str, Any]) -> action_webhook_pb2.WebhookResponse:
    """`{"events", "responses"}` as a `WebhookResponse` (each item one Struct)."""
    response = action_webhook_pb2.WebhookResponse()
    for event in result["events"]:
        response.events.add().update(event)
    for message in result["responses"]:
        response.responses.add().update(message)
    return response


# --- the service ------------------------------------------------------------------------------


def _barge_in_timeout(timeout_seconds: float | None) -> float:
    """An explicit timeout, else the environment's, else the default (30 s)."""
    if timeout_seconds is not None:
        return timeout_seconds
    raw = os.getenv(ACTION_SERVER_STREAM_BARGE_IN_TIMEOUT_SECONDS_ENV_VAR)
    if raw is None:
        return DEFAULT_STREAM_BARGE_IN_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value > 0:
        return value
    logger.warning(
        "Environment variable '%s' must be a positive number of seconds ('%s'); using %ss.",
        ACTION_SERVER_STREAM_BARGE_IN_TIMEOUT_SECONDS_ENV_VAR,
        raw,
        DEFAULT_STREAM_BARGE_IN_TIMEOUT_SECONDS,
    )
    return DEFAULT_STREAM_BARGE_IN_TIMEOUT_SECONDS


def _metadata(context: aio.ServicerContext) -> dict[str, str] | None:
    metadata = context.invocation_metadata()
    if not metadata:
        return None
    return {str(key): str(value) for key, value in metadata}


def _error_details(error: ActionError) -> str:
    """rasa-sdk's JSON details for the status Rasa Pro acts on; ours for the others."""
    action_name = error.body.get("action_name", "")
    message = error.body["error"]
    if error.kind in ("not_found", "missing_domain"):
        kind = (
            ResourceNotFoundType.ACTION
            if error.kind == "not_found"
            else ResourceNotFoundType.DOMAIN
        )
        return ResourceNotFound(
            action_name=action_name, message=message, resource_type=kind
        ).model_dump_json()
    return ActionExecutionFailed(action_name=action_name, message=message).model_dump_json()


class GRPCActionServerWebhook(action_webhook_pb2_grpc.ActionServiceServicer):
    """The action service: runs each call through the executor."""

    def __init__(
        self,
        executor: ActionExecutor,
        auto_reload: bool = False,
        tracer_provider: TracerProvider | None = None,
        stream_barge_in_timeout_seconds: float | None = None,
    ) -> None:
        self.executor = executor
        self.auto_reload = auto_reload
        self.tracer_provider = tracer_provider
        self._stream_barge_in_timeout_seconds = _barge_in_timeout(stream_barge_in_timeout_seconds)
        # response_id -> the dispatcher of a running stream, for AckStreamChunks (barge-in).
        self._dispatcher_registry: dict[str, CollectingDispatcher] = {}

    def _fail(
        self, context: aio.ServicerContext, exc: Exception, action_call: dict[str, Any]
    ) -> ActionError:
        action_name = action_call.get("next_action", "")
        sender_id = action_call.get("tracker", {}).get("sender_id")
        error = map_action_exception(exc, action_name, sender_id) or unexpected_error(
            exc, action_name, sender_id
        )
        context.set_code(_STATUS_OF_KIND.get(error.kind, grpc.StatusCode.UNKNOWN))
        context.set_details(_error_details(error))
        return error

    async def Actions(  # noqa: N802 (the RPC's name)
        self, request: action_webhook_pb2.ActionsRequest, context: aio.ServicerContext
    ) -> action_webhook_pb2.ActionsResponse:
        if self.auto_reload:
            self.executor.reload()
        response = action_webhook_pb2.ActionsResponse()
        for name in self.executor.actions:
            response.actions.add().update({"name": name})
        return response

    async def Webhook(  # noqa: N802
        self, request: action_webhook_pb2.WebhookRequest, context: aio.ServicerContext
    ) -> action_webhook_pb2.WebhookResponse:
        span_name = "GRPCActionServerWebhook.Webhook"
        tracer, tracing_context = get_tracer_and_context(
            span_name, self.tracer_provider, _metadata(context)
        )
        with tracer.start_as_current_span(span_name, context=tracing_context) as span:
            if self.auto_reload:
                self.executor.reload()
            action_call: dict[str, Any] = {"next_action": request.next_action}
            try:
                action_call = action_call_from_request(request)
                if not action_call.get("next_action"):
                    # rasa-sdk answers an empty response to a call without an action.
                    logger.warning("Received an action call without an action.")
                    return action_webhook_pb2.WebhookResponse()
                result = await self.executor.execute(action_call)
                response = webhook_response(result)
            except Exception as exc:
                self._fail(context, exc, action_call)
                return action_webhook_pb2.WebhookResponse()
            _set_grpc_span_attributes(span, action_call, "Webhook")
            return response

    async def WebhookStream(  # noqa: N802
        self, request: action_webhook_pb2.WebhookRequest, context: aio.ServicerContext
    ) -> AsyncIterator[action_webhook_pb2.WebhookStreamEvent]:
        """chunk_start, chunk..., chunk_end as the action streams, then final_result (or one
        error event with the status set). A barge-in (AckStreamChunks) drops later chunks and
        still sends the final result, waiting at most the barge-in timeout."""
        span_name = "GRPCActionServerWebhook.WebhookStream"
        tracer, tracing_context = get_tracer_and_context(
            span_name, self.tracer_provider, _metadata(context)
        )
        with tracer.start_as_current_span(span_name, context=tracing_context) as span:
            if self.auto_reload:
                self.executor.reload()
            action_call = action_call_from_request(request)
            action_name = action_call.get("next_action", "")
            sink: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            dispatcher = CollectingDispatcher()

            async def run() -> None:
                try:
                    result = await self.executor.run(action_call, sink=sink, dispatcher=dispatcher)
                    if result is None:
                        await sink.put({"event": "stream_done", "result": None})
                except Exception:  # noqa: S110 - run() already put stream_error in the sink
                    pass

            task = asyncio.ensure_future(run())
            response_id = ""
            deadline: float | None = None
            try:
                while True:
                    item = await sink.get()
                    kind = item.get("event")
                    if kind not in ("stream_done", "stream_error"):
                        if dispatcher.is_streaming_cancelled:
                            deadline = time.monotonic() + self._stream_barge_in_timeout_seconds
                            async for event in self._drain(sink, action_name, context, deadline):
                                yield event
                            _set_grpc_span_attributes(span, action_call, "WebhookStream")
                            break
                        if context.cancelled():
                            break
                    if kind == "stream_start":
                        if response_id:
                            self._dispatcher_registry.pop(response_id, None)
                        response_id = uuid.uuid4().hex
                        self._dispatcher_registry[response_id] = dispatcher
                        yield action_webhook_pb2.WebhookStreamEvent(
                            chunk_start=action_webhook_pb2.ChunkStart(response_id=response_id)
                        )
                    elif kind == "stream_chunk":
                        yield _chunk_event(item, response_id)
                    elif kind == "stream_end":
                        self._dispatcher_registry.pop(response_id, None)
                        yield action_webhook_pb2.WebhookStreamEvent(
                            chunk_end=action_webhook_pb2.ChunkEnd(response_id=response_id)
                        )
                    elif kind == "stream_done":
                        final = _final_event(item.get("result"))
                        if final is not None and not context.cancelled():
                            yield final
                        _set_grpc_span_attributes(span, action_call, "WebhookStream")
                        break
                    elif kind == "stream_error":
                        if not context.cancelled():
                            yield self._error_event(context, item["exception"], action_call)
                        break
            finally:
                self._dispatcher_registry.pop(response_id, None)
                if not task.done():
                    if deadline is not None:
                        await _finish_within(task, action_name, deadline)
                    else:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task

    async def _drain(
        self,
        sink: asyncio.Queue[dict[str, Any]],
        action_name: str,
        context: aio.ServicerContext,
        deadline: float,
    ) -> AsyncIterator[action_webhook_pb2.WebhookStreamEvent]:
        """After a barge-in: drop chunks until the result, which is still sent."""
        while not context.cancelled():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = await asyncio.wait_for(sink.get(), timeout=remaining)
            except asyncio.TimeoutError:
                break
            kind = item.get("event")
            if kind == "stream_done":
                final = _final_event(item.get("result"))
                if final is not None:
                    yield final
                return
            if kind == "stream_error":
                yield self._error_event(context, item["exception"], {"next_action": action_name})
                return
        else:
            return
        logger.warning(
            "Action '%s' did not finish within the barge-in timeout; answering an empty result.",
            action_name,
        )
        yield action_webhook_pb2.WebhookStreamEvent(
            final_result=action_webhook_pb2.WebhookResponse()
        )

    def _error_event(
        self, context: aio.ServicerContext, exc: Exception, action_call: dict[str, Any]
    ) -> action_webhook_pb2.WebhookStreamEvent:
        """A stream's failure. `ActionExecutor.run` raised it (rasa-sdk's API), which lets an
        action's own exception out as itself: anything untyped is the action's."""
        action_name = action_call.get("next_action", "")
        if not isinstance(exc, _TYPED_ERRORS):
            sender_id = action_call.get("tracker", {}).get("sender_id")
            exc = ActionFailed(action_name, exc, sender_id=sender_id)
        error = self._fail(context, exc, action_call)
        return action_webhook_pb2.WebhookStreamEvent(
            error=action_webhook_pb2.StreamError(
                action_name=action_call.get("next_action", ""), message=error.body["error"]
            )
        )

    async def AckStreamChunks(  # noqa: N802
        self, request: action_webhook_pb2.StreamChunkAck, context: aio.ServicerContext
    ) -> empty_pb2.Empty:
        """The client's barge-in: the stream with this response id drops its later chunks."""
        dispatcher = self._dispatcher_registry.get(request.response_id)
        if dispatcher is not None:
            dispatcher.cancel_stream()
        else:
            logger.debug("AckStreamChunks: no active stream '%s'.", request.response_id)
        return empty_pb2.Empty()


def _chunk_event(chunk: dict[str, Any], response_id: str) -> action_webhook_pb2.WebhookStreamEvent:
    """One streamed chunk; keys the Chunk message has no field for are dropped."""
    message = action_webhook_pb2.Chunk(response_id=response_id)
    for key in _CHUNK_FIELDS:
        if key not in chunk:
            continue
        value = chunk[key]
        if key == "custom":
            message.custom.update(value)
        elif key in ("buttons", "elements"):
            for item in value:
                getattr(message, key).add().update(item)
        else:
            setattr(message, key, value)
    return action_webhook_pb2.WebhookStreamEvent(chunk=message)


def _final_event(
    result: ActionExecutorRunResult | None,
) -> action_webhook_pb2.WebhookStreamEvent | None:
    if not result:
        return None
    answer = {"events": result.events, "responses": result.responses}
    return action_webhook_pb2.WebhookStreamEvent(final_result=webhook_response(answer))


async def _finish_within(task: asyncio.Future[Any], action_name: str, deadline: float) -> None:
    """Let a barged-in action finish until `deadline`, then cancel it."""
    try:
        await asyncio.wait_for(task, timeout=max(deadline - time.monotonic(), 0.0))
    except asyncio.TimeoutError:
        logger.warning(
            "Action '%s' did not finish within the barge-in timeout; cancelling it.", action_name
        )
    except asyncio.CancelledError:
        pass


def _set_grpc_span_attributes(span: Any, action_call: dict[str, Any], method_name: str) -> None:
    set_span_attributes(span, action_call)
    if span.is_recording():
        span.set_attribute("grpc.method", method_name)


# --- the server -------------------------------------------------------------------------------


def _add_action_service(servicer: GRPCActionServerWebhook, server: aio.Server) -> None:
    """The generated registration, except that calls parse as `WebhookRequestView`: the same
    bytes, with the tracker's events left undecoded (see webhook_views.proto)."""
    view = webhook_views_pb2.WebhookRequestView.FromString
    handlers = {
        "Webhook": grpc.unary_unary_rpc_method_handler(
            servicer.Webhook,
            request_deserializer=view,
            response_serializer=action_webhook_pb2.WebhookResponse.SerializeToString,
        ),
        "WebhookStream": grpc.unary_stream_rpc_method_handler(
            servicer.WebhookStream,
            request_deserializer=view,
            response_serializer=action_webhook_pb2.WebhookStreamEvent.SerializeToString,
        ),
        "AckStreamChunks": grpc.unary_unary_rpc_method_handler(
            servicer.AckStreamChunks,
            request_deserializer=action_webhook_pb2.StreamChunkAck.FromString,
            response_serializer=empty_pb2.Empty.SerializeToString,
        ),
        "Actions": grpc.unary_unary_rpc_method_handler(
            servicer.Actions,
            request_deserializer=action_webhook_pb2.ActionsRequest.FromString,
            response_serializer=action_webhook_pb2.ActionsResponse.SerializeToString,
        ),
    }
    service = action_webhook_pb2.DESCRIPTOR.services_by_name["ActionService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))


def _add_port(
    server: aio.Server,
    host: str,
    port: int,
    certificate: bytes | None,
    key: bytes | None,
    ca_certificate: bytes | None,
) -> int:
    address = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    if certificate and key:
        logger.info("Starting gRPC server with TLS on %s", address)
        credentials = grpc.ssl_server_credentials(
            [(key, certificate)],
            root_certificates=ca_certificate,
            require_client_auth=bool(ca_certificate),
        )
        bound = server.add_secure_port(address, credentials)
    else:
        logger.info("Starting gRPC server without TLS on %s", address)
        bound = server.add_insecure_port(address)
    if not bound:
        raise OSError(f"Cannot listen on {address} for gRPC")
    return int(bound)


def create_grpc_server(
    action_executor: ActionExecutor,
    port: int = DEFAULT_SERVER_PORT,
    *,
    host: str = "[::]",
    max_number_of_workers: int = 10,
    ssl_server_cert: bytes | None = None,
    ssl_server_cert_key: bytes | None = None,
    ssl_ca_cert: bytes | None = None,
    auto_reload: bool = False,
    tracer_provider: TracerProvider | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> tuple[aio.Server, int]:
    """The gRPC server with the health and action services, and the port it bound.

    `max_message_size` bounds a request as `--max-body-size` bounds an HTTP body (gRPC's own
    default, 4 MB, is less than a long conversation's tracker).
    """
    server = aio.server(
        futures.ThreadPoolExecutor(max_workers=max_number_of_workers),
        compression=grpc.Compression.Gzip,
        options=[("grpc.max_receive_message_length", max_message_size)],
    )
    health_servicer = health.HealthServicer(
        experimental_non_blocking=True,
        experimental_thread_pool=futures.ThreadPoolExecutor(max_workers=2),
    )
    health_servicer.set(GRPC_ACTION_SERVER_NAME, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    _add_action_service(
        GRPCActionServerWebhook(action_executor, auto_reload, tracer_provider), server
    )
    bound = _add_port(
        server, host.strip("[]") or "::", port, ssl_server_cert, ssl_server_cert_key, ssl_ca_cert
    )
    return server, bound


async def run_grpc(
    action_executor: ActionExecutor,
    port: int = DEFAULT_SERVER_PORT,
    ssl_server_cert_path: str | None = None,
    ssl_server_cert_key_file_path: str | None = None,
    ssl_ca_file_path: str | None = None,
    auto_reload: bool = False,
    endpoints: str = DEFAULT_ENDPOINTS_PATH,
    *,
    host: str = "[::]",
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
) -> None:
    """Serve the action service until SIGINT or SIGTERM (rasa-sdk's signature, plus `host`
    and `max_message_size`)."""
    server, bound = create_grpc_server(
        action_executor,
        port,
        host=host,
        max_number_of_workers=number_of_sanic_workers(),
        ssl_server_cert=file_as_bytes(ssl_server_cert_path) if ssl_server_cert_path else None,
        ssl_server_cert_key=(
            file_as_bytes(ssl_server_cert_key_file_path) if ssl_server_cert_key_file_path else None
        ),
        ssl_ca_cert=file_as_bytes(ssl_ca_file_path) if ssl_ca_file_path else None,
        auto_reload=auto_reload,
        tracer_provider=get_tracer_provider(endpoints),
        max_message_size=max_message_size,
    )
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(
            signal_number, lambda: asyncio.ensure_future(server.stop(NO_GRACE_PERIOD))
        )
    await server.start()
    logger.info("gRPC Server started on port %d", bound)
    await server.wait_for_termination()
    action_executor.close()
