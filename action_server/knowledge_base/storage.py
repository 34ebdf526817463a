"""Knowledge bases: the interface `ActionQueryKnowledgeBase` queries, and a JSON-file one.

The data file maps object types to lists of objects (dicts), e.g.
`{"restaurant": [{"id": 0, "name": "Donath", "cuisine": "Italian"}]}`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["InMemoryKnowledgeBase", "KnowledgeBase", "maybe_await"]


def _pick(index: int) -> Callable[[list[Any]], Any]:
    return lambda items: items[index]


def _default_representation(obj: dict[str, Any]) -> Any:
    return obj["name"]


class KnowledgeBase:
    """What a knowledge base answers; subclass it for a database or an API."""

    def __init__(self) -> None:
        # "the first one" -> the first listed object, and so on (the NER's `mention` values).
        self.ordinal_mention_mapping: dict[str, Callable[[list[Any]], Any]] = {
            **{str(n): _pick(n - 1) for n in range(1, 11)},
            "ANY": lambda items: random.choice(items),
            "LAST": lambda items: items[-1],
        }
        self.key_attribute: defaultdict[str, str] = defaultdict(lambda: "id")
        self.representation_function: defaultdict[str, Callable[[dict[str, Any]], Any]] = (
            defaultdict(lambda: _default_representation)
        )

    async def get_attributes_of_object(self, object_type: str) -> list[str]:
        """The attribute names objects of `object_type` have."""
        raise NotImplementedError("Method is not implemented.")

    async def get_key_attribute_of_object(self, object_type: str) -> str:
        """The attribute that identifies an object of `object_type` (default `id`)."""
        return self.key_attribute[object_type]

    async def get_representation_function_of_object(self, object_type: str) -> Callable[..., Any]:
        """How an object of `object_type` is shown to the user (default: its `name`)."""
        return self.representation_function[object_type]

    def set_ordinal_mention_mapping(self, mapping: dict[str, Callable[..., Any]]) -> None:
        """Replace the mapping from ordinal mentions ("1", "LAST", ...) to list picks."""
        self.ordinal_mention_mapping = mapping

    async def get_objects(
        self, object_type: str, attributes: list[dict[str, Any]], limit: int = 5
    ) -> list[dict[str, Any]]:
        """Up to `limit` objects of `object_type` matching every `{"name", "value"}`."""
        raise NotImplementedError("Method is not implemented.")

    async def get_object(self, object_type: str, object_identifier: Any) -> dict[str, Any] | None:
        """The one object whose key attribute or representation matches the identifier."""
        raise NotImplementedError("Method is not implemented.")

    def get_object_types(self) -> list[str]:
        """The object types the knowledge base holds."""
        raise NotImplementedError("Method is not implemented.")


class InMemoryKnowledgeBase(KnowledgeBase):
    """A knowledge base read once from a JSON file and queried in memory."""

    def __init__(self, data_file: str) -> None:
        self.data_file = data_file
        self.data: dict[str, Any] = {}
        self.load()
        super().__init__()

    def load(self) -> None:
        """Read the data file; a missing file or invalid JSON is a `ValueError` naming it."""
        try:
            with open(self.data_file, encoding="utf-8") as handle:
                content = handle.read()
        except OSError:
            raise ValueError(f"File '{self.data_file}' does not exist.") from None
        try:
            self.data = json.loads(content)
        except ValueError as error:
            raise ValueError(
                f"Failed to read json from '{os.path.abspath(self.data_file)}'. Error: {error}"
            ) from None

    def set_representation_function_of_object(
        self, object_type: str, representation_function: Callable[..., Any]
    ) -> None:
        self.representation_function[object_type] = representation_function

    def set_key_attribute_of_object(self, object_type: str, key_attribute: str) -> None:
        self.key_attribute[object_type] = key_attribute

    async def get_attributes_of_object(self, object_type: str) -> list[str]:
        """The keys of the first object of the type (all objects share them)."""
        objects = self.data.get(object_type)
        return list(objects[0].keys()) if objects else []

    async def get_objects(
        self, object_type: str, attributes: list[dict[str, Any]], limit: int = 5
    ) -> list[dict[str, Any]]:
        """Matching objects in random order (a different pick each time), at most `limit`."""
        if object_type not in self.data:
            return []
        objects = [
            obj
            for obj in self.data[object_type]
            if all(obj[attribute["name"]] == attribute["value"] for attribute in attributes)
        ]
        random.shuffle(objects)
        return objects[:limit]

    async def get_object(self, object_type: str, object_identifier: Any) -> dict[str, Any] | None:
        """Match the key attribute first, then a substring of the representation, both
        case-insensitively; None unless exactly one object matches."""
        if object_type not in self.data:
            return None
        objects = self.data[object_type]
        wanted = str(object_identifier).lower()
        key = await maybe_await(self.get_key_attribute_of_object(object_type))
        found = [obj for obj in objects if str(obj[key]).lower() == wanted]
        if not found:
            represent = await maybe_await(self.get_representation_function_of_object(object_type))
            found = [obj for obj in objects if wanted in str(represent(obj)).lower()]
        return found[0] if len(found) == 1 else None

    def get_object_types(self) -> list[str]:
        return list(self.data.keys())


async def maybe_await(value: Any) -> Any:
    """Subclasses may override the getters as plain methods; await only coroutines."""
    return await value if asyncio.iscoroutine(value) else value
