"""Turning a user message into commands for the dialogue engine."""
