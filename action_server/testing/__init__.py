"""Rasa e2e test cases and the runner that plays them against the dialogue engine."""
