"""`action-server flows graph FLOW`: a Mermaid flowchart of the flow's steps and branches."""

from __future__ import annotations

from tests.flows_cli.helpers import run_cli


def test_graph_prints_a_mermaid_flowchart_with_labelled_branches() -> None:
    result = run_cli("flows", "graph", "book_table")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    body = [line.strip() for line in lines[1:]]
    assert 'START(["book_table"])' in body
    assert 's0[/"collect cuisine"/]' in body
    assert 's3["check_availability: action_check_availability"]' in body
    assert 's4[["call -> collect_contact"]]' in body
    assert 's5["set_slots booking_confirmed=true"]' in body
    assert 's8>"link -> offer_alternatives"]' in body
    assert 'END(["END"])' in body
    assert "START --> s0" in body
    assert 's3 -->|"slots.table_available"| s4' in body
    assert "s3 -->|else| s7" in body
    assert "s6 --> END" in body


def test_graph_escapes_quotes_in_conditions() -> None:
    result = run_cli("flows", "graph", "collect_contact")
    assert result.returncode == 0, result.stderr
    assert "#quot;" in result.stdout
    edges = [line for line in result.stdout.splitlines() if "-->" in line]
    assert all(line.count('"') in (0, 2) for line in edges)


def test_graph_of_an_unknown_flow_names_the_known_flows() -> None:
    result = run_cli("flows", "graph", "order_pizza")
    assert result.returncode == 1
    assert "no flow named 'order_pizza' (flows: book_table, cancel_booking" in result.stderr
