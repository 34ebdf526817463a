"""`ActionQueryKnowledgeBase`: lists objects of a type, or tells an attribute of one object.

Subclass it with a knowledge base (`super().__init__(InMemoryKnowledgeBase("data.json"))`);
the domain needs the slots `object_type`, `attribute`, `mention` and the
`knowledge_base_*` slots of `knowledge_base.utils`, and a response `utter_ask_rephrase`.
"""

from __future__ import annotations

from typing import Any

from action_server.events import SlotSet
from action_server.interfaces import Action, Tracker
from action_server.interfaces.dispatcher import CollectingDispatcher
from action_server.knowledge_base.storage import KnowledgeBase, maybe_await
from action_server.knowledge_base.utils import (
    SLOT_ATTRIBUTE,
    SLOT_LAST_OBJECT,
    SLOT_LAST_OBJECT_TYPE,
    SLOT_LISTED_OBJECTS,
    SLOT_MENTION,
    SLOT_OBJECT_TYPE,
    get_attribute_slots,
    get_object_name,
    match_extracted_entities_to_object_type,
    reset_attribute_slots,
)
from action_server.types import DomainDict

__all__ = ["ActionQueryKnowledgeBase"]


class ActionQueryKnowledgeBase(Action):
    """Answers knowledge-base questions from the `object_type`, `attribute` and `mention` slots."""

    def __init__(self, knowledge_base: KnowledgeBase, use_last_object_mention: bool = True) -> None:
        self.knowledge_base = knowledge_base
        self.use_last_object_mention = use_last_object_mention

    def name(self) -> str:
        return "action_query_knowledge_base"

    def utter_attribute_value(
        self,
        dispatcher: CollectingDispatcher,
        object_name: str,
        attribute_name: str,
        attribute_value: Any,
    ) -> None:
        """Tell the attribute's value, or that there is none."""
        if attribute_value:
            dispatcher.utter_message(
                text=f"'{object_name}' has the value '{attribute_value}' for attribute "
                f"'{attribute_name}'."
            )
        else:
            dispatcher.utter_message(
                text=f"Did not find a valid value for attribute '{attribute_name}' for object "
                f"'{object_name}'."
            )

    async def utter_objects(
        self, dispatcher: CollectingDispatcher, object_type: str, objects: list[dict[str, Any]]
    ) -> None:
        """List the objects found, numbered from 1, or say that there are none."""
        if not objects:
            dispatcher.utter_message(text=f"I could not find any objects of type '{object_type}'.")
            return
        dispatcher.utter_message(text=f"Found the following objects of type '{object_type}':")
        represent = await maybe_await(
            self.knowledge_base.get_representation_function_of_object(object_type)
        )
        for number, obj in enumerate(objects, 1):
            dispatcher.utter_message(text=f"{number}: {represent(obj)}")

    async def run(  # type: ignore[override]
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """An attribute in the latest message asks about one object; otherwise list objects."""
        object_type = tracker.get_slot(SLOT_OBJECT_TYPE)
        last_object_type = tracker.get_slot(SLOT_LAST_OBJECT_TYPE)
        attribute = tracker.get_slot(SLOT_ATTRIBUTE)
        has_mention = tracker.get_slot(SLOT_MENTION) is not None
        asks_attribute = any(
            entity.get("entity") == "attribute" for entity in tracker.latest_message["entities"]
        )
        if not object_type:
            object_types = self.knowledge_base.get_object_types()
            object_type = match_extracted_entities_to_object_type(tracker, object_types)
            # Only for this run: later helpers read the object type from the slot.
            tracker.add_slots([SlotSet(SLOT_OBJECT_TYPE, object_type)])

        if object_type and not asks_attribute:
            return await self._query_objects(dispatcher, object_type, tracker)
        if object_type and attribute:
            return await self._query_attribute(dispatcher, object_type, attribute, tracker)
        if last_object_type and has_mention and attribute:
            return await self._query_attribute(dispatcher, last_object_type, attribute, tracker)
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []

    async def _query_objects(
        self, dispatcher: CollectingDispatcher, object_type: str, tracker: Tracker
    ) -> list[dict[str, Any]]:
        kb = self.knowledge_base
        object_attributes = await maybe_await(kb.get_attributes_of_object(object_type))
        attributes = get_attribute_slots(tracker, object_attributes)
        objects = await maybe_await(kb.get_objects(object_type, attributes))
        await maybe_await(self.utter_objects(dispatcher, object_type, objects))
        if not objects:
            return reset_attribute_slots(tracker, object_attributes)
        key = await maybe_await(kb.get_key_attribute_of_object(object_type))
        return [
            SlotSet(SLOT_OBJECT_TYPE, None),
            SlotSet(SLOT_MENTION, None),
            SlotSet(SLOT_ATTRIBUTE, None),
            SlotSet(SLOT_LAST_OBJECT, None if len(objects) > 1 else objects[0][key]),
            SlotSet(SLOT_LAST_OBJECT_TYPE, object_type),
            SlotSet(SLOT_LISTED_OBJECTS, [obj[key] for obj in objects]),
            *reset_attribute_slots(tracker, object_attributes),
        ]

    async def _query_attribute(
        self, dispatcher: CollectingDispatcher, object_type: str, attribute: str, tracker: Tracker
    ) -> list[dict[str, Any]]:
        kb = self.knowledge_base
        object_name = get_object_name(
            tracker, kb.ordinal_mention_mapping, self.use_last_object_mention
        )
        if object_name is None or not attribute:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return [SlotSet(SLOT_MENTION, None)]
        found = await maybe_await(kb.get_object(object_type, object_name))
        if not found or attribute not in found:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return [SlotSet(SLOT_MENTION, None)]
        represent = await maybe_await(kb.get_representation_function_of_object(object_type))
        key = await maybe_await(kb.get_key_attribute_of_object(object_type))
        # A subclass may make it a coroutine; rasa-sdk awaits it then.
        told: Any = self.utter_attribute_value(  # type: ignore[func-returns-value]
            dispatcher, represent(found), attribute, found[attribute]
        )
        await maybe_await(told)
        return [
            SlotSet(SLOT_OBJECT_TYPE, None),
            SlotSet(SLOT_ATTRIBUTE, None),
            SlotSet(SLOT_MENTION, None),
            SlotSet(SLOT_LAST_OBJECT, found[key]),
            SlotSet(SLOT_LAST_OBJECT_TYPE, object_type),
        ]
