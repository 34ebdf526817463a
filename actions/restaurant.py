"""The restaurant's rules: cuisines, opening hours, capacity, and slot value parsing.

Shared by the availability check and the form validation, so both agree on what a
valid party size or time is.
"""

from __future__ import annotations

import re
from typing import Any

CUISINES = ("italian", "thai", "indian", "sushi", "vegan")
# Largest party each kitchen's dining room seats in one booking.
CAPACITY = {"italian": 10, "thai": 6, "indian": 8, "sushi": 4, "vegan": 6}
MAX_PARTY_SIZE = max(CAPACITY.values())
OPENING_MINUTES = (12 * 60, 22 * 60)  # 12:00 to 22:00, last booking at 22:00

_TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\s*$", re.IGNORECASE)


def parse_cuisine(value: Any) -> str | None:
    """'Thai ' -> 'thai'; None for a cuisine the restaurant does not serve."""
    if not isinstance(value, str):
        return None
    cuisine = value.strip().lower()
    return cuisine if cuisine in CUISINES else None


def parse_party_size(value: Any) -> int | None:
    """4, 4.0 and '4' -> 4 (Rasa float slots send 4.0); None unless a whole number >= 1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and float(value).is_integer() and value >= 1:
        return int(value)
    return None


def parse_time(value: Any) -> str | None:
    """'7pm', '7:30 pm', '19:30' -> 'HH:MM' (24 h); None if it is not a time of day."""
    if not isinstance(value, str):
        return None
    match = _TIME.match(value)
    if match is None:
        return None
    hours, minutes, meridiem = int(match[1]), int(match[2] or 0), (match[3] or "").lower()
    if meridiem:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if meridiem == "pm" else 0)
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def is_open_at(time_of_day: str) -> bool:
    hours, minutes = (int(part) for part in time_of_day.split(":"))
    start, end = OPENING_MINUTES
    return start <= hours * 60 + minutes <= end


def has_table(cuisine: str, party_size: int, time_of_day: str) -> bool:
    return is_open_at(time_of_day) and party_size <= CAPACITY[cuisine]
