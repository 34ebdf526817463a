"""Voice events as the phone platform sends them."""

from __future__ import annotations

from typing import Any

CALLER = "+4915112345678"
LINE = "+49301112222"


def session(session_id: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "account_id": "account-1",
        "phone_number": LINE,
        "direction": "inbound",
        "from_phone_number": CALLER,
        "to_phone_number": LINE,
    }


def event(kind: str, session_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "session": session(session_id), **fields}


def speak(session_id: str, text: str) -> dict[str, Any]:
    return {"session_id": session_id, "type": "speak", "text": text}
