"""Turn command-line paths and ``endpoints.yml`` into a ready flow project and action client.

Shared by ``action-server flows ...`` and ``action-server run --flows``, so every command
finds the same files, runs actions in the same place and reports problems the same way.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from action_server.flows.issues import Issue
from action_server.flows.loader import classify, find_yaml_files, load_project
from action_server.flows.model import FlowProject
from action_server.flows.validation import validate
from action_server.flows.yaml_loader import YamlSyntaxError, load_yaml_file

if TYPE_CHECKING:
    from action_server.client.action_client import ActionClient
    from action_server.config.endpoints import ActionEndpointConfig

__all__ = [
    "ActionSetup",
    "DEFAULT_FLOW_PATHS",
    "ProjectCheck",
    "action_setup",
    "actions_url",
    "check_project",
    "is_rasa_project",
    "project_paths",
    "domain_paths_for",
    "fetch_action_names",
]

logger = logging.getLogger(__name__)

DEFAULT_FLOW_PATHS: tuple[str, ...] = ("flows",)
_DEFAULT_DOMAIN_CANDIDATES = ("domain.yml", "domain.yaml", "domain")


_RASA_MARKERS = ("data", "domain", "domain.yml", "domain.yaml", "config.yml")


def is_rasa_project(path: str | Path) -> bool:
    """A directory laid out as a Rasa project (``data/``, ``domain/``, ``config.yml`` ...)."""
    folder = Path(path)
    return (
        folder.is_dir()
        and not (folder / "flows").is_dir()
        and ((folder / "data").is_dir() and any((folder / m).exists() for m in _RASA_MARKERS[1:]))
    )


def project_paths(
    flow_paths: Sequence[str], domain: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Flow and domain paths, with each Rasa project directory among ``flow_paths`` (or the
    working directory, when no path is given and there is no ``flows/``) read as Rasa does:
    flows (and any NLU data, stories, rules, which are skipped) under ``data/``, the domain in
    ``domain/`` or ``domain.yml``."""
    paths = list(flow_paths) or (["."] if is_rasa_project(".") else list(DEFAULT_FLOW_PATHS))
    flows: list[str] = []
    domains: list[str] = list(domain or [])
    for path in paths:
        if not is_rasa_project(path):
            flows.append(path)
            continue
        folder = Path(path)
        flows.append(str(folder / "data"))
        if not domain:
            domains.extend(
                str(folder / name)
                for name in ("domain", "domain.yml", "domain.yaml")
                if (folder / name).exists()
            )
    return flows, domain_paths_for(flows, domains or None)


def domain_paths_for(flow_paths: Sequence[str], domain: Sequence[str] | None) -> list[str]:
    """The domain paths to load: as given, else none when a flow path holds a domain file,
    else ``domain.yml`` (or ``domain/``) in the working directory when it exists.
    """
    if domain:
        return list(domain)
    ignored: list[Issue] = []  # missing paths are reported when the project loads
    for path in find_yaml_files(flow_paths, ignored):
        try:
            root = load_yaml_file(path)
        except YamlSyntaxError:
            continue
        if classify(root)[1]:
            return []
    return [name for name in _DEFAULT_DOMAIN_CANDIDATES if Path(name).exists()][:1]


@dataclass
class ProjectCheck:
    """The outcome of loading and validating: the project only when there is no issue."""

    project: FlowProject | None
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def check_project(
    flow_paths: Sequence[str],
    domain_paths: Sequence[str],
    registered: Iterable[str] | None,
    step_action_types: Iterable[str] | None = None,
) -> ProjectCheck:
    """Load and validate every file; ``registered`` None means "action names unknown".

    With unknown names (an unreachable action server) every action the flows use is taken
    as registered, so only the other checks run.
    """
    result = load_project(flow_paths, domain_paths)
    issues = list(result.issues)
    project = result.project
    if not project.files and not issues:
        where = ", ".join([*flow_paths, *domain_paths])
        issues.append(Issue(where, 0, 0, "no flows or domain files found"))
    elif flow_paths and not project.user_flows() and not issues:
        # A typo in the top-level key ("flow:") must not pass as a valid, empty project.
        why = "; ".join(result.notes) or "the files hold only domain data"
        issues.append(
            Issue(
                ", ".join(flow_paths),
                0,
                0,
                f"no flows found (a flows file needs a top-level 'flows:' key); {why}",
            )
        )
    names = set(registered) if registered is not None else _referenced_actions(project)
    issues.extend(validate(project, names, step_action_types=step_action_types))
    return ProjectCheck(
        project=None if issues else project,
        issues=issues,
        notes=list(result.notes),
        files=list(project.files),
        skipped=list(result.skipped),
    )


