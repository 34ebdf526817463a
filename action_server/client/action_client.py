"""How the flow engine runs actions: one ``ActionClient`` over interchangeable transports.

``InProcessTransport`` calls an ``ActionExecutor`` in this process; ``HttpTransport`` posts
the same action call to any Rasa-compatible action server. Both return the same
``{"events", "responses"}`` dicts and raise the same ``ActionClientError`` subclasses, so the
engine never knows (or cares) where its actions run.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import re
import ssl
from collections import OrderedDict
from typing import Any, Protocol

import httpx
import orjson

from action_server.config.endpoints import ActionEndpointConfig, ConfigError
from action_server.exceptions import ActionFailed, ActionTimeout, InvalidActionCall
from action_server.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

__all__ = [
    "ActionClient",
    "ActionClientError",
    "ActionNotFoundError",
    "ActionProtocolError",
    "ActionRejectedError",
    "ActionRunner",
    "ActionServerError",
    "ActionServerUnreachable",
    "ActionTimeoutError",
    "HttpTransport",
    "InProcessTransport",
    "Transport",
    "domain_digest",
]

logger = logging.getLogger(__name__)

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
# Our server words executor timeouts like this (docs/internals.md); over HTTP it is the only
# sign that a 500 was a timeout, and both transports must raise the same error for it.
_SERVER_TIMEOUT = re.compile(r"^Action '.*' timed out after ")
_STATUS_MISSING_DOMAIN = 449


# --- errors ---------------------------------------------------------------------------


class ActionClientError(Exception):
    """Running an action through the client failed; ``action_name`` says which action."""

    def __init__(self, action_name: str, message: str) -> None:
        super().__init__(action_name, message)
        self.action_name = action_name
        self.message = message

    def __str__(self) -> str:
        return self.message


class ActionNotFoundError(ActionClientError):
    """No action of that name is registered where the transport runs actions."""


class ActionRejectedError(ActionClientError):
    """The action (or the server, for a malformed call) refused to run: HTTP 400.

    ``message`` is the action's own text, unchanged, as forms show it to users.
    """


class ActionServerError(ActionClientError):
    """The action raised, or the server failed while running it: HTTP 5xx."""


class ActionTimeoutError(ActionClientError):
    """The action, or the wait for the action server's answer, took too long."""


class ActionServerUnreachable(ActionClientError):
    """No answer at all: connection refused, unknown host, connection dropped, TLS failure."""


class ActionProtocolError(ActionClientError):
    """The answer does not follow the action server protocol (bad status, not JSON, ...)."""

    def __init__(self, action_name: str, message: str, status: int | None = None) -> None:
        super().__init__(action_name, message)
        self.status = status


# --- transports -----------------------------------------------------------------------


class ActionRunner(Protocol):
    """What the in-process transport needs of ``ActionExecutor``."""

    async def execute(self, call: dict[str, Any]) -> dict[str, Any]: ...


class Transport(abc.ABC):
    """Carries one action call to where actions run and brings back the parsed result."""

    #: Where actions run, for error messages ("action server at http://...").
    where: str = "the action runner"

    @abc.abstractmethod
    async def send(self, call: dict[str, Any]) -> dict[str, Any]:
        """Run ``call``; return ``{"events", "responses"}`` or raise an ``ActionClientError``."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def _action_name(call: dict[str, Any]) -> str:
    name = call.get("next_action")
    return name if isinstance(name, str) else repr(name)


def _with_domain(call: dict[str, Any]) -> dict[str, Any]:
    """A call always carries a domain object; a missing one means the empty domain.

    Without this the executor answers "missing domain" (449) to a caller who has no domain
    to re-send.
    """
    if isinstance(call.get("domain"), dict):
        return call
    if call.get("domain") is not None:
        return call  # wrong type: let the runner reject it with its own message
    return {**call, "domain": {}}


def _result(action_name: str, data: Any, where: str) -> dict[str, Any]:
    """Check the answer's shape: an object with list ``events`` and ``responses`` (may be absent)."""
    if not isinstance(data, dict):
        raise ActionProtocolError(
            action_name,
            f"Action '{action_name}' on {where} answered {type(data).__name__}, "
            "expected a JSON object with 'events' and 'responses'.",
        )
    events = data.get("events")
    responses = data.get("responses")
    events = [] if events is None else events
    responses = [] if responses is None else responses
    for field, value in (("events", events), ("responses", responses)):
        if not isinstance(value, list):
            raise ActionProtocolError(
                action_name,
                f"Action '{action_name}' on {where} answered '{field}' as "
                f"{type(value).__name__}, expected a list.",
            )
    return {"events": events, "responses": responses}


