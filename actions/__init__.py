"""Example actions for a restaurant-booking assistant.

Run them with `make run` (or `action-server run --actions actions`). Every action here is
deterministic and offline, so the flows and tests that use them always behave the same.
"""
