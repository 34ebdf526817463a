"""Differential test of rasa-sdk's `ActionExecutor` API, `slots`, `utils`, `constants` and
`knowledge_base`: tests/compat/executor_cases.py runs under rasa-sdk and, renamed, under us.

Every case's outcome (result, exception type and text, warning categories, logged levels) must
be the same JSON text, key order included.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import COMPAT_DIR, renamed_copy
from tests.compat.test_programming_model import _run

pytestmark = pytest.mark.compat

Results = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def outcomes(
    rasa_sdk_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Results, Results]:
    source = COMPAT_DIR / "executor_cases.py"
    ours = renamed_copy(source, tmp_path_factory.mktemp("compat-executor") / "executor_cases.py")
    return _run(rasa_sdk_python, source), _run(sys.executable, ours)


def test_both_sides_ran_the_same_cases(outcomes: tuple[Results, Results]) -> None:
    sdk, ours = outcomes
    assert list(ours) == list(sdk)
    assert len(sdk) >= 100


@pytest.mark.parametrize(
    "group",
    [
        "run/",
        "sink/",
        "registry/",
        "register_function/",
        "register_package/",
        "reload/",
        "validate_events/",
        "domain/",
        "exceptions/",
        "slots/",
        "constants/",
        "utils/",
        "knowledge_base/",
    ],
)
def test_executor_api_matches_rasa_sdk(outcomes: tuple[Results, Results], group: str) -> None:
    sdk, ours = outcomes
    ids = [i for i in sdk if i.startswith(group)]
    assert ids, f"no cases under {group!r}"
    differences = [
        f"{i}\n  rasa-sdk: {json.dumps(sdk[i])}\n  ours:     {json.dumps(ours.get(i))}"
        for i in ids
        if json.dumps(sdk[i]) != json.dumps(ours.get(i))
    ]
    assert not differences, f"{len(differences)} case(s) differ:\n" + "\n".join(differences)


def test_the_cases_exercise_real_behaviour(outcomes: tuple[Results, Results]) -> None:
    """Guards against a harness that compares two identical failures."""
    sdk, _ = outcomes
    assert sdk["run/action_exception_surfaces"]["error"][0] == "KeyError"
    assert sdk["reload/new_module"]["result"] == ["action_pkg_new", "action_pkg_one"]
    stream_events = [item["event"] for item in sdk["sink/stream"]["result"][1]]
    assert stream_events == [
        "stream_start",
        "stream_chunk",
        "stream_chunk",
        "stream_end",
        "stream_done",
    ]
    errors = [i for i, outcome in sdk.items() if "error" in outcome]
    assert len(errors) <= 5, errors
