"""The tracker's event list as received: JSON bytes that become Python objects only when read.

A 2,000-event tracker is ~800 KB and ~100k Python objects once parsed, yet most actions read a
slot or two and never look at `tracker.events`. The server keeps the events array as the raw
JSON slice of the request body and `Tracker.events` decodes it on first access.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["RawEvents"]


class RawEvents:
    """The JSON text of a tracker's `events` array, decoded on demand.

    Every `decode()` returns a new list, so a tracker that mutates its events (forms append
    slot events) never changes what another tracker built from the same call sees.
    """

    __slots__ = ("_json",)

    def __init__(self, json: bytes | bytearray | memoryview) -> None:
        self._json = json

    @property
    def nbytes(self) -> int:
        return len(self._json)

    def decode(self) -> list[dict[str, Any]]:
        """Parse the events; a JSON `null` gives an empty list, like a missing `events` key."""
        events = orjson.loads(self._json)
        return [] if events is None else events

    def __repr__(self) -> str:
        return f"<RawEvents {self.nbytes} bytes>"