class InProcessTransport(Transport):
    """Runs actions with an executor in this process; no sockets, same results as HTTP.

    The result goes through a JSON round trip, as it would over the wire: the caller gets
    plain JSON values (tuples become lists) that share nothing with the action's objects.
    """

    def __init__(self, executor: ActionRunner, *, where: str = "the in-process actions") -> None:
        self.executor = executor
        self.where = where

    async def send(self, call: dict[str, Any]) -> dict[str, Any]:
        name = _action_name(call)
        try:
            result = await self.executor.execute(_with_domain(call))
        except ActionNotFoundException:
            raise ActionNotFoundError(
                name, f"No registered action found for name '{name}' in {self.where}."
            ) from None
        except ActionExecutionRejection as exc:
            raise ActionRejectedError(name, _exception_message(exc)) from exc
        except InvalidActionCall as exc:
            raise ActionRejectedError(name, _exception_message(exc)) from exc
        except ActionTimeout as exc:
            raise ActionTimeoutError(name, _exception_message(exc)) from exc
        except ActionFailed as exc:
            raise ActionServerError(name, _exception_message(exc)) from exc
        except ActionMissingDomainException as exc:
            raise ActionProtocolError(
                name, f"Action '{name}' needs the domain, but the call carries none."
            ) from exc
        except Exception as exc:
            logger.error("Unexpected error while running action '%s'", name, exc_info=True)
            raise ActionServerError(
                name, f"An internal error occurred while handling action '{name}'."
            ) from exc
        try:
            data = orjson.loads(orjson.dumps(result, option=_JSON_OPTIONS))
        except TypeError as exc:
            raise ActionServerError(
                name,
                f"Action '{name}' returned events or responses that are not "
                f"JSON-serialisable: {exc}",
            ) from exc
        return _result(name, data, self.where)


def _exception_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else str(exc)


