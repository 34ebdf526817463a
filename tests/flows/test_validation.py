"""Validation: one test per kind of problem; each message names file, line, flow and step."""

from __future__ import annotations

from pathlib import Path

from action_server.flows.issues import Issue
from action_server.flows.validation import summary_line, validate_paths

from .helpers import issues_for, line_of

DOMAIN = """
slots:
  size:
    type: float
  name:
    type: text
  preset:
    type: text
    initial_value: hello
  ok:
    type: bool
responses:
  utter_ask_size:
    - text: How many?
  utter_ask_name:
    - text: Name?
  utter_ask_ok:
    - text: OK?
  utter_done:
    - text: Done
actions:
  - action_declared
  - action_ask_preset
"""


def only_issue(tmp_path: Path, flows: str, domain: str = DOMAIN, **kwargs: object) -> Issue:
    issues = issues_for(tmp_path, flows, domain, **kwargs)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def assert_at(issue: Issue, tmp_path: Path, needle: str, flow: str, step: str | None) -> None:
    flows_file = tmp_path / "flows.yml"
    assert issue.file == str(flows_file)
    assert issue.line == line_of(flows_file, needle)
    assert issue.flow_id == flow and issue.step_id == step
    printed = str(issue)
    assert printed.startswith(f"{flows_file}:{issue.line}:{issue.column}: flow '{flow}'")
    if step is not None:
        assert f"step '{step}': " in printed


def test_example_project_validates_cleanly() -> None:
    root = Path(__file__).resolve().parents[2]
    project, issues, notes = validate_paths([str(root / "flows")])
    assert issues == [], [str(i) for i in issues]
    assert project is not None
    assert set(project.flows) >= {"book_table", "collect_contact", "cancel_booking", "greet"}
    assert summary_line(project).startswith(f"OK: {len(project.user_flows())} flows, ")


def test_clean_project_has_no_issues(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        """
        flows:
          f:
            steps:
              - collect: size
              - action: utter_done
        """,
        DOMAIN,
    )
    assert issues == []


def test_summary_line_counts_and_skipped_files(tmp_path: Path) -> None:
    issues_for(tmp_path, "flows:\n  f:\n    steps:\n      - action: utter_done\n", DOMAIN)
    (tmp_path / "nlu.yml").write_text("nlu: []\n")
    project, issues, notes = validate_paths([str(tmp_path)])
    assert issues == [] and project is not None and len(notes) == 1
    assert summary_line(project, 1) == "OK: 1 flows, 1 steps, 4 slots, 4 responses (1 file skipped)"


def test_unreachable_step(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: utter_done
                next: END
              - action: action_declared
        """,
    )
    assert issue.message == "unreachable step: no step leads here"
    assert_at(issue, tmp_path, "action: action_declared", "f", "1_action_action_declared")


def test_next_to_missing_step_id(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: utter_done
                next: nowhere
        """,
    )
    assert issue.message == "'next' points to unknown step 'nowhere'"
    assert_at(issue, tmp_path, "next: nowhere", "f", "0_action_utter_done")


def test_last_step_of_nested_branch_without_next(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - collect: ok
                next:
                  - if: slots.ok
                    then:
                      - action: utter_done
                  - else: END
        """,
    )
    assert issue.message == "the last step of a nested branch needs a 'next' (a step id or END)"
    assert_at(
        issue, tmp_path, "- action: utter_done", "f", "0_collect_ok_then0_0_action_utter_done"
    )


def test_branch_list_without_else(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - collect: ok
                next:
                  - if: slots.ok
                    then: END
        """,
    )
    assert issue.message == "the 'next' branches need a final '- else: ...'"
    assert_at(issue, tmp_path, "- collect: ok", "f", "0_collect_ok")


