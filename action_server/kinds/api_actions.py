"""No-code API actions: an HTTP call described in YAML, its JSON answer mapped into slots.

A YAML file under the actions path with a top-level ``api_actions:`` list defines them::

    allow_private_networks: false      # optional, per file
    allowed_hosts: [api.internal]      # optional, per file
    max_response_bytes: 1000000        # optional, per file
    api_actions:
      - name: getOrderDetails
        base_url: https://shop.example.com/api
        path: /orders/$orderId
        headers: {Authorization: "Bearer ${SHOP_TOKEN}"}
        result: {order_status: status, first_item: items.0.name}

``$name`` placeholders are the action's arguments (see ``action_server.executor.arguments`` for where
values come from); ``${ENV}`` reads a secret at call time. On an HTTP error status, a timeout,
an unreachable or refused host, the slot ``<name>_error`` (or ``error.slot``) is set to a
message with every secret redacted, and ``error.response`` / ``error.text`` is uttered.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from action_server.config.yaml_lines import YamlDocument, YamlSyntaxError, load_yaml_document
from action_server.events import SlotSet
from action_server.executor.arguments import (
    ArgumentAction,
    ArgumentError,
    ArgumentSpec,
    parse_argument_specs,
)
from action_server.kinds.api_http import ApiCallError, ApiHttpClient, ApiRequest, HttpLimits
from action_server.kinds.netguard import NetworkPolicy
from action_server.kinds.templating import (
    Secrets,
    TemplateError,
    encode_path_segment,
    env_names,
    placeholder_names,
    redact,
    render_string,
    render_value,
)

if TYPE_CHECKING:
    from action_server.interfaces import Tracker
    from action_server.interfaces.dispatcher import CollectingDispatcher

__all__ = [
    "ApiAction",
    "ApiActionConfig",
    "ApiActionLoadError",
    "load_api_actions",
    "lookup_path",
]

logger = logging.getLogger(__name__)

_MISSING = object()


class ApiActionLoadError(ValueError):
    """An API-actions file is invalid; the message starts with ``file:line``."""


# --- YAML edge -------------------------------------------------------------------------------


class _ErrorModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot: str | None = None
    response: str | None = None
    text: str | None = None


class _ApiActionModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[^\s]+$")
    description: str = ""
    base_url: str
    path: str = ""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    headers: dict[str, str | int | float | bool] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    timeout: float = 10.0
    result: dict[str, str] = Field(default_factory=dict)
    error: _ErrorModel = Field(default_factory=_ErrorModel)
    args: Any = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timeout")
    @classmethod
    def _finite_positive(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError("must be a finite number of seconds greater than 0")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if placeholder_names(value):
            raise ValueError("may use ${ENV_NAME} but not $argument placeholders")
        probe = value.replace("${", "").replace("}", "") if env_names(value) else value
        parts = urlsplit(probe)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http:// or https:// URL with a host, got {value!r}")
        return value


class _ApiActionsFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str | None = None
    api_actions: list[_ApiActionModel]
    allow_private_networks: bool = False
    allowed_hosts: list[str] = Field(default_factory=list)
    max_response_bytes: int = Field(default=1_000_000, gt=0)
    max_redirects: int = Field(default=3, ge=0, le=10)


# --- the action ------------------------------------------------------------------------------


@dataclass
class ApiActionConfig:
    """One validated API action, as plain data."""

    name: str
    base_url: str
    description: str = ""
    path: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    timeout: float = 10.0
    result: dict[str, str] = field(default_factory=dict)
    error_slot: str | None = None
    error_response: str | None = None
    error_text: str | None = None
    arguments: list[ArgumentSpec] = field(default_factory=list)
    source: str = ""

    @property
    def slot_for_errors(self) -> str:
        return self.error_slot or f"{self.name}_error"


def lookup_path(document: Any, path: str) -> Any:
    """``items.0.name`` in a JSON document; ``_MISSING`` if absent. Empty path: the document."""
    current = document
    for part in [p for p in path.split(".") if p] if path.strip() else []:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return _MISSING
        else:
            return _MISSING
    return current


def _check_dot_segments(template: str, path: str) -> None:
    """Arguments that are empty can still leave a ``.``/``..`` segment (``/a/$x.$y``): refuse
    one the template did not write itself, since the HTTP client would resolve it."""
    written = set(template.split("/"))
    for segment in path.split("/"):
        if segment in (".", "..") and segment not in written:
            raise TemplateError(
                f"the arguments make the path {path!r} contain a {segment!r} segment"
            )


class ApiAction(ArgumentAction):
    """Runs one configured HTTP call; an ordinary ``Action`` for the webhook and flows."""

    kind = "api"

    def __init__(self, config: ApiActionConfig, http: ApiHttpClient | None = None) -> None:
        self.config = config
        self.http = http or ApiHttpClient()
        self.description = config.description
        self.arguments = list(config.arguments)

    def name(self) -> str:
        return self.config.name

    def build_request(self, args: Mapping[str, Any], secrets: Secrets) -> ApiRequest:
        """Fill the placeholders; path values are URL-encoded, lone body placeholders keep type."""
        config = self.config
        base = render_string(config.base_url, {}, secrets).rstrip("/")
        path = render_string(config.path, args, secrets, encode=encode_path_segment)
        _check_dot_segments(config.path, path)
        if path and not path.startswith("/"):
            path = "/" + path
        headers = {k: render_string(v, args, secrets) for k, v in config.headers.items()}
        params: dict[str, Any] = {}
        for key, raw in config.query.items():
            kept = _drop_unset(raw, args)
            if kept is not _MISSING:
                value = render_value(kept, args, secrets)
                if value is not None:
                    params[key] = value
        body = None
        if config.body is not None:
            kept = _drop_unset(config.body, args)
            body = None if kept is _MISSING else render_value(kept, args, secrets)
        return ApiRequest(
            method=config.method,
            url=base + path,
            headers=headers,
            params=params,
            json=body,
            timeout=config.timeout,
        )

    async def execute(
        self,
        args: dict[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        secrets = Secrets()
        try:
            request = self.build_request(args, secrets)
            logger.debug(
                "API action %s: %s %s", self.name(), request.method, redact(request.url, secrets)
            )
            response = await self.http.send(request)
            document = response.json() if self.config.result else None
        except (ApiCallError, TemplateError) as exc:
            message = redact(f"API action '{self.name()}': {exc}", secrets)
            logger.warning("%s (sender %s)", message, tracker.sender_id)
            return self._error_events(message, dispatcher)
        events = []
        for slot, path in self.config.result.items():
            value = lookup_path(document, path)
            if value is _MISSING:
                logger.info(
                    "API action %s: %r not found in the response; slot %s set to null",
                    self.name(),
                    path,
                    slot,
                )
                value = None
            events.append(SlotSet(slot, value))
        error_slot = self.config.slot_for_errors
        if tracker.get_slot(error_slot) is not None:
            events.append(SlotSet(error_slot, None))
        return events

    def _error_events(self, message: str, dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
        if self.config.error_response:
            dispatcher.utter_message(response=self.config.error_response, error=message)
        elif self.config.error_text:
            dispatcher.utter_message(text=self.config.error_text)
        return [SlotSet(self.config.slot_for_errors, message)]


def _drop_unset(value: Any, args: Mapping[str, Any]) -> Any:
    """Remove mapping entries that are a lone placeholder of an optional, unset argument."""
    if isinstance(value, str):
        names = placeholder_names(value)
        if value.startswith("$") and names == [value[1:]] and args.get(names[0]) is None:
            return _MISSING
        return value
    if isinstance(value, Mapping):
        kept = {k: _drop_unset(v, args) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _MISSING}
    if isinstance(value, list):
        return [
            None if item is _MISSING else item
            for item in map(lambda v: _drop_unset(v, args), value)
        ]
    return value


# --- loading ---------------------------------------------------------------------------------


def _format_validation_error(exc: ValidationError, document: YamlDocument) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(part) for part in loc) or "file"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{document.where(loc)}: {where}: {message}")
    return "\n".join(lines)


def _config_from_model(
    model: _ApiActionModel, document: YamlDocument, index: int
) -> ApiActionConfig:
    where = document.where(("api_actions", index))
    args_where = document.where(("api_actions", index, "args"))
    try:
        declared = parse_argument_specs(model.args, where=f"{args_where}: action '{model.name}'")
    except ArgumentError as exc:
        raise ApiActionLoadError(exc.message) from None
    used = placeholder_names([model.path, model.headers, model.query, model.body])
    by_name = {spec.name: spec for spec in declared}
    for spec in declared:
        if spec.name not in used:
            raise ApiActionLoadError(
                f"{args_where}: action '{model.name}': argument '{spec.name}' is declared "
                f"but no ${spec.name} placeholder uses it"
            )
    if model.method == "GET" and model.body is not None:
        raise ApiActionLoadError(
            f"{document.where(('api_actions', index, 'body'))}: action '{model.name}': "
            "a GET request cannot have a body"
        )
    arguments = [by_name.get(name, ArgumentSpec(name=name)) for name in used]
    return ApiActionConfig(
        name=model.name,
        description=model.description,
        base_url=model.base_url,
        path=model.path,
        method=model.method,
        headers={
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in model.headers.items()
        },
        query=model.query,
        body=model.body,
        timeout=model.timeout,
        result=model.result,
        error_slot=model.error.slot,
        error_response=model.error.response,
        error_text=model.error.text,
        arguments=arguments,
        source=where,
    )


def parse_api_actions(text: str, filename: str) -> list[ApiAction]:
    """Parse one file's text; ``ApiActionLoadError`` names file and line of every problem."""
    try:
        document = load_yaml_document(text, filename)
    except YamlSyntaxError as exc:
        raise ApiActionLoadError(str(exc)) from None
    if not isinstance(document.data, dict) or "api_actions" not in document.data:
        return []
    try:
        model = _ApiActionsFileModel.model_validate(document.data)
    except ValidationError as exc:
        raise ApiActionLoadError(_format_validation_error(exc, document)) from None
    http = ApiHttpClient(  # one connection pool for the file's actions
        HttpLimits(
            policy=NetworkPolicy.create(model.allow_private_networks, model.allowed_hosts),
            max_response_bytes=model.max_response_bytes,
            max_redirects=model.max_redirects,
        )
    )
    actions: list[ApiAction] = []
    seen: dict[str, int] = {}
    for index, action_model in enumerate(model.api_actions):
        if action_model.name in seen:
            raise ApiActionLoadError(
                f"{document.where(('api_actions', index, 'name'))}: API action "
                f"'{action_model.name}' is already defined at line {seen[action_model.name]}"
            )
        seen[action_model.name] = document.line_of(("api_actions", index, "name"))
        actions.append(ApiAction(_config_from_model(action_model, document, index), http))
    return actions


def _yaml_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.suffix in (".yml", ".yaml") and path.is_file():
            if not any(part.startswith(".") or part == "__pycache__" for part in path.parts):
                yield path


def load_api_actions(path_or_dir: str | Path) -> list[ApiAction]:
    """Every API action in a file or directory tree (files without ``api_actions:`` skipped).

    Names must be unique across files; the error names both places.
    """
    root = Path(path_or_dir)
    if not root.exists():
        raise ApiActionLoadError(f"{root}: no such file or directory")
    actions: list[ApiAction] = []
    seen: dict[str, str] = {}
    for path in _yaml_files(root):
        text = path.read_text(encoding="utf-8")
        if "api_actions" not in text:
            continue
        for action in parse_api_actions(text, str(path)):
            if action.name() in seen:
                raise ApiActionLoadError(
                    f"{action.config.source}: API action '{action.name()}' is already "
                    f"defined at {seen[action.name()]}"
                )
            seen[action.name()] = action.config.source
            actions.append(action)
    return actions
