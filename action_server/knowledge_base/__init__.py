"""Knowledge-base actions at rasa-sdk's path (`rasa_sdk.knowledge_base`): a knowledge base
interface and its in-memory JSON store (`storage`), mention and slot helpers (`utils`), and
`ActionQueryKnowledgeBase` (`actions`), which answers "list objects" and "attribute of an
object" questions from slots.
"""
