"""The `tracing:` section of endpoints.yml as a `TracerProvider`.

`type: otlp` exports to `endpoint` (gRPC; `insecure`, `root_certificates`); `type: jaeger`
exports over OTLP to `host`:`port` (rasa-sdk dropped the Jaeger thrift exporter the same way),
with `username`/`password` as basic auth. `service_name` names the service (default from
`RASA_SDK_TRACING_SERVICE_NAME`, else `action_server`).
"""

from __future__ import annotations

import base64
import logging
import os

import grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from action_server.executor import ActionExecutor
from action_server.forms import FormValidationAction, ValidationAction
from action_server.tracing.endpoints import EndpointConfig, read_endpoint_config
from action_server.tracing.instrumentation import instrumentation

__all__ = [
    "ENDPOINTS_TRACING_KEY",
    "JaegerTracerConfigurer",
    "OTLPCollectorConfigurer",
    "TracerConfigurer",
    "configure_tracing",
    "get_tracer_provider",
]

TRACING_SERVICE_NAME = os.environ.get("RASA_SDK_TRACING_SERVICE_NAME", "action_server")
ENDPOINTS_TRACING_KEY = "tracing"
ENDPOINTS_TRACING_SERVICE_NAME_KEY = "service_name"

logger = logging.getLogger(__name__)


def configure_tracing(tracer_provider: TracerProvider | None) -> None:
    """Instrument the executor and validation actions (once), if there is a provider."""
    if tracer_provider is None:
        return
    instrumentation.instrument(
        tracer_provider=tracer_provider,
        action_executor_class=ActionExecutor,
        validation_action_class=ValidationAction,
        form_validation_action_class=FormValidationAction,
    )


def get_tracer_provider(endpoints_file: str) -> TracerProvider | None:
    """The provider of the file's `tracing:` section; None without one or for an unknown type."""
    cfg = read_endpoint_config(endpoints_file, ENDPOINTS_TRACING_KEY)
    if not cfg:
        logger.debug("No tracing endpoint in %s; tracing is off.", endpoints_file)
        return None
    if cfg.type == "jaeger":
        return JaegerTracerConfigurer.configure_from_endpoint_config(cfg)
    if cfg.type == "otlp":
        return OTLPCollectorConfigurer.configure_from_endpoint_config(cfg)
    logger.warning("Unknown tracing type %s in %s; tracing is off.", cfg.type, endpoints_file)
    return None


def _provider(cfg: EndpointConfig) -> TracerProvider:
    name = cfg.kwargs.get(ENDPOINTS_TRACING_SERVICE_NAME_KEY, TRACING_SERVICE_NAME)
    return TracerProvider(resource=Resource.create({SERVICE_NAME: name}))


class TracerConfigurer:
    """Builds the provider of one backend type from its endpoint section."""

    @classmethod
    def configure_from_endpoint_config(cls, cfg: EndpointConfig) -> TracerProvider:
        raise NotImplementedError


class JaegerTracerConfigurer(TracerConfigurer):
    """`type: jaeger`: OTLP over gRPC to the Jaeger collector at `host`:`port`."""

    @classmethod
    def configure_from_endpoint_config(cls, cfg: EndpointConfig) -> TracerProvider:
        host = cfg.kwargs.get("host", "localhost")
        port = cfg.kwargs.get("port", 6831)
        endpoint = f"http://{host}:{port}"
        headers = None
        username, password = cfg.kwargs.get("username"), cfg.kwargs.get("password")
        if username and password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers = [("authorization", f"Basic {token}")]
        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers)
        provider = _provider(cfg)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        logger.info("Tracing: spans are exported over OTLP to %s (type jaeger).", endpoint)
        return provider


class OTLPCollectorConfigurer(TracerConfigurer):
    """`type: otlp`: an OTLP collector at `endpoint`, over TLS unless `insecure`."""

    @classmethod
    def configure_from_endpoint_config(cls, cfg: EndpointConfig) -> TracerProvider:
        insecure = cfg.kwargs.get("insecure")
        credentials = None
        if not insecure and "root_certificates" in cfg.kwargs:
            with open(cfg.kwargs["root_certificates"], "rb") as handle:
                credentials = grpc.ssl_channel_credentials(root_certificates=handle.read())
        exporter = OTLPSpanExporter(
            endpoint=cfg.kwargs["endpoint"], insecure=insecure, credentials=credentials
        )
        provider = _provider(cfg)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        logger.info("Tracing: spans are exported over OTLP to %s.", cfg.kwargs["endpoint"])
        return provider
