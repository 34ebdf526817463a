"""Reading one section of endpoints.yml as rasa-sdk's `EndpointConfig` (its `type` and kwargs)."""

from __future__ import annotations

import logging
import os
from typing import Any

from action_server.config.safe_yaml import safe_load
from action_server.utils import read_file

__all__ = ["EndpointConfig", "read_endpoint_config"]

logger = logging.getLogger(__name__)

DEFAULT_ENCODING = "utf-8"


def read_endpoint_config(filename: str, endpoint_type: str) -> EndpointConfig | None:
    """The `endpoint_type` section of the file, or None when the file or section is missing."""
    if not filename:
        return None
    try:
        # The bounded loader every endpoints.yml read goes through (aliases, depth, size).
        content = safe_load(read_file(filename))
    except FileNotFoundError:
        logger.error(
            "Failed to read endpoint configuration from %s. No such file.",
            os.path.abspath(filename),
        )
        return None
    if not isinstance(content, dict) or content.get(endpoint_type) is None:
        return None
    return EndpointConfig.from_dict(content[endpoint_type])


class EndpointConfig:
    """An endpoint section: url, auth, `type`, and every other key in `kwargs`."""

    def __init__(
        self,
        url: str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        basic_auth: dict[str, str] | None = None,
        token: str | None = None,
        token_name: str = "token",
        cafile: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.url = url
        self.params = params or {}
        self.headers = headers or {}
        self.basic_auth = basic_auth or {}
        self.token = token
        self.token_name = token_name
        self.type = kwargs.pop("store_type", kwargs.pop("type", None))
        self.cafile = cafile
        self.kwargs = kwargs

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointConfig:
        return EndpointConfig(**data)
