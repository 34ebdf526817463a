"""Benchmark actions, written against rasa_sdk; `gen.py` derives our copy by renaming the import root."""
