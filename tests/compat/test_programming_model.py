"""Differential test of the programming model: rasa-sdk versus action_server, case by case.

tests/compat/model_cases.py runs in the rasa-sdk virtualenv; a copy with `rasa_sdk` renamed
to `action_server` runs in ours. Each case's outcome (result, exception, warnings) must be
the same JSON text, key order included. Deliberate divergences are listed below, each with
the reason; every other case must match.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import COMPAT_DIR, renamed_copy
from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.compat

Results = dict[str, dict[str, Any]]

# Deliberate divergences: case pattern -> (field of the outcome left out, why).
DELIBERATE: dict[str, tuple[str, str]] = {
    "events/FormValidation/*": (
        "warnings",
        "rasa-sdk's deprecation text has an unbalanced backtick ('The FormValidation` event');"
        " ours reads 'The `FormValidation` event is deprecated...'",
    ),
    "validation/form/dynamic_*": (
        "warnings",
        "for an extract_/validate_ method that returns no dict, our warning names the method"
        " and the type it returned instead of rasa-sdk's 'returns the correct output'",
    ),
}


def _run(python: Path | str, script: Path) -> Results:
    done = subprocess.run(
        [str(python), str(script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script.name} failed under {python}:\n{done.stderr}"
    results: Results = json.loads(done.stdout)
    return results


@pytest.fixture(scope="module")
def outcomes(
    rasa_sdk_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Results, Results]:
    """(rasa-sdk outcomes, our outcomes), each case id -> outcome."""
    source = COMPAT_DIR / "model_cases.py"
    ours = renamed_copy(source, tmp_path_factory.mktemp("compat-model") / "model_cases.py")
    return _run(rasa_sdk_python, source), _run(sys.executable, ours)


def _matches(case_id: str, patterns: dict[str, Any]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(case_id, p)), None)


def _comparable(case_id: str, outcome: dict[str, Any]) -> str:
    pattern = _matches(case_id, DELIBERATE)
    if pattern is not None:
        outcome = {k: v for k, v in outcome.items() if k != DELIBERATE[pattern][0]}
    return json.dumps(outcome)  # no sort_keys: key order is part of the wire format


def _differences(outcomes: tuple[Results, Results], prefix: str) -> list[str]:
    sdk, ours = outcomes
    ids = [i for i in sdk if i.startswith(prefix)]
    assert ids, f"no cases under {prefix!r}"
    return [
        f"{case_id}\n  rasa-sdk: {_comparable(case_id, sdk[case_id])}\n"
        f"  ours:     {_comparable(case_id, ours.get(case_id, {}))}"
        for case_id in ids
        if _comparable(case_id, sdk[case_id]) != _comparable(case_id, ours.get(case_id, {}))
    ]


def test_both_sides_ran_the_same_cases_in_the_same_order(outcomes: tuple[Results, Results]) -> None:
    sdk, ours = outcomes
    assert list(ours) == list(sdk)
    assert len(sdk) > 400


@pytest.mark.parametrize(
    "group", ["events/", "dispatcher/", "tracker/", "action/", "exceptions/", "validation/"]
)
def test_programming_model_matches_rasa_sdk(outcomes: tuple[Results, Results], group: str) -> None:
    differences = _differences(outcomes, group)
    assert not differences, f"{len(differences)} case(s) differ:\n" + "\n".join(differences)


def test_deliberate_divergences_are_still_needed(outcomes: tuple[Results, Results]) -> None:
    """An entry of DELIBERATE that no longer hides a difference should be removed."""
    sdk, ours = outcomes
    for pattern, (field, _why) in DELIBERATE.items():
        ids = [i for i in sdk if fnmatch.fnmatchcase(i, pattern)]
        assert ids, f"pattern {pattern!r} matches no case"
        assert any(sdk[i].get(field) != ours[i].get(field) for i in ids), pattern
