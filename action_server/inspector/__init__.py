"""The web inspector: try actions, chat with the flows and look at flows, in the browser.

A Sanic blueprint (``blueprint.py``) serves a page (``static/``) and the JSON API it renders
(``actions.py``, ``conversations.py``, ``project.py``); ``action-server run --inspect`` mounts
it at ``/inspect``. See docs/inspector.md.
"""

from action_server.inspector.blueprint import PREFIX, InspectorConfig, inspector_blueprint
from action_server.inspector.project import ProjectPaths

__all__ = ["PREFIX", "InspectorConfig", "ProjectPaths", "inspector_blueprint"]
