"""Discovery of user actions: targets, packages, duplicates and import errors."""

from __future__ import annotations

import logging
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from action_server.exceptions import ActionLoadError
from action_server.executor.discovery import load_actions, reload_actions, snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def names(target: str) -> list[str]:
    return [action.name() for action in load_actions(target).actions]


def write_package(root: Path, files: dict[str, str]) -> Path:
    """A fresh, uniquely named package under `root` (module names must not collide)."""
    package = root / f"pkg_{uuid.uuid4().hex[:10]}"
    for relative, source in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return package


ACTION_SOURCE = """
    from action_server import Action

    class {cls}(Action):
        def name(self):
            return "{name}"

        def run(self, dispatcher, tracker, domain):
            return []
"""


def test_package_path_registers_modules_subpackages_and_namespace_dirs_in_order() -> None:
    assert names(str(FIXTURES / "actions_ok")) == [
        "action_greet",
        "action_async_hello",
        "validate_example_form",
        "action_in_namespace",
        "action_deep",
    ]


def test_package_directory_without_python_files_is_not_imported() -> None:
    loaded = load_actions(str(FIXTURES / "actions_ok"))
    assert "actions_ok.data" not in {module.__name__ for module in loaded.modules}


def test_library_base_classes_and_user_helper_bases_are_not_registered() -> None:
    registered = {
        type(action).__name__ for action in load_actions(str(FIXTURES / "actions_ok")).actions
    }
    assert "Action" not in registered
    assert "FormValidationAction" not in registered
    assert "ActionHelperBase" not in registered


def test_namespace_package_without_init_is_walked_recursively() -> None:
    assert names(str(FIXTURES / "actions_namespace")) == ["action_nested", "action_top"]


def test_dotted_module_name_is_imported_like_a_package_path() -> None:
    assert names("tests.fixtures.actions_ok.sub") == ["action_deep"]


def test_single_python_file_path_is_loaded_as_a_module() -> None:
    assert names(f"{FIXTURES}/my_actions.py") == ["action_from_file"]


def test_relative_path_is_resolved_against_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES)
    assert names("./my_actions.py") == ["action_from_file"]
    assert names("actions_namespace/") == ["action_nested", "action_top"]


def test_missing_path_is_a_load_error() -> None:
    with pytest.raises(ActionLoadError, match="does not exist"):
        load_actions("./no/such/actions_dir")


def test_unknown_module_name_is_a_load_error_naming_it() -> None:
    with pytest.raises(ActionLoadError, match="no module or package named 'no_such_actions_pkg'"):
        load_actions("no_such_actions_pkg")


def test_invalid_target_is_a_load_error() -> None:
    with pytest.raises(ActionLoadError, match="neither a dotted Python module name"):
        load_actions("not a module")


def test_duplicate_action_names_name_both_classes_and_files() -> None:
    with pytest.raises(ActionLoadError) as error:
        load_actions(str(FIXTURES / "actions_duplicate"))
    message = str(error.value)
    assert "Duplicate action name 'action_same'" in message
    assert "actions_duplicate.one.ActionFirst" in message
    assert "actions_duplicate.two.ActionSecond" in message
    assert str(FIXTURES / "actions_duplicate" / "one.py") in message
    assert str(FIXTURES / "actions_duplicate" / "two.py") in message


def test_subclass_without_name_override_replaces_its_base_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="action_server.executor.discovery"):
        actions = load_actions(str(FIXTURES / "actions_subclass")).actions
    assert [(a.name(), type(a).__name__) for a in actions] == [
        ("action_book", "ActionBookWithDeposit")
    ]
    assert "most derived" in caplog.text
    assert "ActionBookWithDeposit" in caplog.text


def test_subclass_overriding_name_with_the_same_value_is_a_conflict(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "both.py": """
                from action_server import Action

                class ActionA(Action):
                    def name(self):
                        return "action_x"

                class ActionB(ActionA):
                    def name(self):
                        return "action_x"
            """,
        },
    )
    with pytest.raises(ActionLoadError, match="Duplicate action name 'action_x'"):
        load_actions(str(package))


def test_missing_dependency_names_file_and_line() -> None:
    with pytest.raises(ActionLoadError) as error:
        load_actions(str(FIXTURES / "actions_import_error"))
    message = str(error.value)
    assert f"{FIXTURES / 'actions_import_error' / 'broken.py'}, line 5" in message
    assert "ModuleNotFoundError" in message
    assert "module_that_does_not_exist_for_tests" in message
    assert error.value.line == 5


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    package = write_package(
        tmp_path, {"__init__.py": "", "bad.py": "x = 1\n\ndef broken(:\n    pass\n"}
    )
    with pytest.raises(ActionLoadError) as error:
        load_actions(str(package))
    assert f"{package / 'bad.py'}, line 3" in str(error.value)
    assert "SyntaxError" in str(error.value)


def test_exception_at_import_names_file_and_line(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {"__init__.py": "", "boom.py": "import os\n\nraise RuntimeError('no config')\n"},
    )
    with pytest.raises(ActionLoadError) as error:
        load_actions(str(package))
    assert f"{package / 'boom.py'}, line 3" in str(error.value)
    assert "RuntimeError: no config" in str(error.value)


def test_action_that_cannot_be_created_without_arguments_is_a_load_error(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": """
                from action_server import Action

                class ActionNeedsArgs(Action):
                    def __init__(self, client):
                        self.client = client

                    def name(self):
                        return "action_needs_args"
            """
        },
    )
    with pytest.raises(ActionLoadError, match="Cannot create action class .*ActionNeedsArgs"):
        load_actions(str(package))


def test_path_target_refuses_a_different_module_already_imported_under_its_name(
    tmp_path: Path,
) -> None:
    twin = tmp_path / "actions_ok"
    twin.mkdir()
    (twin / "__init__.py").write_text("")
    load_actions(str(FIXTURES / "actions_ok"))
    with pytest.raises(ActionLoadError, match="already imported"):
        load_actions(str(twin))


def test_reload_picks_up_edits_and_new_modules(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {"__init__.py": "", "one.py": ACTION_SOURCE.format(cls="ActionOne", name="action_one")},
    )
    loaded = load_actions(str(package))
    (package / "one.py").write_text(
        textwrap.dedent(ACTION_SOURCE.format(cls="ActionOne", name="action_one_renamed"))
    )
    (package / "two.py").write_text(
        textwrap.dedent(ACTION_SOURCE.format(cls="ActionTwo", name="action_two"))
    )
    reloaded = reload_actions(loaded)
    assert [a.name() for a in reloaded.actions] == ["action_one_renamed", "action_two"]


def test_failed_reload_restores_the_previous_modules(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {"__init__.py": "", "one.py": ACTION_SOURCE.format(cls="ActionOne", name="action_one")},
    )
    loaded = load_actions(str(package))
    old_module = sys.modules[f"{package.name}.one"]
    (package / "one.py").write_text("def broken(:\n")
    with pytest.raises(ActionLoadError, match="SyntaxError"):
        reload_actions(loaded)
    assert sys.modules[f"{package.name}.one"] is old_module


def test_snapshot_sees_python_and_yaml_files_but_not_bytecode(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "api.yml": "api_actions: []\n",
            "notes.txt": "ignored",
            "__pycache__/x.cpython-311.pyc": "",
        },
    )
    assert sorted(Path(p).name for p in snapshot([package])) == ["__init__.py", "api.yml"]
