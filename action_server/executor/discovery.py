"""Find and import the user's actions package and collect its `Action` classes.

Targets are a dotted module name (``actions``, ``my_bot.actions``) or a path
(``actions/``, ``./my_actions.py``). Packages are walked recursively, namespace
packages (directories without ``__init__.py``) included, which `pkgutil` skips.
Every failure becomes an `ActionLoadError` whose message names the file and line.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from action_server.exceptions import ActionLoadError
from action_server.interfaces import Action

__all__ = [
    "LoadedActions",
    "checked_name",
    "describe_origin",
    "discover_actions",
    "load_actions",
    "reload_actions",
    "snapshot",
]

logger = logging.getLogger(__name__)

# Files whose change triggers an auto-reload: Python modules and the YAML that other
# action kinds (API actions) keep beside them.
WATCHED_SUFFIXES = (".py", ".yml", ".yaml")
# Our own base classes (Action, FormValidationAction, ValidationAction, ...) are never
# user actions, even when a user module imports them.
_LIBRARY_PREFIXES = ("action_server.", "rasa_sdk.")

FileStamp = dict[str, tuple[int, int]]


@dataclass
class LoadedActions:
    """One imported actions package: its modules, the files to watch, its actions."""

    target: str
    module_name: str
    roots: list[Path]
    modules: list[ModuleType]
    actions: list[Action]
    stamp: FileStamp = field(default_factory=dict)


def load_actions(target: str) -> LoadedActions:
    """Import `target` and everything below it; return its actions in discovery order."""
    module_name, path = _resolve_target(target)
    _check_not_shadowed(module_name, path)
    roots_hint = [path] if path is not None else []
    stamp = snapshot(roots_hint) if roots_hint else {}
    top = _import(module_name, target, roots_hint)
    roots = _roots_of(top)
    if not roots_hint:
        # Taken after the import only for dotted names (we did not know where they live);
        # an edit racing this import is then picked up on the next change.
        stamp = snapshot(roots)
    modules = [top, *_import_submodules(top, target, roots)]
    return LoadedActions(
        target=target,
        module_name=module_name,
        roots=roots,
        modules=modules,
        actions=discover_actions(modules),
        stamp=stamp,
    )


def reload_actions(loaded: LoadedActions) -> LoadedActions:
    """Re-import the package from scratch; on failure the old modules are put back.

    A fresh import (rather than `importlib.reload` module by module) picks up new and
    deleted modules and leaves no stale classes behind.
    """
    prefix = loaded.module_name
    saved = _pop_modules(prefix)
    importlib.invalidate_caches()
    try:
        return load_actions(loaded.target)
    except BaseException:
        _pop_modules(prefix)
        sys.modules.update(saved)
        _restore_parent_attribute(prefix, saved.get(prefix))
        raise


def snapshot(roots: Sequence[Path]) -> FileStamp:
    """(mtime_ns, size) of every watched file under `roots`; cheap enough to poll each second."""
    stamp: FileStamp = {}
    for root in roots:
        if root.is_file():
            _stamp_file(stamp, str(root))
            continue
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = [d for d in subdirs if d != "__pycache__" and not d.startswith(".")]
            for name in files:
                if name.endswith(WATCHED_SUFFIXES):
                    _stamp_file(stamp, os.path.join(directory, name))
    return stamp


def discover_actions(modules: Sequence[ModuleType]) -> list[Action]:
    """One instance per user action class found in `modules`, in registration order.

    Two classes returning the same name are an error, except when one is a subclass of
    the other that inherits its `name` method: then the most derived class wins.
    """
    candidates: list[tuple[str, type[Action], Action]] = []
    for cls in _user_action_classes(modules):
        action = _instantiate(cls)
        name = _name_of(action, cls)
        if name is not None:
            candidates.append((name, cls, action))

    by_name: dict[str, list[tuple[type[Action], Action]]] = {}
    for name, cls, action in candidates:
        by_name.setdefault(name, []).append((cls, action))
    return [_pick_winner(name, claims) for name, claims in by_name.items()]


def describe_origin(obj: Any) -> str:
    """`'pkg.mod.ActionX' (/path/mod.py, line 12)` for an action class or instance."""
    cls = obj if isinstance(obj, type) else type(obj)
    where = _class_location(cls)
    return f"class '{cls.__module__}.{cls.__qualname__}' ({where})"


# --- target resolution --------------------------------------------------------------


def _looks_like_path(target: str) -> bool:
    return (
        "/" in target
        or os.sep in target
        or target.endswith(".py")
        or target in (".", "..")
        or target.startswith("~")
    )


def _resolve_target(target: str) -> tuple[str, Path | None]:
    """Dotted name -> (name, None); path -> (module name, absolute path), parent on sys.path."""
    if not target or not target.strip():
        raise ActionLoadError("No actions module given: pass a dotted module name or a path.")
    if not _looks_like_path(target):
        if not all(part.isidentifier() for part in target.split(".")):
            raise ActionLoadError(
                f"'{target}' is neither a dotted Python module name nor a path to a "
                "package directory or a .py file."
            )
        # A console script does not put the working directory on sys.path the way
        # `python -m` does; users expect `--actions actions` to find ./actions.
        cwd = os.getcwd()
        if cwd not in sys.path:
            sys.path.append(cwd)
        return target, None

    path = Path(target).expanduser().resolve()
    if not path.exists():
        raise ActionLoadError(f"Actions path '{target}' does not exist ({path}).")
    if path.is_file():
        if path.suffix != ".py":
            raise ActionLoadError(f"Actions path '{target}' is not a Python (.py) file.")
        name = path.stem
    else:
        name = path.name
    if not name.isidentifier():
        raise ActionLoadError(
            f"Actions path '{target}': '{name}' is not a valid Python module name "
            "(use letters, digits and underscores)."
        )
    parent = str(path.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    return name, path


def _check_not_shadowed(module_name: str, path: Path | None) -> None:
    """A path target must not silently resolve to another, already imported module."""
    existing = sys.modules.get(module_name)
    if existing is None or path is None:
        return
    locations = [Path(p).resolve() for p in _roots_of(existing)]
    if path.resolve() not in locations:
        where = ", ".join(str(p) for p in locations) or "an unknown location"
        raise ActionLoadError(
            f"Cannot load actions from '{path}': a different module named "
            f"'{module_name}' is already imported from {where}. Rename the package."
        )


def _roots_of(module: ModuleType) -> list[Path]:
    """Directories of a package (several for a namespace package) or the module file."""
    package_path = getattr(module, "__path__", None)
    if package_path is not None:
        return [Path(p) for p in package_path]
    file = getattr(module, "__file__", None)
    return [Path(file)] if file else []


# --- importing ----------------------------------------------------------------------


def _import(name: str, target: str, roots: Sequence[Path]) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ActionLoadError:
        raise
    except (Exception, SystemExit) as error:
        raise _import_error(name, target, error, roots) from error


def _import_submodules(package: ModuleType, target: str, roots: Sequence[Path]) -> list[ModuleType]:
    modules: list[ModuleType] = []
    for name, is_package in _submodule_names(package):
        module = _import(name, target, roots)
        modules.append(module)
        if is_package:
            modules.extend(_import_submodules(module, target, roots))
    return modules


def _submodule_names(package: ModuleType) -> Iterator[tuple[str, bool]]:
    """Direct children of `package`, sorted: `x.py` modules and `x/` (sub)packages."""
    seen: set[str] = set()
    for directory in list(getattr(package, "__path__", [])):
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir():
                child, is_package = entry.name, True
                if child == "__pycache__" or not _contains_python(entry.path):
                    continue
            elif entry.name.endswith(".py") and entry.name != "__init__.py":
                child, is_package = entry.name[:-3], False
            else:
                continue
            if not child.isidentifier() or child in seen:
                continue
            seen.add(child)
            yield f"{package.__name__}.{child}", is_package


def _contains_python(directory: str) -> bool:
    """Only directories holding Python code become (namespace) packages; data dirs do not."""
    for _current, subdirs, files in os.walk(directory):
        subdirs[:] = [d for d in subdirs if d != "__pycache__" and not d.startswith(".")]
        if any(name.endswith(".py") for name in files):
            return True
    return False


def _pop_modules(prefix: str) -> dict[str, ModuleType]:
    names = [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]
    return {name: sys.modules.pop(name) for name in names}


def _restore_parent_attribute(name: str, module: ModuleType | None) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent is not None and module is not None:
        setattr(parent, child, module)


def _import_error(
    name: str, target: str, error: BaseException, roots: Sequence[Path]
) -> ActionLoadError:
    """An `ActionLoadError` naming file, line and error, without the import machinery noise."""
    if isinstance(error, ModuleNotFoundError) and error.name in _own_prefixes(name):
        return ActionLoadError(
            f"Cannot load actions from '{target}': no module or package named "
            f"'{error.name}' (searched the working directory {os.getcwd()} and sys.path)."
        )
    if isinstance(error, SyntaxError):
        file, line = error.filename, error.lineno
        detail = f"SyntaxError: {error.msg}"
    else:
        file, line = _error_location(error, roots)
        detail = f"{type(error).__name__}: {error}"
    where = f"{file}, line {line}" if file and line else (file or f"module '{name}'")
    return ActionLoadError(
        f"Cannot load actions from '{target}': error while importing '{name}' ({where}): {detail}",
        file=file,
        line=line,
    )


def _own_prefixes(name: str) -> set[str]:
    """'a.b.c' -> {'a', 'a.b', 'a.b.c'}: a missing one of these is the target itself."""
    parts = name.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def _error_location(error: BaseException, roots: Sequence[Path]) -> tuple[str | None, int | None]:
    """The deepest traceback frame in the user's files, else the deepest real frame."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith("<")
    ]
    root_strings = [str(r) for r in roots]
    inside = [f for f in frames if any(f.filename.startswith(r) for r in root_strings)]
    candidates = inside or frames
    if not candidates:
        return None, None
    return candidates[-1].filename, candidates[-1].lineno


