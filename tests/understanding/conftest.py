from __future__ import annotations

from collections.abc import Iterator

import pytest

from action_server.flows.loader import load_project
from action_server.flows.model import FlowProject
from tests.helpers import REPO_ROOT
from tests.understanding.mock_llm import MockLLM


@pytest.fixture(scope="session")
def example_project() -> FlowProject:
    result = load_project([str(REPO_ROOT / "flows")], [])
    assert not result.issues, result.issues
    return result.project


@pytest.fixture
def mock_llm() -> Iterator[MockLLM]:
    with MockLLM() as mock:
        yield mock
