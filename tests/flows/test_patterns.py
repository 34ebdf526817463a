"""Default patterns: shipped in the package (and the wheel), merged under a project's own,
validated together with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from action_server.flows.loader import load_project
from action_server.flows.patterns import default_patterns
from action_server.flows.validation import summary_line, validate_paths
from tests.flows.helpers import write
from tests.helpers import REPO_ROOT

RASA_PATTERNS = {
    "pattern_collect_information",
    "pattern_correction",
    "pattern_cancel_flow",
    "pattern_continue_interrupted",
    "pattern_completed",
    "pattern_clarification",
    "pattern_cannot_handle",
    "pattern_chitchat",
    "pattern_search",
    "pattern_human_handoff",
    "pattern_skip_question",
    "pattern_repeat_bot_messages",
    "pattern_internal_error",
    "pattern_restart",
    "pattern_session_start",
    "pattern_code_change",
    "pattern_user_silence",
    "pattern_validate_slot",
}

DOMAIN = """
slots:
  name: {type: text}
responses:
  utter_ask_name:
    - text: "Name?"
  utter_done:
    - text: "My own cancel text"
"""


def test_every_rasa_pattern_ships_and_validates_on_its_own(tmp_path: Path) -> None:
    assert set(default_patterns()) == RASA_PATTERNS
    write(
        tmp_path,
        "flows.yml",
        "flows:\n  hello:\n    description: x\n    steps:\n      - collect: name\n",
    )
    write(tmp_path, "domain.yml", DOMAIN)
    project, issues, _ = validate_paths([str(tmp_path)])
    assert issues == [], [str(i) for i in issues]
    assert project is not None
    assert RASA_PATTERNS <= set(project.flows)
    assert "utter_can_do_something_else" in project.domain.responses
    assert "continue_interrupted_flow_confirmation" in project.domain.slots
    # The summary counts what the project wrote, not the defaults.
    assert summary_line(project).startswith("OK: 1 flows, 1 steps, 1 slots, 2 responses")


def test_a_project_pattern_replaces_the_default(tmp_path: Path) -> None:
    write(
        tmp_path,
        "patterns.yml",
        """
        flows:
          pattern_cancel_flow:
            description: ours
            steps:
              - action: action_cancel_flow
              - action: utter_done
        """,
    )
    write(tmp_path, "domain.yml", DOMAIN)
    project, issues, _ = validate_paths([str(tmp_path)])
    assert issues == [] and project is not None
    flow = project.flows["pattern_cancel_flow"]
    assert flow.description == "ours"
    assert [s.action for s in flow.steps.values()] == ["action_cancel_flow", "utter_done"]
    assert "pattern_cancel_flow" not in project.default_flows
    assert "pattern_completed" in project.default_flows
    assert summary_line(project).endswith("1 patterns overridden")


def test_the_domain_wins_over_default_responses_and_slots(tmp_path: Path) -> None:
    write(
        tmp_path,
        "domain.yml",
        """
        slots:
          route_session_to_calm: {type: text}
        responses:
          utter_can_do_something_else:
            - text: "Anything more?"
        """,
    )
    project = load_project([tmp_path]).project
    assert project.domain.responses["utter_can_do_something_else"] == [{"text": "Anything more?"}]
    assert project.domain.slots["route_session_to_calm"].type == "text"
    assert "utter_can_do_something_else" not in project.default_responses


def test_a_project_pattern_linking_to_a_missing_flow_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "patterns.yml",
        """
        flows:
          pattern_completed:
            description: ours
            steps:
              - link: pattern_feedback
        """,
    )
    _, issues, _ = validate_paths([str(tmp_path)])
    assert [str(i) for i in issues] == [
        f"{path}:5:9: flow 'pattern_completed' step '0_link_pattern_feedback': "
        "link to unknown flow 'pattern_feedback'"
    ]


def test_user_flows_may_link_to_handoff_but_not_call_patterns(tmp_path: Path) -> None:
    write(
        tmp_path,
        "flows.yml",
        """
        flows:
          fraud:
            description: hand over
            steps:
              - link: pattern_human_handoff
          sneaky:
            description: calls a pattern
            steps:
              - call: pattern_completed
          jumpy:
            description: links to a pattern it may not
            steps:
              - link: pattern_correction
        """,
    )
    _, issues, _ = validate_paths([str(tmp_path)])
    messages = sorted(issue.message for issue in issues)
    assert messages == [
        "a flow cannot call the pattern 'pattern_completed'",
        "a flow may link only to pattern_chitchat or pattern_human_handoff among the patterns, "
        "not to 'pattern_correction'",
    ]


def test_the_defaults_are_found_inside_a_built_wheel(tmp_path: Path) -> None:
    """The YAML is package data: a wheel carries it and loads it from the zip."""
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO_ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("action_server-*.whl")
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import action_server; assert action_server.__file__.startswith(sys.argv[1]), "
        "action_server.__file__;"
        "from action_server.flows.patterns import default_patterns;"
        "print(len(default_patterns()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(wheel)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(RASA_PATTERNS))


def test_slot_validation_in_the_domain_is_parsed_and_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "domain.yml",
        """
        slots:
          amount:
            type: float
            validation:
              rejections:
                - if: slots.amount > 10
                  utter: utter_too_much
              refill_utter: utter_ask_again
        responses:
          utter_ask_again:
            - text: "Again?"
        """,
    )
    project, issues, _ = validate_paths([str(tmp_path)])
    assert [str(i) for i in issues] == [
        f"{path}:6:11: slot 'amount': validation names unknown response 'utter_too_much'"
    ]
    slot = load_project([tmp_path]).project.domain.slots["amount"]
    assert slot.refill_utter == "utter_ask_again"
    assert slot.rejections[0].condition.evaluate({"amount": 11.0}, {})


def test_a_rasa_style_patterns_file_with_templates_validates(tmp_path: Path) -> None:
    """Constructs Rasa's own pattern overrides use: templated action names, context
    conditions with quoted strings, jinja responses, the built-in actions and responses."""
    write(
        tmp_path,
        "data/patterns.yml",
        """
        flows:
          pattern_collect_information:
            description: ask for a slot
            steps:
              - id: start
                action: action_run_slot_rejections
              - action: validate_{{context.collect}}
                next:
                  - if: "slots.{{context.collect}} is not null"
                    then: END
                  - else: ask_collect
              - id: ask_collect
                action: "{{context.utter}}"
              - action: "{{context.collect_action}}"
              - action: action_listen
          pattern_internal_error:
            description: errors
            steps:
              - noop: true
                next:
                  - if: context.error_type = "rasa_internal_error_user_input_empty"
                    then:
                      - action: utter_user_input_empty_error_rasa
                        next: END
                  - else:
                      - action: utter_internal_error_rasa
                        next: END
          pattern_clarification:
            description: which one?
            steps:
              - action: action_clarify_flows
              - action: utter_clarification_options_rasa
        """,
    )
    write(
        tmp_path,
        "domain/responses.yml",
        """
        responses:
          utter_corrected_previous_input:
            - text: "Updating {{ context.corrected_slots.keys()|join(', ') }}."
              metadata:
                rephrase: True
                template: jinja
        """,
    )
    result = subprocess.run(
        [sys.executable, "-m", "action_server", "flows", "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 3 flows, ")
