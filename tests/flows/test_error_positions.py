"""Error messages point at the exact token to fix: file, line, column and a plain message."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_server.flows.issues import Issue
from action_server.flows.loader import load_project

from .helpers import issues_for, write

DOMAIN = """
intents:
  - greet
  - book
slots:
  size:
    type: float
responses:
  utter_done:
    - text: Done
"""


def only_issue(tmp_path: Path, flows: str, domain: str = DOMAIN) -> Issue:
    issues = issues_for(tmp_path, flows, domain)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def yaml_issue(tmp_path: Path, text: str) -> Issue:
    path = tmp_path / "flows.yml"
    path.write_text(text, encoding="utf-8")
    issues = load_project([tmp_path]).issues
    assert len(issues) == 1, [str(i) for i in issues]
    assert issues[0].file == str(path)
    return issues[0]


def test_nlu_trigger_intent_missing_from_domain_intents_is_an_error(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            nlu_trigger:
              - intent: greet
              - intent: {name: bok, confidence_threshold: 0.5}
            steps:
              - action: utter_done
        """,
    )
    assert (issue.file, issue.line, issue.column) == (str(tmp_path / "flows.yml"), 5, 24)
    assert issue.flow_id == "f" and issue.step_id is None
    assert issue.message == "nlu_trigger: unknown intent 'bok' (not in the domain's 'intents')"
    assert str(issue).startswith(f"{tmp_path / 'flows.yml'}:5:24: flow 'f': nlu_trigger: ")


def test_nlu_trigger_is_unchecked_when_the_domain_lists_no_intents(tmp_path: Path) -> None:
    flows = """
        flows:
          f:
            nlu_trigger:
              - intent: anything
            steps:
              - action: utter_done
        """
    assert issues_for(tmp_path, flows, "responses:\n  utter_done:\n    - text: Done\n") == []


def test_nlu_trigger_accepts_rasa_default_intents(tmp_path: Path) -> None:
    flows = """
        flows:
          f:
            nlu_trigger:
              - intent: restart
              - out_of_scope
            steps:
              - action: utter_done
        """
    assert issues_for(tmp_path, flows, DOMAIN) == []


def test_nlu_trigger_with_empty_intent_name_is_an_error(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            nlu_trigger:
              - intent: ""
            steps:
              - action: utter_done
        """,
    )
    assert (issue.line, issue.column) == (4, 17)
    assert issue.message == "'nlu_trigger': the intent name is empty"


@pytest.mark.parametrize(
    ("condition", "column"),
    [
        ("slots.size > 1 and slots.nope = 2", 28),  # plain scalar: the value starts at column 9
        ('"slots.size > 1 and slots.nope = 2"', 29),  # quoted: one more for the quote
    ],
)
def test_unknown_slot_in_condition_points_at_the_slots_token(
    tmp_path: Path, condition: str, column: int
) -> None:
    issue = only_issue(
        tmp_path,
        f"""
        flows:
          f:
            if: {condition}
            steps:
              - action: utter_done
        """,
    )
    assert (issue.line, issue.column) == (3, column)
    assert issue.flow_id == "f"
    assert issue.message == (
        "condition 'slots.size > 1 and slots.nope = 2' uses unknown slot 'nope' (not in the domain)"
    )


def test_unknown_slot_in_next_condition_points_at_the_slots_token(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: utter_done
                next:
                  - if: not slots.missing
                    then: END
                  - else: END
        """,
    )
    assert (issue.line, issue.column) == (6, 21)
    assert issue.step_id == "0_action_utter_done"
    assert "uses unknown slot 'missing'" in issue.message


def test_unclosed_flow_sequence_is_reported_where_it_opens(tmp_path: Path) -> None:
    issue = yaml_issue(
        tmp_path, "flows:\n  f:\n    description: hi\n    steps: [ {action: utter_done}\n"
    )
    assert (issue.line, issue.column) == (4, 12)
    assert issue.message == "invalid YAML: unclosed flow sequence '[' (reached end of file)"


def test_unclosed_flow_mapping_is_reported_where_it_opens(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f: {steps: []\n")
    assert (issue.line, issue.column) == (2, 6)
    assert issue.message == "invalid YAML: unclosed flow mapping '{' (reached end of file)"


def test_unclosed_bracket_before_more_lines_is_reported_where_it_opens(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f:\n    steps: [\n      {action: a},\n    name: x\n")
    assert (issue.line, issue.column) == (3, 12)
    assert issue.message == "invalid YAML: unclosed flow sequence '[' (reached end of file)"


def test_unclosed_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, 'flows:\n  f:\n    description: "hi\n    steps: []\n')
    assert (issue.line, issue.column) == (3, 18)
    assert issue.message == (
        'invalid YAML: unclosed quoted string: no closing " before the end of file'
    )


def test_missing_comma_in_flow_sequence_is_reported_at_the_problem(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f:\n    steps: [{action: a} {action: b}]\n")
    assert (issue.line, issue.column) == (3, 25)
    assert issue.message == (
        "invalid YAML: expected ',' or ']', but got '{' "
        "(in the flow sequence '[' that starts at line 3)"
    )


def test_misindented_key_is_reported_as_bad_indentation(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f:\n    description: hi\n   steps: []\n")
    assert (issue.line, issue.column) == (4, 4)
    assert issue.message == (
        "invalid YAML: bad indentation: this line does not line up with "
        "the block starting at line 2"
    )


def test_misindented_list_item_is_reported_as_bad_indentation(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f:\n    steps:\n    - action: a\n  - action: b\n")
    assert (issue.line, issue.column) == (5, 3)
    assert issue.message == (
        "invalid YAML: bad indentation: a list item ('- ') where "
        "the block starting at line 2 expects a key"
    )


def test_tab_indentation_is_named(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n\tf: {}\n")
    assert (issue.line, issue.column) == (2, 1)
    assert issue.message == "invalid YAML: tab character: YAML indentation must use spaces"


def test_colon_inside_plain_value_is_explained(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f:\n    description: note: quote me\n")
    assert (issue.line, issue.column) == (3, 22)
    assert issue.message.startswith("invalid YAML: unexpected ':' - a key cannot start")


def test_undefined_alias_is_explained(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows:\n  f:\n    name: *title\n")
    assert (issue.line, issue.column) == (3, 11)
    assert issue.message == (
        "invalid YAML: '*title' refers to an anchor '&title' that is not defined before it"
    )


def test_second_yaml_document_is_explained(tmp_path: Path) -> None:
    issue = yaml_issue(tmp_path, "flows: {}\n---\nslots: {}\n")
    assert (issue.line, issue.column) == (2, 1)
    assert issue.message == (
        "invalid YAML: a second YAML document ('---') in one file; put each in its own file"
    )


def test_step_without_a_kind_names_its_keys_and_suggests_the_kind(tmp_path: Path) -> None:
    write(tmp_path, "flows.yml", "flows:\n  f:\n    steps:\n      - colect: size\n")
    issue = load_project([tmp_path]).issues[0]
    assert (issue.line, issue.column) == (4, 9)
    assert issue.message == (
        "a step needs exactly one of 'action', 'collect', 'set_slots', 'link', 'call', 'noop' "
        "(found none; it has 'colect' - did you mean 'collect'?)"
    )


def test_steps_that_are_not_a_list_are_reported_once(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, "flows:\n  f:\n    steps: oops\n")
    assert (issue.line, issue.column) == (3, 12)
    assert issue.message == "'steps' must be a list, found text"