def domain_digest(domain: dict[str, Any]) -> str:
    """A stable digest of a domain: sha256 of its canonical (key-sorted) JSON."""
    canonical = orjson.dumps(domain, option=_JSON_OPTIONS | orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class HttpTransport(Transport):
    """Posts action calls to an action server's ``/webhook`` over one keep-alive client.

    Like Rasa, it spares the server the domain once the server has seen it: the first call
    carries ``domain`` and ``domain_digest``, later ones only the digest; a 449 answer (the
    server lost it, e.g. after a restart) re-sends the same call with the domain once.
    """

    _MAX_DIGESTS = 16

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        token_name: str = "token",
        headers: dict[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        cafile: str | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` swaps httpx's network layer, e.g. for ``httpx.MockTransport`` in tests."""
        self.url = url
        self.where = f"the action server at {url}"
        self.timeout = timeout
        # Merged into the URL once: httpx's per-request ``params`` would drop a query the
        # configured URL already has.
        try:
            self._target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ConfigError(f"action_endpoint.url: invalid URL '{url}': {exc}") from exc
        if self._target.scheme not in ("http", "https") or not self._target.host:
            raise ConfigError(
                f"action_endpoint.url: '{url}' is not an http(s) URL "
                "(e.g. http://127.0.0.1:5055/webhook)"
            )
        if token:
            self._target = self._target.copy_merge_params({token_name: token})
        verify: ssl.SSLContext | bool = True
        if cafile:
            try:
                verify = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"action_endpoint.cafile: cannot load '{cafile}': {exc}") from exc
        self._client = httpx.AsyncClient(
            headers={"content-type": "application/json", **(headers or {})},
            auth=basic_auth,
            verify=verify,
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        # Digests by domain identity, holding the domain so its id cannot be reused.
        self._digests: OrderedDict[int, tuple[dict[str, Any], str]] = OrderedDict()
        self._acknowledged: set[str] = set()

    def _digest_of(self, domain: dict[str, Any]) -> str:
        entry = self._digests.get(id(domain))
        if entry is not None and entry[0] is domain:
            self._digests.move_to_end(id(domain))
            return entry[1]
        digest = domain_digest(domain)
        self._digests[id(domain)] = (domain, digest)
        if len(self._digests) > self._MAX_DIGESTS:
            self._digests.popitem(last=False)
        return digest

    async def send(self, call: dict[str, Any]) -> dict[str, Any]:
        name = _action_name(call)
        full = _with_domain(call)
        domain = full.get("domain")
        digest: str | None = None
        if isinstance(domain, dict) and domain:
            given = full.get("domain_digest")
            digest = given if isinstance(given, str) and given else self._digest_of(domain)
            full = {**full, "domain_digest": digest}
        if digest is not None and digest in self._acknowledged:
            short = {key: value for key, value in full.items() if key != "domain"}
            response = await self._post(name, short)
            if response.status_code != _STATUS_MISSING_DOMAIN:
                return self._answer(name, response)
            logger.debug("%s lost domain %s; re-sending it with '%s'", self.where, digest, name)
            self._acknowledged.discard(digest)
        response = await self._post(name, full)
        if response.status_code == _STATUS_MISSING_DOMAIN:
            raise ActionProtocolError(
                name,
                f"{self.where} asked for the domain (449) of action '{name}' although the "
                "call carried it.",
                status=_STATUS_MISSING_DOMAIN,
            )
        result = self._answer(name, response)
        if digest is not None:
            if len(self._acknowledged) >= self._MAX_DIGESTS:
                self._acknowledged.clear()  # rare; costs one domain re-send per domain
            self._acknowledged.add(digest)
        return result

    async def _post(self, name: str, payload: dict[str, Any]) -> httpx.Response:
        try:
            body = orjson.dumps(payload, option=_JSON_OPTIONS)
        except TypeError as exc:
            raise ActionProtocolError(
                name, f"The call of action '{name}' cannot be sent as JSON: {exc}"
            ) from exc
        try:
            return await self._client.post(self._target, content=body)
        except httpx.ConnectTimeout as exc:
            raise ActionServerUnreachable(
                name,
                f"Cannot run action '{name}': no connection to {self.where} within "
                f"{self.timeout:g} s.",
            ) from exc
        except httpx.TimeoutException as exc:
            raise ActionTimeoutError(
                name,
                f"Action '{name}' timed out after {self.timeout:g} s waiting for {self.where}.",
            ) from exc
        except httpx.RemoteProtocolError as exc:
            raise ActionProtocolError(
                name, f"Action '{name}': {self.where} broke the HTTP protocol: {exc}"
            ) from exc
        except httpx.TransportError as exc:
            raise ActionServerUnreachable(
                name,
                f"Cannot run action '{name}': {self.where} is unreachable "
                f"({type(exc).__name__}: {exc or 'no details'}). Is the action server running?",
            ) from exc
        except httpx.InvalidURL as exc:
            raise ActionServerUnreachable(
                name, f"Cannot run action '{name}': invalid action server URL '{self.url}': {exc}"
            ) from exc

    def _answer(self, name: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        try:
            data: Any = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
            if status == 200:
                raise ActionProtocolError(
                    name,
                    f"Action '{name}': {self.where} answered 200 with a body that is not JSON "
                    f"({_snippet(response)}).",
                    status=status,
                ) from None
        if status == 200:
            return _result(name, data, self.where)
        error = _error_text(data) or _snippet(response)
        if status == 404 and isinstance(data, dict) and "action_name" in data:
            raise ActionNotFoundError(
                name, f"No registered action found for name '{name}' on {self.where}."
            )
        if status == 400:
            raise ActionRejectedError(name, error)
        if status >= 500:
            if _SERVER_TIMEOUT.match(error):
                raise ActionTimeoutError(name, error)
            raise ActionServerError(name, error)
        raise ActionProtocolError(
            name,
            f"Action '{name}': {self.where} answered with unexpected status {status}: {error}",
            status=status,
        )

    async def close(self) -> None:
        await self._client.aclose()


def _error_text(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"]:
        return str(data["error"])
    return None


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip()
    if not text:
        return f"HTTP {response.status_code} with an empty body"
    return text if len(text) <= limit else text[:limit] + "..."


# --- client ---------------------------------------------------------------------------


class ActionClient:
    """Runs action calls over a transport; what the flow engine holds."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def from_endpoint(cls, endpoint: ActionEndpointConfig) -> ActionClient:
        """The client endpoints.yml describes: ``actions_module`` in-process, or ``url``."""
        if endpoint.actions_module:
            if endpoint.url:
                logger.warning(
                    "action_endpoint sets both actions_module '%s' and url '%s'; running "
                    "actions in-process from '%s' and ignoring the url.",
                    endpoint.actions_module,
                    endpoint.url,
                    endpoint.actions_module,
                )
            # Imported here: loading the executor pulls in the actions machinery, which a
            # client talking HTTP never needs.
            from action_server.executor import ActionExecutor

            executor = ActionExecutor(action_timeout=endpoint.timeout)
            executor.register_package(endpoint.actions_module)
            return cls(
                InProcessTransport(
                    executor, where=f"the in-process actions package '{endpoint.actions_module}'"
                )
            )
        if endpoint.url:
            basic_auth = (
                (endpoint.basic_auth.username, endpoint.basic_auth.password)
                if endpoint.basic_auth
                else None
            )
            return cls(
                HttpTransport(
                    endpoint.url,
                    token=endpoint.token,
                    token_name=endpoint.token_name,
                    headers=endpoint.headers,
                    basic_auth=basic_auth,
                    cafile=endpoint.cafile,
                    timeout=endpoint.timeout,
                )
            )
        raise ConfigError(
            "action_endpoint: set either 'url' (an action server, e.g. "
            "http://127.0.0.1:5055/webhook) or 'actions_module' (a Python package run in-process)"
        )

    async def run(self, call: dict[str, Any]) -> dict[str, Any]:
        """Run one action call; ``{"events": [...], "responses": [...]}`` or an error."""
        return await self.transport.send(call)

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> ActionClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
