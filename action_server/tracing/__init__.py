"""OpenTelemetry tracing at rasa-sdk's path (`rasa_sdk.tracing`).

The `tracing:` section of endpoints.yml (`type: otlp` or `type: jaeger`, which exports over
OTLP as rasa-sdk does) configures a `TracerProvider` (`config`); `instrumentation` then wraps
the executor and the validation actions so each action run is a span with rasa-sdk's span
names and attribute names; `utils` starts the transport's spans and reads the caller's trace
context.
"""
