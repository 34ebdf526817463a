"""Benchmark harness: our action server against rasa-sdk on identical, generated action calls."""
