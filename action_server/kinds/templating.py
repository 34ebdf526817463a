"""``$argument`` and ``${ENV_NAME}`` placeholders in API action requests.

``$name`` is an action argument; ``${NAME}`` an environment variable read at call time (a
secret: every value read is collected so callers can redact it); ``$$`` is a literal ``$``.
A ``$`` not followed by a name (``"$5"``) stays as written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from action_server.config.secrets import remember_secret
from action_server.executor.arguments import format_value

__all__ = [
    "Secrets",
    "encode_path_segment",
    "TemplateError",
    "env_names",
    "placeholder_names",
    "redact",
    "render_string",
    "render_value",
]

_TOKEN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_EXACT_ARG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
REDACTED = "***"


class TemplateError(ValueError):
    """A placeholder cannot be filled (unset environment variable, missing argument)."""


@dataclass
class Secrets:
    """Environment values read while rendering one request, so errors and logs can hide them."""

    values: set[str] = field(default_factory=set)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def read(self, name: str) -> str:
        value = self.environ.get(name)
        if value is None:
            raise TemplateError(f"environment variable '{name}' is not set")
        if value:
            self.values.add(value)
            remember_secret(value)  # httpx logs the URL: the log formatter hides it there
        return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _names(value: Any, group: int) -> list[str]:
    names: list[str] = []
    for text in _strings(value):
        for match in _TOKEN.finditer(text):
            name = match.group(group)
            if name and name not in names:
                names.append(name)
    return names


def placeholder_names(value: Any) -> list[str]:
    """Argument names used in a (nested) value, in order of first use."""
    return _names(value, 2)


def env_names(value: Any) -> list[str]:
    """Environment variable names used in a (nested) value."""
    return _names(value, 1)


def render_string(
    text: str,
    args: Mapping[str, Any],
    secrets: Secrets,
    encode: Callable[[str], str] | None = None,
) -> str:
    """Fill every placeholder in ``text``; ``encode`` is applied to argument values only."""

    def replace(match: re.Match[str]) -> str:
        env_name, arg_name = match.group(1), match.group(2)
        if env_name:
            return secrets.read(env_name)
        if arg_name:
            if arg_name not in args or args[arg_name] is None:
                raise TemplateError(f"argument '{arg_name}' has no value")
            rendered = format_value(args[arg_name])
            return encode(rendered) if encode else rendered
        return "$"

    return _TOKEN.sub(replace, text)


def encode_path_segment(value: str) -> str:
    """An argument value as URL path text that cannot change which path is requested.

    Every reserved character is percent-encoded (``/`` too), and so is every dot of a value
    made only of dots: ``.`` and ``..`` would otherwise be resolved by the HTTP client as
    "this" and "parent" directory (``/items/$p/detail`` with ``p=".."`` -> ``/detail``).
    ``%2E`` is the same character to the server, but it is never a dot segment to a client.
    """
    encoded = quote(value, safe="")
    if encoded and encoded.strip(".") == "":
        return "%2E" * len(encoded)
    return encoded


def render_value(value: Any, args: Mapping[str, Any], secrets: Secrets) -> Any:
    """Render a JSON-like value; a string that is exactly ``$name`` keeps the argument's type."""
    if isinstance(value, str):
        exact = _EXACT_ARG.fullmatch(value)
        if exact:
            name = exact.group(1)
            if name not in args:
                raise TemplateError(f"argument '{name}' has no value")
            return args[name]
        return render_string(value, args, secrets)
    if isinstance(value, Mapping):
        return {key: render_value(item, args, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, args, secrets) for item in value]
    return value


def redact(text: str, secrets: Secrets | set[str]) -> str:
    """Replace every secret value in ``text`` (longest first, so overlaps stay hidden)."""
    values = secrets.values if isinstance(secrets, Secrets) else secrets
    # A secret may appear URL-encoded when it went into a query string or path.
    forms = {
        form
        for value in values
        if value
        for form in (value, quote(value, safe=""), quote_plus(value))
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text
