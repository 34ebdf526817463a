"""Constants shared across the package, at rasa-sdk's module path (`rasa_sdk.constants`)."""

# The `version` our own callers (flow engine, `call`, RTVI) put in an action call, as Rasa puts
# its own version there; any 3.x passes the executor's compatibility check.
RASA_PROTOCOL_VERSION = "3.10.0"
