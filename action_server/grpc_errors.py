"""The JSON a gRPC error status carries in its details (rasa-sdk's `grpc_errors`).

Rasa Pro parses these: `ResourceNotFound` with `resource_type` DOMAIN makes it re-send the
call with the domain (HTTP's 449), ACTION reports an unknown action, `ActionExecutionFailed`
a rejected (or, with another status code, a failed) action.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field

__all__ = ["ActionExecutionFailed", "ResourceNotFound", "ResourceNotFoundType"]


class ActionExecutionFailed(BaseModel):
    """An action did not run to completion: which one, and a sentence why."""

    action_name: str = Field(alias="action_name")
    message: str = Field(alias="message")


class ResourceNotFoundType(str, Enum):
    """What was not found: the action, or the domain (re-send the call with it)."""

    ACTION = "ACTION"
    DOMAIN = "DOMAIN"


class ResourceNotFound(BaseModel):
    """The action or the domain a call needs is not here."""

    action_name: str = Field(alias="action_name")
    message: str = Field(alias="message")
    resource_type: ResourceNotFoundType = Field(alias="resource_type")
