"""The package version, at rasa-sdk's path (`rasa_sdk.version.__version__`)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("action_server")
except PackageNotFoundError:  # running from a source checkout that is not installed
    __version__ = "0.1.0"
