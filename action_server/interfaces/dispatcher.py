"""`CollectingDispatcher`: collects the messages an action sends, in rasa-sdk's exact shape.

Re-exported as `action_server.executor.CollectingDispatcher`, the path rasa-sdk
users import it from. It lives beside the tracker because `Action.run` names both; it needs
nothing from them (the deprecated methods take a tracker only to ignore it), so the
interfaces package has no import cycle.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["CollectingDispatcher"]


def _deprecated(old: str, instead: str) -> None:
    warnings.warn(
        f"Use of `{old}` is deprecated. Use `{instead}` instead.",
        FutureWarning,
        stacklevel=3,
    )


class CollectingDispatcher:
    """Collects bot messages; they become the `responses` of the action call."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        # Streaming API (rasa-sdk 3.x) on a unary transport: chunks are collected and
        # replayed as `utter_message` calls by `stream_end`, so streaming actions still
        # answer with ordinary `responses`.
        self._stream_chunks: list[dict[str, Any]] = []
        self._stream_active = False
        self._stream_cancelled = False
        # Set by a streaming transport (`ActionExecutor.run(call, sink=queue)`): chunks go to
        # it as they come, and `stream_end` replays nothing.
        self._stream_sink: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    @property
    def is_streaming_active(self) -> bool:
        """True between `stream_start` (or the first chunk) and `stream_end`."""
        return self._stream_active

    @property
    def is_streaming_cancelled(self) -> bool:
        """True after `cancel_stream`: the user interrupted, later chunks are dropped."""
        return self._stream_cancelled

    def cancel_stream(self) -> None:
        """Drop every chunk sent from now on (barge-in)."""
        self._stream_cancelled = True

    async def stream_start(self) -> None:
        """Begin a streamed response; forgets chunks of an unfinished earlier stream."""
        self._stream_chunks = []
        self._stream_cancelled = False
        self._stream_active = True
        if self._stream_sink is not None:
            await self._stream_sink({"event": "stream_start"})

    async def stream_chunk(
        self,
        text: str | None = None,
        image: str | None = None,
        json_message: dict[str, Any] | None = None,
        attachment: str | None = None,
        buttons: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        """Add one chunk (text and/or rich content); starts the stream if needed.

        `template`/`response` are refused: a domain response cannot be streamed.
        """
        forbidden = {"template", "response"} & kwargs.keys()
        if forbidden:
            raise ValueError(
                f"stream_chunk() does not support {sorted(forbidden)!r}. "
                "Use utter_message() for template-based responses."
            )
        chunk: dict[str, Any] = {}
        if text is not None:
            chunk["text"] = text
        if image is not None:
            chunk["image"] = image
        if json_message:
            chunk["json_message"] = json_message
        if attachment is not None:
            chunk["attachment"] = attachment
        if buttons:
            chunk["buttons"] = buttons
        if elements:
            chunk["elements"] = elements
        chunk.update(kwargs)
        if self._stream_cancelled:
            return
        if not self._stream_active:
            await self.stream_start()
        self._stream_chunks.append(chunk)
        if self._stream_sink is not None:
            # On the wire a chunk's json_message is `custom`, as in a message.
            wire = {("custom" if key == "json_message" else key): v for key, v in chunk.items()}
            await self._stream_sink({"event": "stream_chunk", **wire})

    async def stream_end(self) -> None:
        """End the stream: each collected chunk becomes one message (without a sink, whose
        consumer already has the chunks)."""
        if self._stream_sink is not None:
            await self._stream_sink({"event": "stream_end"})
        else:
            for chunk in self._stream_chunks:
                self.utter_message(**chunk)
        self._stream_chunks = []
        self._stream_active = False

    def utter_message(
        self,
        text: str | None = None,
        image: str | None = None,
        json_message: dict[str, Any] | None = None,
        template: str | None = None,
        response: str | None = None,
        attachment: str | None = None,
        buttons: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        """Send a message; extra keyword arguments are added to the message dict.

        Extra keyword arguments also fill variables of a domain response
        (`response="utter_x", name="Ann"`), exactly as with rasa-sdk.
        """
        if template and not response:
            response = template
            warnings.warn(
                "Please pass the parameter `response` instead of `template` "
                "to `utter_message`. `template` will be deprecated in Rasa 3.0.0. ",
                FutureWarning,
                stacklevel=2,
            )
        message: dict[str, Any] = {
            "text": text,
            "buttons": buttons or [],
            "elements": elements or [],
            "custom": json_message or {},
            # Rasa 2 reads `template`, Rasa 3 reads `response`: send both.
            "template": response,
            "response": response,
            "image": image,
            "attachment": attachment,
        }
        message.update(kwargs)
        self.messages.append(message)

    # Deprecated helpers kept so old actions keep working after the rename.

    def utter_custom_message(self, *elements: dict[str, Any], **kwargs: Any) -> None:
        """Deprecated: use `utter_message(elements=[...])`."""
        _deprecated("utter_custom_message", "utter_message(elements=<list of elements>)")
        self.utter_message(elements=list(elements), **kwargs)

    def utter_elements(self, *elements: dict[str, Any], **kwargs: Any) -> None:
        """Deprecated: use `utter_message(elements=[...])`."""
        _deprecated("utter_elements", "utter_message(elements=<list of elements>)")
        self.utter_message(elements=list(elements), **kwargs)

    def utter_button_message(self, text: str, buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        """Deprecated: use `utter_message(text=..., buttons=[...])`."""
        _deprecated(
            "utter_button_message", "utter_message(text=<text> , buttons=<list of buttons>)"
        )
        self.utter_message(text=text, buttons=buttons, **kwargs)

    def utter_attachment(self, attachment: str, **kwargs: Any) -> None:
        """Deprecated: use `utter_message(attachment=...)`."""
        _deprecated("utter_attachment", "utter_message(attachment=<attachment>)")
        self.utter_message(attachment=attachment, **kwargs)

    def utter_button_template(
        self,
        template: str,
        buttons: list[dict[str, Any]],
        tracker: Any,
        silent_fail: bool = False,
        **kwargs: Any,
    ) -> None:
        """Deprecated: use `utter_message(response=..., buttons=[...])`."""
        _deprecated(
            "utter_button_template",
            "utter_message(template=<template name>, buttons=<list of buttons>)",
        )
        # `template=` (not `response=`), so the second deprecation warning matches rasa-sdk
        self.utter_message(template=template, buttons=buttons, **kwargs)

    def utter_template(
        self, template: str, tracker: Any, silent_fail: bool = False, **kwargs: Any
    ) -> None:
        """Deprecated: use `utter_message(response=...)`."""
        _deprecated("utter_template", "utter_message(response=<template_name>)")
        self.utter_message(response=template, **kwargs)

    def utter_custom_json(self, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Deprecated: use `utter_message(json_message=...)`."""
        _deprecated("utter_custom_json", "utter_message(json_message=<message dict>)")
        self.utter_message(json_message=json_message, **kwargs)

    def utter_image_url(self, image: str, **kwargs: Any) -> None:
        """Deprecated: use `utter_message(image=...)`."""
        _deprecated("utter_image_url", "utter_message(image=<image url>)")
        self.utter_message(image=image, **kwargs)
