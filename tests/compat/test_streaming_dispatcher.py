"""The streaming dispatcher API on our unary transport, checked without rasa-sdk.

test_programming_model.py compares the same behaviour with rasa-sdk when it is installed;
these few checks keep it covered when the comparison is skipped.
"""

from __future__ import annotations

import pytest

from action_server.executor import CollectingDispatcher


async def test_stream_end_replays_each_chunk_as_one_message() -> None:
    dispatcher = CollectingDispatcher()
    await dispatcher.stream_start()
    await dispatcher.stream_chunk(text="Hel")
    await dispatcher.stream_chunk(json_message={"a": 1}, buttons=[{"title": "x"}])
    assert dispatcher.is_streaming_active and dispatcher.messages == []
    await dispatcher.stream_end()
    assert not dispatcher.is_streaming_active
    assert [(m["text"], m["custom"], m["buttons"]) for m in dispatcher.messages] == [
        ("Hel", {}, []),
        (None, {"a": 1}, [{"title": "x"}]),
    ]


async def test_stream_chunk_starts_the_stream_and_drops_chunks_after_cancel() -> None:
    dispatcher = CollectingDispatcher()
    await dispatcher.stream_chunk(text="a")
    dispatcher.cancel_stream()
    await dispatcher.stream_chunk(text="b")
    await dispatcher.stream_end()
    assert dispatcher.is_streaming_cancelled
    assert [m["text"] for m in dispatcher.messages] == ["a"]


async def test_stream_chunk_refuses_domain_responses() -> None:
    dispatcher = CollectingDispatcher()
    with pytest.raises(ValueError, match=r"does not support \['response'\]"):
        await dispatcher.stream_chunk(response="utter_greet")
