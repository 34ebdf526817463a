"""Values that must never reach a log: the ``${ENV}`` secrets API actions read, auth tokens.

API actions remember each secret they read here; the server's log formatter
(``server/logs.py``) replaces every remembered value, in every record of every logger
(ours, httpx's, Sanic's access log), with ``***``.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

__all__ = ["MIN_SECRET_CHARS", "known_secrets", "remember_secret"]

# Shorter values would blank out ordinary words and digits all over the log.
MIN_SECRET_CHARS = 4
# Bounded: secrets read from a changing environment must not grow memory without end.
_MAX_SECRETS = 1024

_secrets: dict[str, None] = {}  # insertion-ordered set; the oldest is dropped when full
_longest_first: tuple[str, ...] = ()


def remember_secret(value: str) -> None:
    """Redact ``value`` (and its URL-encoded forms) from every log line from now on."""
    global _longest_first
    if len(value) < MIN_SECRET_CHARS:
        return
    forms = (value, quote(value, safe=""), quote_plus(value))
    if all(form in _secrets for form in forms):
        return
    for form in forms:
        _secrets[form] = None
    while len(_secrets) > _MAX_SECRETS:
        del _secrets[next(iter(_secrets))]
    _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def known_secrets() -> tuple[str, ...]:
    """Every remembered form, longest first (so a secret inside another stays hidden)."""
    return _longest_first
