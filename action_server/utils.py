"""rasa-sdk's public helpers at its path (`rasa_sdk.utils`): rich-message dicts, logging set-up,
file and YAML reading, the Sanic worker count and the Rasa version check.

Our own code uses its own modules for these jobs (`server/logs.py`, `config/`); this module is
the surface user code and tests import.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import logging.config
import os
import warnings
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, ClassVar

import yaml

from action_server.constants import (
    DEFAULT_ENCODING,
    DEFAULT_LOG_LEVEL_LIBRARIES,
    DEFAULT_SANIC_WORKERS,
    ENV_LOG_LEVEL_LIBRARIES,
    ENV_SANIC_WORKERS,
    PYTHON_LOGGING_SCHEMA_DOCS,
)
from action_server.exceptions import FileIOException, FileNotFoundException, YamlSyntaxException
from action_server.version import __version__

__all__ = [
    "Button",
    "Element",
    "Singleton",
    "add_logging_file_arguments",
    "add_logging_level_option_arguments",
    "all_subclasses",
    "arguments_of",
    "call_potential_coroutine",
    "check_version_compatibility",
    "configure_colored_logging",
    "configure_file_logging",
    "configure_logging_from_input_file",
    "file_as_bytes",
    "number_of_sanic_workers",
    "read_file",
    "read_yaml",
    "read_yaml_file",
    "set_default_logging",
    "update_sanic_log_level",
]

logger = logging.getLogger(__name__)

_LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s  - %(message)s"


class Element(dict):  # type: ignore[type-arg]
    """One element of a carousel; keyword arguments other than the known keys are dropped."""

    _acceptable_keys: ClassVar[tuple[str, ...]] = (
        "title",
        "item_url",
        "image_url",
        "subtitle",
        "buttons",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k in self._acceptable_keys})


class Button(dict):  # type: ignore[type-arg]
    """A button of a rich message."""


class Singleton(type):
    """Metaclass: one instance per class, until `Singleton.clear()`."""

    _instances: ClassVar[dict[Any, Any]] = {}

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls not in cls._instances:
            cls._instances[cls] = super().__call__(*args, **kwargs)
        return cls._instances[cls]

    @classmethod
    def clear(cls) -> None:
        cls._instances = {}


def all_subclasses(cls: Any) -> list[Any]:
    """Every imported subclass of `cls`, direct ones first."""
    direct = cls.__subclasses__()
    return direct + [grandchild for sub in direct for grandchild in all_subclasses(sub)]


def add_logging_level_option_arguments(parser: Any) -> None:
    """`-v/--verbose`, `-vv/--debug`, `--quiet`, stored as `loglevel`."""
    parser.add_argument(
        "-v",
        "--verbose",
        help="Be verbose. Sets logging level to INFO",
        action="store_const",
        dest="loglevel",
        const=logging.INFO,
        default=logging.INFO,
    )
    parser.add_argument(
        "-vv",
        "--debug",
        help="Print lots of debugging statements. Sets logging level to DEBUG",
        action="store_const",
        dest="loglevel",
        const=logging.DEBUG,
    )
    parser.add_argument(
        "--quiet",
        help="Be quiet! Sets logging level to WARNING",
        action="store_const",
        dest="loglevel",
        const=logging.WARNING,
    )


def add_logging_file_arguments(parser: Any) -> None:
    """`--log-file` and `--logging-config_file` (rasa-sdk's spelling, underscore included)."""
    parser.add_argument("--log-file", type=str, default=None, help="Store logs in this file.")
    parser.add_argument(
        "--logging-config_file",
        type=str,
        default=None,
        help="A YAML logging configuration (Python's dictConfig schema).",
    )


def configure_colored_logging(loglevel: int | str) -> None:
    """Log to stderr at `loglevel` (rasa-sdk colours it with coloredlogs; we keep it plain)."""
    logging.basicConfig(level=loglevel, format=_LOG_FORMAT, force=True)


def configure_logging_from_input_file(logging_config_file: Path | str) -> None:
    """Apply a YAML logging configuration; an invalid one is logged and ignored."""
    config = read_yaml_file(logging_config_file)
    try:
        logging.config.dictConfig(config)
    except (ValueError, TypeError, AttributeError, ImportError) as error:
        logging.debug(
            "The logging config file %s could not be applied because it failed validation "
            "against the built-in Python logging schema. More info at %s.",
            logging_config_file,
            PYTHON_LOGGING_SCHEMA_DOCS,
            exc_info=error,
        )


def set_default_logging(
    logger_obj: logging.Logger, output_log_file: str | None, loglevel: int
) -> None:
    """Also write `logger_obj`'s records to `output_log_file`, if one is given."""
    if not output_log_file:
        return
    loglevel = loglevel or logging.INFO
    logger_obj.setLevel(loglevel)
    handler = logging.FileHandler(output_log_file, encoding=DEFAULT_ENCODING)
    handler.setLevel(loglevel)
    handler.setFormatter(
        logging.Formatter("%(asctime)s [%(levelname)-5.5s]  %(name)s  -  %(message)s")
    )
    logger_obj.addHandler(handler)


def configure_file_logging(
    logger_obj: logging.Logger,
    output_log_file: str | None,
    loglevel: int,
    logging_config_file: str | None,
) -> None:
    """A logging config file wins; otherwise log to `output_log_file` (if any)."""
    if logging_config_file is not None:
        configure_logging_from_input_file(logging_config_file)
        return
    set_default_logging(logger_obj, output_log_file, loglevel)


def arguments_of(func: Callable[..., Any]) -> Any:
    """The parameter names of `func` (a keys view, as in rasa-sdk)."""
    return inspect.signature(func).parameters.keys()


def number_of_sanic_workers() -> int:
    """Workers from `ACTION_SERVER_SANIC_WORKERS`; 1 when unset, invalid or below 1."""
    raw = os.environ.get(ENV_SANIC_WORKERS, DEFAULT_SANIC_WORKERS)
    try:
        value = int(raw)
    except ValueError:
        logger.error(
            "Cannot convert environment variable `%s` to int ('%s').", ENV_SANIC_WORKERS, raw
        )
        return DEFAULT_SANIC_WORKERS
    if value < 1:
        warnings.warn(
            f"Cannot set number of Sanic workers to the desired value ({value}). "
            "The number of workers must be at least 1.",
            stacklevel=2,
        )
        return DEFAULT_SANIC_WORKERS
    return value


def check_version_compatibility(rasa_version: str | None) -> None:
    """Warn when Rasa's major.minor differs from this package's (rasa-sdk's rule).

    Our server itself accepts any Rasa 3.x (see `executor.is_compatible_rasa_version`); this
    helper keeps rasa-sdk's stricter check for code that calls it.
    """
    if rasa_version is None:
        warnings.warn(
            "You are using an old version of rasa which might not be compatible with this "
            f"version of action_server ({__version__}).",
            stacklevel=2,
        )
        return
    if rasa_version.split(".")[:-1] != __version__.split(".")[:-1]:
        warnings.warn(
            f"Your versions of rasa and action_server might not be compatible. You are "
            f"currently running rasa version {rasa_version} and action_server version "
            f"{__version__}.",
            stacklevel=2,
        )


def update_sanic_log_level() -> None:
    """Set Sanic's loggers to `LOG_LEVEL_LIBRARIES` (default ERROR), not propagated."""
    from sanic.log import access_logger, error_logger
    from sanic.log import logger as sanic_logger

    level = os.environ.get(ENV_LOG_LEVEL_LIBRARIES, DEFAULT_LOG_LEVEL_LIBRARIES)
    for each in (sanic_logger, error_logger, access_logger):
        each.setLevel(level)
        each.propagate = False


async def call_potential_coroutine(
    coroutine_or_return_value: Coroutine[Any, Any, Any] | Any,
) -> Any:
    """Await a coroutine; return anything else as it is."""
    if asyncio.iscoroutine(coroutine_or_return_value):
        return await coroutine_or_return_value
    return coroutine_or_return_value


def read_file(filename: str | Path, encoding: str = DEFAULT_ENCODING) -> Any:
    """A file's text; `FileNotFoundException` / `FileIOException` naming the absolute path."""
    try:
        with open(filename, encoding=encoding) as handle:
            return handle.read()
    except FileNotFoundError:
        raise FileNotFoundException(
            f"Failed to read file, '{os.path.abspath(filename)}' does not exist."
        ) from None
    except UnicodeDecodeError:
        raise FileIOException(
            f"Failed to read file '{os.path.abspath(filename)}', could not read the file using "
            f"{encoding} to decode it. Please make sure the file is stored with this encoding."
        ) from None


def read_yaml(content: str, reader_type: str = "safe") -> Any:
    """Parse YAML text; an empty document is `{}`. Only the safe loader is offered."""
    if reader_type not in ("safe", "rt"):
        raise ValueError(f"Unsupported YAML reader type {reader_type!r}; use 'safe'.")
    return yaml.safe_load(content) or {}


def read_yaml_file(filename: str | Path) -> dict[str, Any]:
    """Parse a YAML file; a syntax error becomes `YamlSyntaxException` naming the file."""
    try:
        parsed: dict[str, Any] = read_yaml(read_file(filename, DEFAULT_ENCODING))
        return parsed
    except yaml.YAMLError as error:
        raise YamlSyntaxException(filename, error) from None


def file_as_bytes(file_path: str) -> bytes:
    """A file's bytes; `FileNotFoundException` naming the absolute path."""
    try:
        with open(file_path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise FileNotFoundException(
            f"Failed to read file, '{os.path.abspath(file_path)}' does not exist."
        ) from None
