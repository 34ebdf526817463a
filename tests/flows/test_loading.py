"""Loading flows: every step kind, every form of `next`, flattening, ids, file classification."""

from __future__ import annotations

from pathlib import Path

from action_server.flows.loader import load_project
from action_server.flows.model import END, NluTrigger

from .helpers import DATA, load, write


def load_all_steps() -> dict:
    result = load_project([DATA / "all_steps.yml"])
    assert result.issues == []
    return result.project.flows


def test_flow_level_fields_are_loaded() -> None:
    flow = load_all_steps()["everything"]
    assert flow.name == "Every step kind"
    assert flow.description == "one of each"
    assert flow.guard is not None and flow.guard.text == "slots.enabled"
    assert flow.nlu_trigger == [
        NluTrigger("start_everything", 0.0),
        NluTrigger("also_start", 0.7),
        NluTrigger("plain_intent", 0.0),
    ]
    assert flow.persisted_slots == ["size"]
    assert flow.run_pattern_completed is False
    assert [a.type for a in flow.pre_actions] == ["say"]
    assert flow.pre_actions[0].params == {"text": "starting"}
    assert [a.type for a in flow.post_actions] == ["end_conversation"]
    assert flow.source.line == 2 and flow.source.file.endswith("all_steps.yml")


def test_flow_name_defaults_to_id() -> None:
    assert load_all_steps()["helper"].name == "helper"


def test_collect_step_fields() -> None:
    step = load_all_steps()["everything"].step("0_collect_size")
    assert step.kind == "collect" and step.collect == "size"
    assert step.utter == "utter_which_size" and step.utter_explicit
    assert step.ask_before_filling and not step.reset_after_flow_ends and step.force_slot_filling
    assert step.description == "the size"
    assert [r.utter for r in step.rejections] == ["utter_too_big", None]
    assert step.rejections[0].condition.evaluate({"size": 11}, {})


def test_collect_utter_defaults_to_utter_ask_slot() -> None:
    step = load_all_steps()["helper"].step("0_collect_done")
    assert step.utter == "utter_ask_done" and not step.utter_explicit
    assert step.ask_action == "action_ask_done"
    assert step.reset_after_flow_ends and not step.ask_before_filling


def test_action_set_slots_noop_call_link_steps() -> None:
    flow = load_all_steps()["everything"]
    action = flow.step("1_action_action_compute")
    assert action.action == "action_compute" and action.metadata == {"color": "blue"}
    assert action.pre_actions[0].params == {"text": "computing {size}"}
    assert action.post_actions[0].type == "function"
    assert flow.step("2_set_slots").set_slots == [("done", True), ("size", None)]
    assert flow.step("3_noop").kind == "noop"
    assert flow.step("tail").call == "helper"
    assert flow.step("5_link_other").link == "other"


def test_implicit_next_is_the_following_step_and_last_goes_to_end() -> None:
    flow = load_all_steps()["everything"]
    assert flow.first_step_id == "0_collect_size"
    assert [b.target for b in flow.step("0_collect_size").next] == ["1_action_action_compute"]
    assert flow.step("0_collect_size").next[0].condition is None
    assert [b.target for b in load_all_steps()["other"].step("0_action_utter_other").next] == [END]


def test_link_step_ends_the_flow() -> None:
    step = load_all_steps()["everything"].step("5_link_other")
    assert [(b.condition, b.target) for b in step.next] == [(None, END)]


def test_nested_branches_are_flattened_with_generated_ids() -> None:
    flow = load_all_steps()["everything"]
    noop = flow.step("3_noop")
    targets = [b.target for b in noop.next]
    assert targets == [
        "3_noop_then0_0_action_utter_big",
        "tail",
        "3_noop_else_0_action_utter_small",
    ]
    assert [b.condition is None for b in noop.next] == [False, False, True]
    assert noop.next_step_id({"size": 6}, {}) == "3_noop_then0_0_action_utter_big"
    assert noop.next_step_id({"size": 3}, {}) == "tail"
    assert noop.next_step_id({"size": 1}, {}) == "3_noop_else_0_action_utter_small"
    big = flow.step("3_noop_then0_0_action_utter_big")
    assert [b.target for b in big.next] == ["3_noop_then0_1_call_helper"]
    assert [b.target for b in flow.step("3_noop_then0_1_call_helper").next] == ["tail"]
    small = flow.step("3_noop_else_0_action_utter_small")
    assert [b.target for b in small.next] == [
        "3_noop_else_0_action_utter_small_then0_0_action_utter_deep",
        END,
    ]


def test_generated_ids_are_stable_across_loads() -> None:
    first = list(load_all_steps()["everything"].steps)
    second = list(load_all_steps()["everything"].steps)
    assert first == second


