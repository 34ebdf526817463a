"""GET /metrics: Prometheus counters and histograms, summed over all worker processes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import SERVER_ACTIONS, ServerFactory
from tests.helpers import ServerProcess, action_call


@pytest.fixture(scope="module")
def server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory("--actions", SERVER_ACTIONS, "--workers", "2", "--action-timeout", "1")


@pytest.fixture(scope="module")
def calls_made(server: ServerProcess) -> None:
    """A known mix of outcomes, each on a fresh connection so both workers get some."""
    calls = (
        [action_call("action_greet")] * 6
        + [action_call("action_reject")] * 2
        + [action_call("action_crash")]
        + [action_call("action_sleep_async", slots={"seconds": 30})]
        + [action_call("action_unknown")]
    )
    for call in calls:
        with server.client() as client:
            client.post("/webhook", json=call)
    with server.client() as client:
        client.post("/webhook", content=b"[]")


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def sample(text: str, name: str, **labels: str) -> float:
    """Value of one sample in Prometheus text format (label order does not matter)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    raise AssertionError(f"no sample {name}{labels} in:\n{text}")


def test_startup_line_names_address_and_action_count(server: ServerProcess) -> None:
    assert f"Action server listening on http://127.0.0.1:{server.port} with 7 actions" in (
        server.output
    )


@pytest.mark.usefixtures("calls_made")
def test_metrics_count_calls_by_action_and_status_across_workers(server: ServerProcess) -> None:
    # Each scrape may land on either worker; every one must report the totals of both.
    for _ in range(4):
        with server.client() as client:
            response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        total = "action_server_webhook_requests_total"
        assert sample(text, total, action="action_greet", status="200") == 6
        assert sample(text, total, action="action_reject", status="400") == 2
        assert sample(text, total, action="action_crash", status="500") == 1
        assert sample(text, total, action="action_sleep_async", status="500") == 1
        assert sample(text, total, action="<unknown>", status="404") == 1
        assert sample(text, total, action="<invalid>", status="400") == 1


@pytest.mark.usefixtures("calls_made")
def test_metrics_count_errors_rejections_and_timeouts(client: httpx.Client) -> None:
    text = client.get("/metrics").text
    assert sample(text, "action_server_action_errors_total", action="action_crash") == 1
    assert sample(text, "action_server_action_rejections_total", action="action_reject") == 2
    assert sample(text, "action_server_action_timeouts_total", action="action_sleep_async") == 1


@pytest.mark.usefixtures("calls_made")
def test_metrics_have_latency_histograms_and_in_flight_gauge(client: httpx.Client) -> None:
    text = client.get("/metrics").text
    histogram = "action_server_webhook_request_duration_seconds"
    assert sample(text, f"{histogram}_count", action="action_greet", status="200") == 6
    assert sample(text, f"{histogram}_bucket", action="action_greet", status="200", le="+Inf") == 6
    # The timed-out call took at least the 1 s timeout.
    assert (
        sample(text, f"{histogram}_bucket", action="action_sleep_async", status="500", le="0.5")
        == 0
    )
    assert sample(text, "action_server_webhook_requests_in_flight") == 0
