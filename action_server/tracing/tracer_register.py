"""The tracer the instrumented executor uses, for code that adds its own spans under it."""

from __future__ import annotations

from opentelemetry.trace import Tracer

from action_server.utils import Singleton

__all__ = ["ActionExecutorTracerRegister"]


class ActionExecutorTracerRegister(metaclass=Singleton):
    """One per process: set by `instrumentation.instrument`."""

    tracer: Tracer | None = None

    def register_tracer(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def get_tracer(self) -> Tracer | None:
        return self.tracer
