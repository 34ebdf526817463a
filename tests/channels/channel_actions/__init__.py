"""Actions of the channel tests: typed arguments for RTVI, a failing one, an echo."""
