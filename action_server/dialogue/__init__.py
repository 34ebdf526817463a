"""The dialogue engine: the flow stack, commands applied to it, step actions and bot responses.

Kept light: importing the package does not import the engine; `register_action` adds a step
action type (`say`, `function`, ... or your own) to the one registry the engine uses.
"""

from action_server.dialogue.step_actions import register_action

__all__ = ["register_action"]
