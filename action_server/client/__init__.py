"""`ActionClient`: runs actions in-process or over HTTP with the same call JSON.

Two transports behind one small interface (`InProcessTransport` for `actions_module`,
`HttpTransport` for `url`); the flow engine and tests swap transports, never patch internals.
"""

from action_server.client.action_client import (
    ActionClient,
    ActionClientError,
    ActionNotFoundError,
    ActionProtocolError,
    ActionRejectedError,
    ActionServerError,
    ActionServerUnreachable,
    ActionTimeoutError,
    HttpTransport,
    InProcessTransport,
    Transport,
    domain_digest,
)

__all__ = [
    "ActionClient",
    "ActionClientError",
    "ActionNotFoundError",
    "ActionProtocolError",
    "ActionRejectedError",
    "ActionServerError",
    "ActionServerUnreachable",
    "ActionTimeoutError",
    "HttpTransport",
    "InProcessTransport",
    "Transport",
    "domain_digest",
]
