"""Understanding users: prompt building plus answer parsing per turn, and many conversations
waiting on a slow LLM at once.

    .venv/bin/python bench/understanding.py

1. A generated project of 20 flows and 60 slots; one turn = render the default prompt
   (Current State, Conversation History of 20 messages, every startable flow) and parse and
   check a three-command answer. Target: under 1 ms per turn.
2. 200 conversations, each asking a mock OpenAI-compatible server on a loopback port that
   waits 500 ms before answering, all at once through one generator. Target: under 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from action_server.config.model_groups import ModelConfig, resolve_model  # noqa: E402
from action_server.flows.loader import load_project  # noqa: E402
from action_server.flows.model import FlowProject  # noqa: E402
from action_server.stores.store import ConversationState  # noqa: E402
from action_server.understanding.command_parser import (  # noqa: E402
    check_commands,
    parse_command_lines,
)
from action_server.understanding.commands import StartFlow  # noqa: E402
from action_server.understanding.llm_client import LLMClient  # noqa: E402
from action_server.understanding.llm_generator import LLMCommandGenerator  # noqa: E402
from action_server.understanding.prompt import PromptBuilder  # noqa: E402
from tests.helpers import free_port  # noqa: E402

FLOWS, SLOTS_PER_FLOW = 20, 3


def generated_project(directory: Path) -> FlowProject:
    """20 flows, each collecting 3 of its own slots (60 slots), with descriptions."""
    slots, flows = ["slots:"], ["flows:"]
    for f in range(FLOWS):
        flows += [
            f"  flow_{f}:",
            f"    description: Flow number {f}, which helps the user with task {f}.",
            "    steps:",
        ]
        for s in range(SLOTS_PER_FLOW):
            name = f"slot_{f}_{s}"
            kind = ("text", "float", "categorical")[s]
            slots += [f"  {name}:", f"    type: {kind}"]
            if kind == "categorical":
                slots.append("    values: [red, green, blue]")
            slots += ["    mappings:", "      - type: from_llm"]
            flows += [f"      - collect: {name}", f"        description: value {s} of flow {f}"]
    (directory / "domain.yml").write_text("\n".join(slots) + "\n", encoding="utf-8")
    (directory / "flows.yml").write_text("\n".join(flows) + "\n", encoding="utf-8")
    result = load_project([str(directory / "flows.yml")], [str(directory / "domain.yml")])
    assert not result.issues, result.issues
    return result.project


def conversation(project: FlowProject) -> ConversationState:
    events: list[dict] = [{"event": "session_started"}]
    for turn in range(12):
        events.append(
            {"event": "user", "text": f"message {turn}\nwith a newline", "parse_data": {}}
        )
        events.append({"event": "bot", "text": f"answer {turn}"})
    slots = {name: None for name in project.domain.slots}
    slots["slot_3_0"] = "something"
    stack = [
        {
            "flow_id": "flow_3",
            "step_id": "1_collect_slot_3_1",
            "frame_type": "regular",
            "state": "asked",
        }
    ]
    return ConversationState("bench", events=events, slots=slots, stack=stack)


def bench_turn(turns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = generated_project(Path(tmp))
    builder = PromptBuilder(project)
    state = conversation(project)
    answer = "set slot slot_3_1 42\nstart flow flow_7\nset slot slot_7_2 Green"
    samples = []
    for _ in range(turns):
        started = time.perf_counter()
        prompt = builder.render("make it 42 and then start flow 7", state)
        commands = check_commands(parse_command_lines(answer), project, state.slots, state.stack)
        samples.append(time.perf_counter() - started)
    assert len(commands) == 3 and "flow_19" in prompt
    print(
        f"prompt + parse per turn ({FLOWS} flows, {FLOWS * SLOTS_PER_FLOW} slots, "
        f"{len(prompt)} prompt chars): median {statistics.median(samples) * 1e3:.3f} ms, "
        f"p95 {sorted(samples)[int(turns * 0.95)] * 1e3:.3f} ms  (target < 1 ms)"
    )


async def bench_concurrency(conversations: int, delay: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = generated_project(Path(tmp))
        rules = Path(tmp) / "rules.json"
        rules.write_text(json.dumps([{"delay": delay, "answer": "start flow flow_1"}]))
        port = free_port()
        # The LLM is another process, as in production: its work does not share our GIL.
        mock = subprocess.Popen(
            [sys.executable, "-m", "tests.understanding.mock_llm", str(port), str(rules)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert mock.stdout is not None
            url = mock.stdout.readline().strip()
            model = ModelConfig(model="slow", api_base=url, timeout=10, max_retries=0)
            client = LLMClient([resolve_model("bench", model, environ={})])
            generator = LLMCommandGenerator(client, PromptBuilder(project))
            states = [ConversationState(f"c{i}", slots={}) for i in range(conversations)]
            await generator.parse("warm up", ConversationState("w"), project)  # pools, imports
            started = time.perf_counter()
            results = await asyncio.gather(*(generator.parse("hi", s, project) for s in states))
            total = time.perf_counter() - started
            await client.close()
        finally:
            mock.terminate()
            mock.wait(5)
    assert all(r == [StartFlow("flow_1")] for r in results), results[0]
    print(
        f"{conversations} conversations on a {delay * 1000:.0f} ms LLM: {total:.2f} s in total "
        f"(target < 1.5 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    bench_turn(args.turns)
    asyncio.run(bench_concurrency(args.conversations, args.delay))


if __name__ == "__main__":
    main()