def test_next_as_plain_step_id_and_end(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: a
                next: last
              - action: b
                next: END
              - id: last
                action: c
        """,
    )
    flow = result.project.flows["f"]
    assert [b.target for b in flow.step("0_action_a").next] == ["last"]
    assert [b.target for b in flow.step("1_action_b").next] == [END]
    assert flow.step("0_action_a").next_explicit


def test_step_sources_point_at_the_step_line(tmp_path: Path) -> None:
    result = load(tmp_path, "flows:\n  f:\n    steps:\n      - action: a\n      - action: b\n")
    flow = result.project.flows["f"]
    assert (flow.step("1_action_b").source.line, flow.step("1_action_b").source.column) == (5, 9)


def test_directory_is_classified_by_top_level_keys() -> None:
    result = load_project([DATA / "mixed"], with_defaults=False)
    assert result.issues == []
    names = sorted(Path(f).name for f in result.project.files)
    assert names == ["flows.yml", "responses.yaml", "slots.yml"]
    assert list(result.project.flows) == ["hello"]  # .hidden/ is not read
    assert list(result.project.domain.slots) == ["name"]
    assert list(result.project.domain.responses) == ["utter_hello"]
    assert result.project.domain.actions == ["action_custom"]
    notes = "\n".join(result.notes)
    assert "nlu.yml: skipped: training or test data (nlu)" in notes
    assert "test_hello.yml: skipped: training or test data (test_cases)" in notes
    assert "version_only.yml: skipped: only a 'version' key" in notes
    assert "other.yml: skipped: no flows or domain keys (found: pipeline)" in notes
    assert "empty.yml: skipped: empty file" in notes
    assert len(result.skipped) == 5


def test_directory_order_is_deterministic() -> None:
    assert (
        load_project([DATA / "mixed"]).project.files == load_project([DATA / "mixed"]).project.files
    )


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "flows.yml", "flows:\n  f:\n    steps: [\n")
    result = load_project([tmp_path])
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.file.endswith("flows.yml") and (issue.line, issue.column) == (3, 12)
    assert issue.message == "invalid YAML: unclosed flow sequence '[' (reached end of file)"


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "flows.yml", "flows:\n  f:\n    steps: []\n  f:\n    steps: []\n")
    issue = load_project([tmp_path]).issues[0]
    assert (issue.line, issue.column) == (4, 3)
    assert "duplicate key 'f' (first defined at line 2)" in issue.message


def test_missing_path_is_reported(tmp_path: Path) -> None:
    issue = load_project([tmp_path / "nope"]).issues[0]
    assert issue.file.endswith("nope") and "no such file or directory" in issue.message


def test_structural_errors_are_all_reported_with_positions(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        """
        flows:
          f:
            colour: red
            steps:
              - action: a
                collect: b
              - bogus: 1
              - action: a
                utter: nope
              - collect: c
                rejections:
                  - utter: x
              - set_slots: {a: 1}
              - action: a
                next: [1]
              - action: b
                pre_actions:
                  - text: no type
        """,
    )
    messages = [(i.line, i.message) for i in result.issues]
    assert messages == [
        (
            3,
            "unknown key 'colour' (expected one of always_include_in_prompt, description, "
            "file_path, if, metadata, name, nlu_trigger, persisted_slots, post_actions, "
            "pre_actions, run_pattern_completed, steps)",
        ),
        (
            5,
            "a step needs exactly one of 'action', 'collect', 'set_slots', 'link', 'call', "
            "'noop' (found 'action' and 'collect')",
        ),
        (
            7,
            "a step needs exactly one of 'action', 'collect', 'set_slots', 'link', 'call', "
            "'noop' (found none; it has 'bogus')",
        ),
        (
            9,
            "unknown key 'utter' for an action step (expected one of action, description, id, "
            "metadata, next, post_actions, pre_actions)",
        ),
        (12, "each rejection needs an 'if' condition"),
        (13, "'set_slots' must be a list of '- slot: value' items"),
        (15, "a 'next' branch must be a mapping, found a number"),
        (18, "each 'pre_actions' item needs a 'type' (like '- type: say')"),
    ]
    assert all(i.flow_id == "f" for i in result.issues)


def test_condition_syntax_error_points_at_the_token_in_the_file(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        """
        flows:
          f:
            steps:
              - action: a
                next:
                  - if: slots.x >
                    then: END
                  - else: END
              - action: b
                next:
                  - if: "slots.x ~ 2"
                    then: END
                  - else: END
        """,
    )
    first, second = result.issues
    assert (first.line, first.column) == (6, 26)  # just after 'slots.x >'
    assert "expected a value, found end of condition" in first.message
    assert first.step_id == "0_action_a"
    assert (second.line, second.column) == (11, 26)  # the '~' inside the quotes
    assert "unexpected character '~'" in second.message