def test_link_with_next(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - link: g
                next: END
          g:
            steps:
              - action: utter_done
        """,
    )
    assert issue.message == "a link step ends the flow and must not have 'next'"
    assert_at(issue, tmp_path, "- link: g", "f", "0_link_g")


def test_link_to_unknown_flow(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, "flows:\n  f:\n    steps:\n      - link: ghost\n")
    assert issue.message == "link to unknown flow 'ghost'"
    assert_at(issue, tmp_path, "- link: ghost", "f", "0_link_ghost")


def test_call_to_unknown_flow(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, "flows:\n  f:\n    steps:\n      - call: ghost\n")
    assert issue.message == "call to unknown flow 'ghost'"
    assert_at(issue, tmp_path, "- call: ghost", "f", "0_call_ghost")


def test_link_inside_a_called_flow(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          main:
            steps:
              - call: sub
          sub:
            steps:
              - collect: size
              - link: other
          other:
            steps:
              - action: utter_done
        """,
    )
    assert issue.message.startswith(
        "flow 'sub' is the target of a 'call' and so must not contain a link"
    )
    assert_at(issue, tmp_path, "- link: other", "sub", "1_link_other")


def test_duplicate_step_id(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - id: twice
                action: utter_done
              - id: twice
                action: action_declared
        """,
    )
    assert issue.message.startswith("duplicate step id 'twice' (first used at line ")
    flows_file = tmp_path / "flows.yml"
    assert issue.line == line_of(flows_file, "- id: twice") + 2
    assert issue.flow_id == "f" and issue.step_id == "twice"


def test_reserved_step_ids(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        """
        flows:
          f:
            steps:
              - id: START
                action: utter_done
              - id: __private
                action: utter_done
        """,
        DOMAIN,
    )
    assert [(i.step_id, i.message) for i in issues] == [
        ("START", "step id 'START' is reserved (END, START and ids starting with '__')"),
        ("__private", "step id '__private' is reserved (END, START and ids starting with '__')"),
    ]


def test_empty_flow(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, "flows:\n  f:\n    description: nothing\n    steps: []\n")
    assert issue.message == "the flow has no steps"
    assert_at(issue, tmp_path, "  f:", "f", None)


def test_unknown_slot_in_collect(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        "flows:\n  f:\n    steps:\n      - collect: colour\n        utter: utter_done\n",
    )
    assert issue.message == "collect: unknown slot 'colour' (not in the domain)"
    assert_at(issue, tmp_path, "- collect: colour", "f", "0_collect_colour")


def test_unknown_slot_in_set_slots(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path, "flows:\n  f:\n    steps:\n      - set_slots:\n          - colour: red\n"
    )
    assert issue.message == "set_slots: unknown slot 'colour' (not in the domain)"
    assert_at(issue, tmp_path, "- set_slots:", "f", "0_set_slots")


def test_set_slots_value_of_the_wrong_type(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path, "flows:\n  f:\n    steps:\n      - set_slots:\n          - ok: perhaps\n"
    )
    assert issue.message.startswith("set_slots: slot 'ok' (bool) cannot take 'perhaps'")


def test_unknown_slot_in_a_condition(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            if: slots.mood = 'happy'
            steps:
              - action: utter_done
        """,
    )
    assert (
        issue.message
        == "condition \"slots.mood = 'happy'\" uses unknown slot 'mood' (not in the domain)"
    )
    assert_at(issue, tmp_path, "if: slots.mood", "f", None)


def test_unknown_slot_in_a_rejection_condition(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - collect: size
                rejections:
                  - if: slots.sizee > 3
                    utter: utter_done
        """,
    )
    assert "uses unknown slot 'sizee'" in issue.message
    assert_at(issue, tmp_path, "if: slots.sizee", "f", "0_collect_size")


def test_unknown_action(tmp_path: Path) -> None:
    issue = only_issue(tmp_path, "flows:\n  f:\n    steps:\n      - action: action_missing\n")
    assert issue.message.startswith("unknown action 'action_missing': not a domain response")
    assert_at(issue, tmp_path, "action_missing", "f", "0_action_action_missing")


def test_registered_declared_builtin_and_response_actions_are_known(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: action_registered
              - action: action_declared
              - action: action_restart
              - action: utter_done
        """,
        DOMAIN,
        registered_actions={"action_registered"},
    )
    assert issues == []


