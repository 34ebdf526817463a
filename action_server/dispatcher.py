"""`CollectingDispatcher`: collects the messages an action sends, in rasa-sdk's exact shape.

Re-exported as `action_server.executor.CollectingDispatcher`, the path rasa-sdk
users import it from.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from action_server.interfaces import Tracker

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
        tracker: Tracker,
        silent_fail: bool = False,
        **kwargs: Any,
    ) -> None:
        """Deprecated: use `utter_message(response=..., buttons=[...])`."""
        _deprecated(
            "utter_button_template",
            "utter_message(template=<template name>, buttons=<list of buttons>)",
        )
        self.utter_message(response=template, buttons=buttons, **kwargs)

    def utter_template(
        self, template: str, tracker: Tracker, silent_fail: bool = False, **kwargs: Any
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
