"""Constants at rasa-sdk's module path (`rasa_sdk.constants`), with rasa-sdk's names and values.

`RASA_PROTOCOL_VERSION` is ours: the `version` our own callers put in an action call.
"""

DEFAULT_SERVER_PORT = 5055
DEFAULT_SANIC_WORKERS = 1
DEFAULT_KEEP_ALIVE_TIMEOUT = 120  # seconds
DEFAULT_STREAM_BARGE_IN_TIMEOUT_SECONDS = 30.0
ENV_SANIC_WORKERS = "ACTION_SERVER_SANIC_WORKERS"
ACTION_SERVER_STREAM_BARGE_IN_TIMEOUT_SECONDS_ENV_VAR = (
    "ACTION_SERVER_STREAM_BARGE_IN_TIMEOUT_SECONDS"
)
DEFAULT_LOG_LEVEL_LIBRARIES = "ERROR"
ENV_LOG_LEVEL_LIBRARIES = "LOG_LEVEL_LIBRARIES"
# The logger our own modules log under (rasa-sdk: "rasa_sdk").
APPLICATION_ROOT_LOGGER_NAME = "action_server"
DEFAULT_ENCODING = "utf-8"
YAML_VERSION = (1, 2)
PYTHON_LOGGING_SCHEMA_DOCS = (
    "https://docs.python.org/3/library/logging.config.html#dictionary-schema-details"
)
DEFAULT_ENDPOINTS_PATH = "endpoints.yml"
NO_GRACE_PERIOD = 0

# The `version` our own callers (flow engine, `call`, RTVI) put in an action call, as Rasa puts
# its own version there; any 3.x passes the executor's compatibility check.
RASA_PROTOCOL_VERSION = "3.10.0"