# --- discovery ----------------------------------------------------------------------


def _is_library_class(cls: type) -> bool:
    module = cls.__module__
    return module in ("action_server", "rasa_sdk") or module.startswith(_LIBRARY_PREFIXES)


def _user_action_classes(modules: Sequence[ModuleType]) -> list[type[Action]]:
    """Classes defined in the user's modules first (definition order), then re-exported ones."""
    names = {module.__name__ for module in modules}
    defined: list[type[Action]] = []
    imported: list[type[Action]] = []
    seen: set[type] = set()
    for module in modules:
        for value in list(vars(module).values()):
            if not _is_registrable(value) or value in seen:
                continue
            seen.add(value)
            (defined if value.__module__ in names else imported).append(value)
    return defined + imported


def _is_registrable(value: Any) -> bool:
    if not (isinstance(value, type) and issubclass(value, Action)):
        return False
    return not (value is Action or _is_library_class(value) or inspect.isabstract(value))


def _instantiate(cls: type[Action]) -> Action:
    try:
        return cls()
    except Exception as error:
        raise ActionLoadError(
            f"Cannot create action {describe_origin(cls)}: "
            f"{type(error).__name__}: {error}. Actions are created without arguments."
        ) from error


def checked_name(action: Action) -> str:
    """`action.name()`, or an `ActionLoadError` naming the class and its file if unusable."""
    try:
        name = action.name()
    except Exception as error:
        raise ActionLoadError(
            f"name() of action {describe_origin(action)} raised {type(error).__name__}: {error}"
        ) from error
    if not isinstance(name, str) or not name:
        raise ActionLoadError(
            f"name() of action {describe_origin(action)} returned {name!r}; "
            "expected a non-empty string."
        )
    return name


