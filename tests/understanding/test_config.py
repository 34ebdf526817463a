"""config.yml and endpoints.yml model_groups: Rasa's files as they are, clear start-up errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from action_server.config.endpoints import ConfigError, load_endpoints
from action_server.config.model_groups import (
    DEFAULT_OPENAI_BASE,
    ModelConfig,
    ModelSettingsError,
    resolve_model,
)
from action_server.config.pipeline import find_config_file, load_pipeline_config
from action_server.flows.model import FlowProject
from action_server.understanding.pipeline import build_understanding
from tests.helpers import free_port
from tests.understanding.mock_llm import MockLLM

RASA_CONFIG = """\
recipe: default.v1
language: en
assistant_id: calm-bot
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
  - name: NLUCommandAdapter
  - name: CompactLLMCommandGenerator
    llm:
      model_group: openai_llm
    flow_retrieval:
      active: false
policies:
  - name: FlowPolicy
"""


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_rasa_config_loads_and_lists_what_we_do_not_run_once(
    tmp_path: Path, example_project: FlowProject
) -> None:
    config = load_pipeline_config(_write(tmp_path / "config.yml", RASA_CONFIG))
    assert [c.name for c in config.components] == [
        "NLUCommandAdapter",
        "CompactLLMCommandGenerator",
    ]
    assert config.command_generator is not None
    assert config.command_generator.options["llm"] == {"model_group": "openai_llm"}
    assert config.command_generator.where.endswith("config.yml:9")
    config.components.pop()  # no model group here: build only the rest
    warnings = build_understanding(config, load_endpoints(None), example_project, []).warnings
    assert warnings[1].endswith(
        "NLUCommandAdapter: no NLU data (nlu: files) found in no path; it never matches"
    )
    assert warnings[:1] == [
        f"{tmp_path / 'config.yml'}: not used by this server (accepted, ignored): "
        "WhitespaceTokenizer, CountVectorsFeaturizer, LogisticRegressionClassifier, recipe, "
        "language, assistant_id, policies"
    ]


def test_the_older_generator_name_is_accepted(tmp_path: Path) -> None:
    config = load_pipeline_config(
        _write(tmp_path / "config.yml", "pipeline:\n  - name: SingleStepLLMCommandGenerator\n")
    )
    assert config.command_generator is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pipeline: {}\n", "config.yml:1: 'pipeline' must be a list"),
        ("pipeline:\n  - llm: {}\n", "config.yml:2: each pipeline entry needs a 'name'"),
        (
            "pipeline:\n  - name: CompactLLMCommandGenerator\n    llm: gpt-4\n",
            "config.yml:2: CompactLLMCommandGenerator: 'llm' must be a mapping",
        ),
        ("pipeline:\n  - name: x\n  bad\n", "config.yml:3"),
    ],
)
def test_a_broken_config_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_pipeline_config(_write(tmp_path / "config.yml", text))


def test_config_yml_is_found_beside_the_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project" / "flows").mkdir(parents=True)
    assert find_config_file(None, ["project/flows"]) is None
    _write(tmp_path / "project" / "config.yml", "pipeline: []\n")
    assert find_config_file(None, ["project/flows"]) == str(Path("project/config.yml"))
    assert find_config_file("other.yml", ["project/flows"]) == "other.yml"


def test_model_groups_load_with_env_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-from-env")
    path = _write(
        tmp_path / "endpoints.yml",
        "model_groups:\n  - id: openai_llm\n    models:\n      - provider: openai\n"
        "        model: gpt-4o-mini\n        api_key: ${MY_LLM_KEY}\n        timeout: 5\n"
        "        temperature: 0.0\n",
    )
    config = load_endpoints(path)
    group = config.model_group("openai_llm")
    assert group is not None and group.models[0].api_key == "sk-from-env"
    settings = resolve_model("openai_llm", group.models[0], environ={})
    assert settings.url == f"{DEFAULT_OPENAI_BASE}/chat/completions"
    assert settings.headers["Authorization"] == "Bearer sk-from-env"
    assert settings.timeout == 5.0
    assert settings.body == {"temperature": 0.0}


def test_rasa_openai_defaults_come_from_the_environment() -> None:
    settings = resolve_model(
        "g",
        ModelConfig(model="m"),
        environ={"OPENAI_API_KEY": "k1", "OPENAI_API_BASE": "http://127.0.0.1:9/v1"},
    )
    assert settings.url == "http://127.0.0.1:9/v1/chat/completions"
    assert settings.api_key == "k1"


def test_a_missing_key_is_an_error_naming_the_model_group() -> None:
    with pytest.raises(ModelSettingsError, match="model group 'openai_llm': no API key"):
        resolve_model(
            "openai_llm", ModelConfig(model="gpt-4o", api_key="${UNSET_KEY_X}"), environ={}
        )


def test_endpoints_errors_name_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "endpoints.yml",
        "model_groups:\n  - id: a\n    models:\n      - provider: claude\n        model: x\n",
    )
    with pytest.raises(
        ConfigError, match=r"endpoints.yml:4: model_groups.0.models.0.provider: .*unknown provider"
    ):
        load_endpoints(path)
    path = _write(tmp_path / "endpoints.yml", "model_groups:\n  - id: a\n    models: []\n")
    with pytest.raises(ConfigError, match=r"endpoints.yml:3: model_groups.0.models"):
        load_endpoints(path)


def _pipeline(tmp_path: Path, generator_options: str):
    return load_pipeline_config(
        _write(
            tmp_path / "config.yml",
            "pipeline:\n  - name: CompactLLMCommandGenerator\n" + generator_options,
        )
    )


def _endpoints(tmp_path: Path, api_base: str, extra: str = ""):
    return load_endpoints(
        _write(
            tmp_path / "endpoints.yml",
            f"model_groups:\n  - id: llm\n    models:\n      - provider: openai\n        model: m\n"
            f"        api_base: {api_base}\n        api_key: k\n{extra}",
        )
    )


def test_an_unknown_model_group_is_a_start_up_error(
    tmp_path: Path, example_project: FlowProject
) -> None:
    pipeline = _pipeline(tmp_path, "    llm:\n      model_group: nope\n")
    with pytest.raises(
        ConfigError,
        match=r"config.yml:2: CompactLLMCommandGenerator: model group 'nope' is not defined in endpoints.yml model_groups \(defined: llm\)",
    ):
        build_understanding(
            pipeline, _endpoints(tmp_path, "http://127.0.0.1:1/v1"), example_project, []
        )


def test_an_unreachable_model_is_a_start_up_error_naming_the_group(
    tmp_path: Path, example_project: FlowProject
) -> None:
    pipeline = _pipeline(tmp_path, "    llm:\n      model_group: llm\n")
    endpoints = _endpoints(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(ConfigError, match="model group 'llm': cannot reach http://127.0.0.1:"):
        build_understanding(pipeline, endpoints, example_project, [])


def test_an_optional_generator_without_credentials_is_switched_off(
    tmp_path: Path, example_project: FlowProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    pipeline = _pipeline(tmp_path, "    required: false\n    llm:\n      model_group: llm\n")
    endpoints = load_endpoints(
        _write(
            tmp_path / "endpoints.yml",
            "model_groups:\n  - id: llm\n    models:\n      - model: gpt-4o\n",
        )
    )
    understanding = build_understanding(pipeline, endpoints, example_project, [])
    assert understanding.source.llm is None
    assert (
        "CompactLLMCommandGenerator is off (model group 'llm': no API key" in understanding.notes[0]
    )


def test_a_reachable_model_group_builds_the_generator(
    tmp_path: Path, example_project: FlowProject
) -> None:
    with MockLLM() as mock:
        pipeline = _pipeline(tmp_path, "    llm:\n      model_group: llm\n")
        understanding = build_understanding(
            pipeline, _endpoints(tmp_path, mock.url), example_project, []
        )
    assert understanding.source.llm is not None
    assert understanding.llm_group == "llm"
    assert "CompactLLMCommandGenerator (model group 'llm')" in understanding.description


def test_an_inline_llm_config_works_without_model_groups(
    tmp_path: Path, example_project: FlowProject
) -> None:
    with MockLLM() as mock:
        pipeline = _pipeline(
            tmp_path,
            f"    llm:\n      provider: self-hosted\n      model: llama3\n      api_base: {mock.url}\n",
        )
        understanding = build_understanding(pipeline, load_endpoints(None), example_project, [])
    assert understanding.source.llm is not None
    assert understanding.source.llm.client.models[0].model == "llama3"


def test_a_bad_prompt_template_is_a_start_up_error(
    tmp_path: Path, example_project: FlowProject
) -> None:
    template = _write(tmp_path / "prompt.jinja2", "{{ nope }}")
    with MockLLM() as mock:
        pipeline = _pipeline(
            tmp_path, f"    prompt_template: {template}\n    llm:\n      model_group: llm\n"
        )
        with pytest.raises(
            ConfigError,
            match=r"config.yml:2: CompactLLMCommandGenerator: .*prompt.jinja2:1: unknown template variable 'nope'",
        ):
            build_understanding(pipeline, _endpoints(tmp_path, mock.url), example_project, [])


def test_an_ollama_model_uses_its_openai_compatible_path() -> None:
    settings = resolve_model(
        "local",
        ModelConfig(provider="ollama", model="llama3.1", api_base="http://127.0.0.1:11434"),
        environ={},
    )
    assert settings.url == "http://127.0.0.1:11434/v1/chat/completions"
    assert "Authorization" not in settings.headers


def test_config_yml_is_found_at_the_root_of_a_rasa_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "proj" / "data" / "flows").mkdir(parents=True)
    _write(tmp_path / "proj" / "config.yml", "pipeline: []\n")
    assert find_config_file(None, [str(tmp_path / "proj" / "data" / "flows")]) == str(
        tmp_path / "proj" / "config.yml"
    )
