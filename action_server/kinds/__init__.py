"""No-code action kinds: YAML API actions and Python function actions, and their discovery."""
