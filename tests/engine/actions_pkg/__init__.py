"""Custom actions the engine tests run through the in-process transport."""