def test_collect_with_no_way_to_ask(tmp_path: Path) -> None:
    domain = DOMAIN.replace("slots:\n", "slots:\n  silent:\n    type: text\n")
    issue = only_issue(tmp_path, "flows:\n  f:\n    steps:\n      - collect: silent\n", domain)
    assert issue.message == (
        "collect 'silent' has no way to ask: add a response 'utter_ask_silent', "
        "an action 'action_ask_silent', or an 'utter:'"
    )
    assert_at(issue, tmp_path, "- collect: silent", "f", "0_collect_silent")


def test_collect_can_ask_with_an_action_or_has_an_initial_value(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        "flows:\n  f:\n    steps:\n      - collect: preset\n",
        DOMAIN.replace("  - action_ask_preset\n", ""),
    )
    assert issues == []  # initial value
    issues = issues_for(tmp_path, "flows:\n  f:\n    steps:\n      - collect: preset\n", DOMAIN)
    assert issues == []  # action_ask_preset is declared


def test_collect_with_unknown_utter(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path, "flows:\n  f:\n    steps:\n      - collect: size\n        utter: utter_nope\n"
    )
    assert issue.message == "collect: unknown response 'utter_nope'"


def test_unknown_step_action_type(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: utter_done
                post_actions:
                  - type: dance
        """,
    )
    assert issue.message == (
        "unknown step action type 'dance' (known: end_conversation, function, say, transfer, tts_say)"
    )
    assert_at(issue, tmp_path, "- type: dance", "f", "0_action_utter_done")


def test_custom_step_action_types_can_be_passed_in(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        "flows:\n  f:\n    pre_actions:\n      - type: dance\n    steps:\n      - action: utter_done\n",
        DOMAIN,
        step_action_types={"say", "dance"},
    )
    assert issues == []


def test_step_loop_without_collect(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          f:
            steps:
              - id: spin
                action: action_declared
                next:
                  - if: slots.ok
                    then: END
                  - else: spin
        """,
    )
    assert issue.message == (
        "steps spin form a loop without a collect step, "
        "so the flow could run forever without waiting for the user"
    )
    assert_at(issue, tmp_path, "- id: spin", "f", "spin")


def test_step_loop_through_a_collect_is_fine(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        """
        flows:
          f:
            steps:
              - id: ask
                collect: ok
                ask_before_filling: true
              - action: utter_done
                next:
                  - if: slots.ok
                    then: END
                  - else: ask
        """,
        DOMAIN,
    )
    assert issues == []


def test_link_loop_without_collect(tmp_path: Path) -> None:
    issue = only_issue(
        tmp_path,
        """
        flows:
          a:
            steps:
              - action: utter_done
              - link: b
          b:
            steps:
              - link: a
        """,
    )
    assert issue.message == (
        "flows a -> b -> a link or call each other in a loop without a collect step, "
        "so they could run forever"
    )
    assert_at(issue, tmp_path, "- link: b", "a", "1_link_b")


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    issues = issues_for(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: action_missing
              - link: ghost
              - collect: colour
        """,
        DOMAIN,
    )
    messages = [i.message for i in issues]
    assert len(messages) == 4
    assert any("unknown action 'action_missing'" in m for m in messages)
    assert "link to unknown flow 'ghost'" in messages
    assert "unreachable step: no step leads here" in messages
    assert "collect: unknown slot 'colour' (not in the domain)" in messages


def test_a_flow_whose_only_step_is_malformed_gets_one_error_not_an_extra_empty_flow_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "flows.yml").write_text(
        "flows:\n  f1:\n    description: x\n    steps:\n      - action: utter_x\n        collect: y\n",
        encoding="utf-8",
    )
    (tmp_path / "domain.yml").write_text(
        "slots:\n  y:\n    type: text\nresponses:\n  utter_x:\n    - text: hi\n",
        encoding="utf-8",
    )
    _, issues, _ = validate_paths([str(tmp_path)])
    messages = [issue.message for issue in issues]
    assert len(messages) == 1, messages
    assert "exactly one of" in messages[0]
