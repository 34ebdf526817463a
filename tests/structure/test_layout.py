"""The package layout: the root holds rasa-sdk's public module names, imports point one way.

`docs/architecture.md` is the map these tests hold the code to. A new module at the package
root, an import cycle, or an import from a lower layer into a higher one fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "action_server"

# rasa-sdk 3.x's public modules and packages (`rasa_sdk.X`): the only names allowed as
# modules at our package root, so `rasa_sdk.X` -> `action_server.X` works for every X.
RASA_SDK_MODULES = frozenset(
    {
        "constants",
        "cors",
        "endpoint",
        "events",
        "exceptions",
        "executor",
        "forms",
        "grpc_errors",
        "grpc_server",
        "interfaces",
        "plugin",
        "slots",
        "types",
        "utils",
        "version",
    }
)
RASA_SDK_PACKAGES = frozenset({"cli", "grpc_py", "knowledge_base", "tracing"})
ROOT_EXTRAS = frozenset({"__init__.py", "__main__.py", "py.typed"})

# Our subpackages, lowest layer first. A module may import from its own layer or below.
# The rasa-sdk surface spans layers: its model modules (with `utils`, `slots`, `knowledge_base`)
# are the lowest, `executor` above them, `tracing` (which instruments the executor) above that,
# `plugin` beside `server` (the app factory runs its hook), and the entry points (`cli`,
# `__main__`, `endpoint`, `grpc_server`, `grpc_errors`, `grpc_py`, `cors`) on top.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "types",
            "events",
            "exceptions",
            "constants",
            "version",
            "slots",
            "interfaces",
            "forms",
            "knowledge_base",
            "utils",
        }
    ),
    frozenset({"executor"}),
    frozenset({"config"}),
    frozenset({"tracing"}),
    frozenset({"kinds"}),
    frozenset({"client"}),
    frozenset({"stores"}),
    frozenset({"flows"}),
    frozenset({"understanding"}),
    frozenset({"dialogue"}),
    frozenset({"channels"}),
    frozenset({"testing"}),
    frozenset({"inspector"}),
    frozenset({"server", "plugin"}),
    frozenset(
        {
            "cli",
            "__main__",
            "endpoint",
            "grpc_server",
            "grpc_errors",
            "grpc_py",
            "cors",
        }
    ),
)
OUR_SUBPACKAGES = (
    frozenset(name for layer in LAYERS for name in layer if (PACKAGE / name).is_dir())
    - RASA_SDK_MODULES
    - RASA_SDK_PACKAGES
)
# The package's `__init__` is the public face (`from action_server import Action, action`):
# it re-exports from any layer and nothing imports it for more than those names.
FACADE = "action_server"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """Every module of ours that `module` imports: top level, in functions, under TYPE_CHECKING."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "action_server":
                    yield _closest(alias.name, known), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "action_server":
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                yield (candidate if candidate in known else _closest(target, known)), node.lineno


def _closest(name: str, known: set[str]) -> str:
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _graph() -> dict[str, dict[str, int]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for target, line in _imported(module, path, known):
            if target != module:
                edges.setdefault(target, line)
    return graph


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    top = _top(module)
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(
        f"{module}: '{top}' belongs to no layer; add it to LAYERS and docs/architecture.md"
    )


def test_package_root_holds_only_rasa_sdk_module_names() -> None:
    strays = []
    for entry in sorted(PACKAGE.iterdir()):
        if entry.name == "__pycache__" or entry.name in ROOT_EXTRAS:
            continue
        if entry.is_dir():
            if entry.name not in RASA_SDK_PACKAGES | RASA_SDK_MODULES | OUR_SUBPACKAGES:
                strays.append(f"{entry.name}/ (not a rasa-sdk name nor one of our subpackages)")
        elif entry.suffix == ".py":
            if entry.stem not in RASA_SDK_MODULES:
                strays.append(f"{entry.name} (not a rasa-sdk public module name)")
        else:
            strays.append(f"{entry.name} (not a module)")
    assert not strays, (
        "The package root holds exactly rasa-sdk's public module names; move these into the "
        "subpackage named for their job: " + ", ".join(strays)
    )


def test_every_subpackage_has_a_layer() -> None:
    for entry in PACKAGE.iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            _layer(f"action_server.{entry.name}")


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, edges in _graph().items():
        if module == FACADE:
            continue
        for target, line in edges.items():
            if target == FACADE:
                upward.append(f"{module}:{line} imports the package facade; import the module")
            elif _layer(target) > _layer(module):
                upward.append(f"{module}:{line} -> {target}")
    assert not upward, "imports from a lower layer into a higher one:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from action_server.dialogue.engine import FlowEngine", "action_server.dialogue.engine"),
        ("from action_server.dialogue import flow_events", "action_server.dialogue.flow_events"),
        ("import action_server.server.app", "action_server.server.app"),
        ("from action_server.stores import create_store", "action_server.stores"),
    ],
)
def test_import_resolution_finds_the_module(source: str, expected: str, tmp_path: Path) -> None:
    """The checker itself: it sees submodules, package attributes and plain imports."""
    path = tmp_path / "probe.py"
    path.write_text(source + "\n")
    found = {target for target, _ in _imported("action_server.probe", path, set(_modules()))}
    assert found == {expected}
