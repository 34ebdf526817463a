"""Replace the traced methods by wrappers that open a span around them.

`ActionExecutor.run` and `ActionExecutor.execute` (the transports' path) both open the span
rasa-sdk names `ActionExecutor.run`; `_create_api_response` one with the result's summary;
`ValidationAction.run` and `_extract_validation_events` of validation and form validation
actions one each. Instrumenting a class twice changes nothing.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

from action_server.executor import ActionExecutor
from action_server.forms import FormValidationAction, ValidationAction
from action_server.tracing.instrumentation import attribute_extractors as extract
from action_server.tracing.tracer_register import ActionExecutorTracerRegister

__all__ = [
    "class_is_instrumented",
    "instrument",
    "mark_class_as_instrumented",
    "traceable",
    "traceable_async",
]

logger = logging.getLogger(__name__)

INSTRUMENTED_BOOLEAN_ATTRIBUTE_NAME = "class_has_been_instrumented"


def _span_name(instance: Any, method: str) -> str:
    cls = type(instance)
    if isinstance(instance, FormValidationAction):
        return f"FormValidationAction.{cls.__name__}.{method}"
    if isinstance(instance, ValidationAction):
        return f"ValidationAction.{cls.__name__}.{method}"
    return f"{cls.__name__}.{method}"


def traceable_async(
    fn: Callable[..., Any],
    tracer: Tracer,
    attr_extractor: Callable[..., dict[str, Any]] | None,
) -> Callable[..., Any]:
    """Wrap an async method in a span named after the class and method (rasa-sdk's names),
    with the attributes `attr_extractor(self, *args, **kwargs)` returns."""
    return _traced_async(fn, tracer, attr_extractor, fn.__name__)


def traceable(
    fn: Callable[..., Any],
    tracer: Tracer,
    attr_extractor: Callable[..., dict[str, Any]] | None,
) -> Callable[..., Any]:
    """Wrap a plain method in a span named `<class>.<method>`."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        attributes = attr_extractor(self, *args, **kwargs) if attr_extractor else {}
        with tracer.start_as_current_span(
            f"{type(self).__name__}.{fn.__name__}", attributes=attributes
        ):
            return fn(self, *args, **kwargs)

    return wrapper


def _traced_async(
    fn: Callable[..., Any],
    tracer: Tracer,
    extractor: Callable[..., dict[str, Any]] | None,
    name: str,
) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        attributes = extractor(self, *args, **kwargs) if extractor else {}
        with tracer.start_as_current_span(_span_name(self, name), attributes=attributes):
            return await fn(self, *args, **kwargs)

    return wrapper


def _traced_api_response(fn: Callable[..., Any], tracer: Tracer) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(self: Any, events: Any, messages: Any) -> Any:
        attributes = extract.extract_attrs_for_action_executor_create_api_response(events, messages)
        with tracer.start_as_current_span(
            f"{type(self).__name__}._create_api_response", attributes=attributes
        ):
            return fn(events, messages)

    return wrapper


# The validation action whose `_extract_validation_events` span is open: our form validation
# calls the base class's method, which must not open a second span inside the first.
_validating: ContextVar[Any] = ContextVar("validating", default=None)


def _traced_validation_events(fn: Callable[..., Any], tracer: Tracer) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(self: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        if _validating.get() is self:
            return await fn(self, dispatcher, tracker, domain)
        token = _validating.set(self)
        try:
            return await _span(self, dispatcher, tracker, domain)
        finally:
            _validating.reset(token)

    async def _span(self: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        with tracer.start_as_current_span(_span_name(self, fn.__name__)) as span:
            events = await fn(self, dispatcher, tracker, domain)
            names = [event.get("event") for event in events or []]
            slots = [e.get("name") for e in events or [] if e.get("event") == "slot"]
            span.set_attributes(
                {
                    "validation_events": json.dumps(list(dict.fromkeys(names))),
                    "slots": json.dumps(list(dict.fromkeys(slots))),
                }
            )
            return events

    return wrapper


def instrument(
    tracer_provider: TracerProvider,
    action_executor_class: type[ActionExecutor] | None = None,
    validation_action_class: type[ValidationAction] | None = None,
    form_validation_action_class: type[FormValidationAction] | None = None,
) -> None:
    """Wrap the given classes' traced methods; classes already instrumented are skipped."""
    if action_executor_class is not None and not class_is_instrumented(action_executor_class):
        tracer = tracer_provider.get_tracer(action_executor_class.__module__)
        for method in ("run", "execute"):
            original = getattr(action_executor_class, method)
            traced = _traced_async(
                original, tracer, extract.extract_attrs_for_action_executor, "run"
            )
            setattr(action_executor_class, method, traced)
        api_response = action_executor_class.__dict__["_create_api_response"]
        action_executor_class._create_api_response = _traced_api_response(  # type: ignore[method-assign]
            api_response.__func__, tracer
        )
        mark_class_as_instrumented(action_executor_class)
        ActionExecutorTracerRegister().register_tracer(tracer)
    if validation_action_class is not None and not class_is_instrumented(validation_action_class):
        tracer = tracer_provider.get_tracer(validation_action_class.__module__)
        validation_action_class.run = _traced_async(  # type: ignore[method-assign]
            validation_action_class.run, tracer, extract.extract_attrs_for_validation_action, "run"
        )
        _wrap_validation_events(validation_action_class, tracer)
        mark_class_as_instrumented(validation_action_class)
    if form_validation_action_class is not None and not class_is_instrumented(
        form_validation_action_class
    ):
        tracer = tracer_provider.get_tracer(form_validation_action_class.__module__)
        _wrap_validation_events(form_validation_action_class, tracer)
        mark_class_as_instrumented(form_validation_action_class)


def _wrap_validation_events(cls: type[ValidationAction], tracer: Tracer) -> None:
    cls._extract_validation_events = _traced_validation_events(  # type: ignore[method-assign]
        cls.__dict__["_extract_validation_events"], tracer
    )


def _marker(cls: type) -> str:
    return f"_{cls.__name__}__{INSTRUMENTED_BOOLEAN_ATTRIBUTE_NAME}"


def class_is_instrumented(instrumented_class: type) -> bool:
    return bool(instrumented_class.__dict__.get(_marker(instrumented_class), False))


def mark_class_as_instrumented(instrumented_class: type) -> None:
    setattr(instrumented_class, _marker(instrumented_class), True)
