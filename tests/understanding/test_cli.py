"""The CLI with --config and --endpoints against a mock OpenAI-compatible server on a loopback
port: `flows test` (the example's own suites and natural-language suites on recorded LLM
answers), `flows chat --debug`, `flows validate`, and `run --flows` with /metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import REPO_ROOT, ServerProcess
from tests.understanding.mock_llm import MockLLM, Rule

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def recorded_llm() -> Iterator[MockLLM]:
    rules = [Rule(**rule) for rule in json.loads((DATA / "recorded_answers.json").read_text())]
    with MockLLM(rules) as mock:
        yield mock


def _endpoints(tmp_path: Path, mock: MockLLM) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(
        "action_endpoint:\n  actions_module: actions\n"
        "tracker_store:\n  type: memory\n"
        "model_groups:\n  - id: openai_llm\n    models:\n      - provider: openai\n"
        "        model: gpt-4o-mini\n        api_key: ${TEST_LLM_KEY}\n"
        f"        api_base: {mock.url}\n        max_retries: 0\n",
        encoding="utf-8",
    )
    return path


def _cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TEST_LLM_KEY": "sk-cli-test-0000", **(env or {})}
    environment.pop("OPENAI_API_KEY", None)
    environment.pop("OPENAI_API_BASE", None)
    return subprocess.run(
        [sys.executable, "-m", "action_server", *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


def test_the_example_e2e_suites_pass_on_recorded_llm_answers(
    tmp_path: Path, recorded_llm: MockLLM
) -> None:
    before = len(recorded_llm.requests)
    result = _cli(
        "flows",
        "test",
        "flows/tests",
        str(DATA / "e2e"),
        "--config",
        "config.yml",
        "--endpoints",
        str(_endpoints(tmp_path, recorded_llm)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout.lower() or " 0 failed" in result.stdout.lower()
    assert len(recorded_llm.requests) > before  # plain answers went through the LLM
    assert all(
        r.headers["authorization"] == "Bearer sk-cli-test-0000" for r in recorded_llm.requests
    )


def test_a_wrong_recorded_answer_fails_the_e2e_test(tmp_path: Path) -> None:
    with MockLLM(default_answer="offtopic reply") as mock:
        result = _cli(
            "flows",
            "test",
            str(DATA / "e2e"),
            "--config",
            "config.yml",
            "--endpoints",
            str(_endpoints(tmp_path, mock)),
        )
    assert result.returncode == 1, result.stdout


def test_flows_chat_debug_shows_the_commands(tmp_path: Path, recorded_llm: MockLLM) -> None:
    result = _cli(
        "flows",
        "chat",
        "--debug",
        "--config",
        "config.yml",
        "--endpoints",
        str(_endpoints(tmp_path, recorded_llm)),
        stdin="I'd like to book a table for 4 tonight\n/exit\n",
    )
    assert result.returncode == 0, result.stderr
    assert "bot> Which cuisine would you like?" in result.stdout
    assert (
        '  commands: {"command": "start flow", "flow": "book_table"}; '
        '{"command": "set slot", "name": "party_size", "value": 4.0}'
    ) in result.stdout


def test_without_credentials_the_example_runs_without_an_llm(tmp_path: Path) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        (REPO_ROOT / "endpoints.yml").read_text().replace("type: sqlite", "type: memory"),
        encoding="utf-8",
    )
    result = _cli(
        "flows",
        "chat",
        "--config",
        "config.yml",
        "--endpoints",
        str(endpoints),
        stdin="I'd like to book a table for 4 tonight\nwhat is the capital of peru\n/exit\n",
    )
    assert result.returncode == 0, result.stderr
    assert (
        "CompactLLMCommandGenerator is off (model group 'openai_llm': no API key" in result.stderr
    )
    assert "bot> Which cuisine would you like?" in result.stdout  # the NLU adapter


def test_a_missing_model_group_is_a_clear_cli_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n  - name: CompactLLMCommandGenerator\n    llm:\n      model_group: gone\n"
    )
    result = _cli("flows", "validate", "--config", str(config))
    assert result.returncode == 1
    assert (
        "config.yml:2: CompactLLMCommandGenerator: model group 'gone' is not defined"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_run_serves_the_llm_generator_and_its_metrics(
    tmp_path: Path, recorded_llm: MockLLM
) -> None:
    endpoints = _endpoints(tmp_path, recorded_llm)
    server = ServerProcess(
        ["--flows", "flows", "--config", "config.yml", "--endpoints", str(endpoints)],
        env={"TEST_LLM_KEY": "sk-cli-test-0000"},
        cwd=REPO_ROOT,
    ).start()
    try:
        response = httpx.post(
            server.url + "/webhooks/rest/webhook",
            json={"sender": "rest-user", "message": "I'd like to book a table for 4 tonight"},
            timeout=10,
        )
        assert response.status_code == 200
        assert [m.get("text") for m in response.json()] == ["Which cuisine would you like?"]
        metrics = httpx.get(server.url + "/metrics", timeout=10).text
        assert (
            'action_server_llm_requests_total{model_group="openai_llm",outcome="ok"} 1.0' in metrics
        )
        assert 'action_server_llm_tokens_total{kind="prompt",model_group="openai_llm"}' in metrics
    finally:
        server.stop()


RASA_PROJECT = DATA / "rasa_project"


def test_a_rasa_calm_project_runs_unchanged_on_recorded_llm_answers() -> None:
    """config.yml, endpoints.yml (model_groups, OPENAI_* defaults), data/ and e2e_tests/ in
    Rasa's layout, used as they are."""
    rules = [
        Rule(**rule) for rule in json.loads((RASA_PROJECT / "recorded_answers.json").read_text())
    ]
    with MockLLM(rules) as mock:
        environment = {
            **os.environ,
            "OPENAI_API_BASE": mock.url,
            "OPENAI_API_KEY": "sk-rasa-project",
            "PYTHONPATH": str(REPO_ROOT),
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "action_server",
                "flows",
                "test",
                "e2e_tests",
                "--flows",
                "data",
                "--config",
                "config.yml",
                "--endpoints",
                "endpoints.yml",
            ],
            cwd=RASA_PROJECT,
            capture_output=True,
            text=True,
            timeout=60,
            env=environment,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "3 passed" in result.stdout
        models = {r.body["model"] for r in mock.requests}
        assert models == {"gpt-4o-2024-11-20"}
        assert {r.headers["authorization"] for r in mock.requests} == {"Bearer sk-rasa-project"}
        # the NLU adapter answered "what is my balance" without an LLM call
        assert all("what is my balance" not in r.prompt for r in mock.requests)


def test_the_inspector_shows_the_llm_exchange_of_a_turn(
    tmp_path: Path, recorded_llm: MockLLM
) -> None:
    endpoints = _endpoints(tmp_path, recorded_llm)
    server = ServerProcess(
        ["--flows", "flows", "--config", "config.yml", "--endpoints", str(endpoints), "--inspect"],
        env={"TEST_LLM_KEY": "sk-cli-test-0000"},
        cwd=REPO_ROOT,
    ).start()
    try:
        response = httpx.post(
            server.url + "/inspect/api/conversations/insp-1/messages",
            json={"text": "I'd like to book a table for 4 tonight"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["llm"]["answer"] == "start flow book_table\nset slot party_size 4"
        assert "USER: I'd like to book a table for 4 tonight" in report["llm"]["prompt"]
        assert report["commands"][0] == {"command": "start flow", "flow": "book_table"}
    finally:
        server.stop()
