"""Custom actions of the small-bank example."""
