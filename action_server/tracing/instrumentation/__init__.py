"""Wrapping the executor and validation actions in spans (`instrumentation`), and the span
attributes read from their arguments (`attribute_extractors`)."""