def _referenced_actions(project: FlowProject) -> set[str]:
    names: set[str] = set()
    for flow in project.flows.values():
        for step in flow.steps.values():
            if step.action:
                names.add(step.action)
            if step.ask_action:
                names.add(step.ask_action)
    return names


# --- where actions run ------------------------------------------------------------------------


@dataclass
class ActionSetup:
    """The client the engine runs actions with, and the action names it offers.

    ``registered`` is None when the names cannot be known (action server unreachable).
    """

    client: ActionClient
    registered: frozenset[str] | None
    where: str
    warnings: list[str] = field(default_factory=list)


def actions_url(webhook_url: str) -> str:
    """``http://host:5055/webhook`` -> ``http://host:5055/actions`` (Rasa gives the webhook)."""
    base = webhook_url.rstrip("/")
    if base.endswith("/webhook"):
        base = base[: -len("/webhook")]
    return base + "/actions"


def fetch_action_names(endpoint: ActionEndpointConfig, timeout: float = 5.0) -> frozenset[str]:
    """GET /actions of the action server; raises ``OSError`` saying why it failed."""
    assert endpoint.url is not None
    url = actions_url(endpoint.url)
    params = {endpoint.token_name: endpoint.token} if endpoint.token else {}
    auth = (
        (endpoint.basic_auth.username, endpoint.basic_auth.password)
        if endpoint.basic_auth
        else None
    )
    try:
        response = httpx.get(
            url,
            params=params,
            headers=endpoint.headers,
            auth=auth,
            timeout=min(timeout, endpoint.timeout),
            verify=ssl.create_default_context(cafile=endpoint.cafile) if endpoint.cafile else True,
        )
    except (httpx.HTTPError, ssl.SSLError) as exc:
        raise OSError(f"cannot reach {url}: {exc or type(exc).__name__}") from exc
    if response.status_code != 200:
        raise OSError(f"{url} answered HTTP {response.status_code}")
    try:
        data: Any = response.json()
    except ValueError as exc:
        raise OSError(f"{url} did not answer JSON") from exc
    if not isinstance(data, list):
        raise OSError(f"{url} answered {type(data).__name__}, expected a list of actions")
    return frozenset(
        str(item["name"]) for item in data if isinstance(item, dict) and "name" in item
    )


def action_setup(
    endpoint: ActionEndpointConfig | None,
    endpoints_file: str,
    executor: Any | None = None,
    executor_package: str | None = None,
) -> ActionSetup:
    """Where the flow engine runs its actions, from endpoints.yml's ``action_endpoint``.

    ``executor`` (the server's own, serving ``executor_package``) is reused when the endpoint
    names the same package or names none. Raises ``ActionLoadError`` when the actions package
    does not load.
    """
    from action_server.client.action_client import ActionClient, InProcessTransport
    from action_server.executor import ActionExecutor
    from action_server.kinds.discovery import install_action_kinds

    module = endpoint.actions_module if endpoint else None
    if endpoint is not None and endpoint.url and not module:
        client = ActionClient.from_endpoint(endpoint)
        try:
            names: frozenset[str] | None = fetch_action_names(endpoint)
            warnings = []
        except OSError as exc:
            names = None
            warnings = [
                f"{endpoints_file}: action_endpoint: {exc}; skipping the check for unknown "
                "custom actions"
            ]
        return ActionSetup(client, names, f"the action server at {endpoint.url}", warnings)
    if executor is not None and (module is None or module == executor_package):
        where = f"the server's actions package '{executor_package}'"
        client = ActionClient(InProcessTransport(executor, where=where))
        return ActionSetup(client, frozenset(executor.actions), where)
    if module is None:
        empty = ActionExecutor()
        return ActionSetup(
            ActionClient(InProcessTransport(empty, where="no actions package")),
            frozenset(),
            "no actions package",
            [
                f"{endpoints_file}{'' if Path(endpoints_file).exists() else ' (not found)'}: "
                "no action_endpoint (actions_module or url): custom actions are not available"
            ],
        )
    timeout = endpoint.timeout if endpoint else None
    own = ActionExecutor(action_timeout=timeout)
    install_action_kinds(own)  # YAML API and function actions load too, as in the server
    own.register_package(module)
    where = f"the in-process actions package '{module}'"
    warnings = []
    if endpoint is not None and endpoint.url:
        warnings.append(
            f"{endpoints_file}: action_endpoint sets both actions_module '{module}' and url "
            f"'{endpoint.url}'; running actions in-process and ignoring the url"
        )
    return ActionSetup(
        ActionClient(InProcessTransport(own, where=where)),
        frozenset(own.actions),
        where,
        warnings,
    )
