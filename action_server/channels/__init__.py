"""Channels over the dialogue engine: Rasa REST, the voice event webhook, RTVI."""