def _name_of(action: Action, cls: type[Action]) -> str | None:
    """The action's name, or None for a user base class that never implements name()."""
    try:
        return checked_name(action)
    except ActionLoadError as error:
        if isinstance(error.__cause__, NotImplementedError) and _is_library_class(_name_owner(cls)):
            logger.debug("Skipping %s: it does not implement name().", describe_origin(cls))
            return None
        raise


def _pick_winner(name: str, claims: list[tuple[type[Action], Action]]) -> Action:
    if len(claims) == 1:
        return claims[0][1]
    for cls, action in claims:
        if all(_inherits_name_from(cls, other) for other, _ in claims if other is not cls):
            shadowed = ", ".join(describe_origin(other) for other, _ in claims if other is not cls)
            logger.warning(
                "Action '%s' is claimed by %s and by its subclass %s, which does not "
                "override name(); registering the most derived class.",
                name,
                shadowed,
                describe_origin(cls),
            )
            return action
    first, second = _first_conflict(claims)
    raise ActionLoadError(
        f"Duplicate action name '{name}': {describe_origin(first)} and "
        f"{describe_origin(second)} both return it from name(). Rename one of them."
    )


def _name_owner(cls: type) -> type:
    """The class in the MRO that defines the `name` method `cls` uses."""
    return next((klass for klass in cls.__mro__ if "name" in vars(klass)), cls)


def _inherits_name_from(sub: type, base: type) -> bool:
    return issubclass(sub, base) and (
        inspect.getattr_static(sub, "name") is inspect.getattr_static(base, "name")
    )


def _first_conflict(claims: list[tuple[type[Action], Action]]) -> tuple[type, type]:
    classes = [cls for cls, _ in claims]
    for i, a in enumerate(classes):
        for b in classes[i + 1 :]:
            if not (_inherits_name_from(a, b) or _inherits_name_from(b, a)):
                return a, b
    return classes[0], classes[1]


def _class_location(cls: type) -> str:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None) or "<unknown file>"
    try:
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return file
    return f"{file}, line {line}"


def _stamp_file(stamp: FileStamp, path: str) -> None:
    try:
        info = os.stat(path)
    except OSError:
        return
    stamp[path] = (info.st_mtime_ns, info.st_size)
