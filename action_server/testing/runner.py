"""Run Rasa end-to-end test cases against the flow engine and report what differed.

Each case gets a fresh engine over an in-memory store. Custom actions named in
``stub_custom_actions`` never run: a ``StubTransport`` wrapped around the real transport
answers for them (``<test_case>::<action>`` before ``<action>``), so the engine is exercised
exactly as in production, without patching it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from action_server.client.action_client import ActionClient, Transport
from action_server.dialogue import flow_events
from action_server.dialogue.engine import FlowEngine
from action_server.flows.model import FlowProject, SourceRef
from action_server.stores.store import ConversationState, InMemoryConversationStore
from action_server.testing.cases import (
    SKIPPED_ASSERTIONS,
    SlotExpectation,
    StubResult,
    TestCase,
    TestStep,
    TestSuite,
)
from action_server.testing.checks import (
    bot_events,
    check,
    describe_bot,
    slot_not_set_holds,
    utter_name,
)
from action_server.testing.command_source import TestCommandSource
from action_server.understanding.commands import CommandSource

__all__ = [
    "CaseResult",
    "E2ERunner",
    "Failure",
    "StubTransport",
    "stubbed_action_names",
]

logger = logging.getLogger(__name__)


class StubTransport(Transport):
    """Answers stubbed actions from the test file; passes every other call to ``inner``."""

    def __init__(self, inner: Transport, stubs: Mapping[str, StubResult]) -> None:
        self.inner = inner
        self.stubs = dict(stubs)
        self.test_case: str | None = None
        self.where = inner.where

    async def send(self, call: dict[str, Any]) -> dict[str, Any]:
        name = str(call.get("next_action"))
        stub = self.stubs.get(f"{self.test_case}::{name}") or self.stubs.get(name)
        if stub is None:
            return await self.inner.send(call)
        return {
            "events": [dict(event) for event in stub.events],
            "responses": [dict(response) for response in stub.responses],
        }

    async def close(self) -> None:
        await self.inner.close()


def stubbed_action_names(suites: Iterable[TestSuite]) -> set[str]:
    """Action names the stubs provide (``case::action`` counts as ``action``)."""
    return {key.rsplit("::", 1)[-1] for suite in suites for key in suite.stubs}


@dataclass
class Failure:
    source: SourceRef
    step: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: " + (f"step {self.step}: " if self.step else "")
        return where + self.message


@dataclass
class CaseResult:
    file: str
    name: str
    failures: list[Failure] = field(default_factory=list)
    line: int = 0
    skipped: list[str] = field(default_factory=list)  # assertions not checked, and why
    transcript: list[str] = field(default_factory=list)  # "user: ...", "bot: ..." lines

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class _Turn:
    """Events since the latest user message, and how far ``bot``/``utter`` steps got."""

    events: list[dict[str, Any]] = field(default_factory=list)
    cursor: int = 0
    strict: bool = True  # unexpected bot messages fail the case (classic steps)
    step: TestStep | None = None

    @property
    def bot_events(self) -> list[dict[str, Any]]:
        return bot_events(self.events)


class E2ERunner:
    """Runs the cases of test suites with one project and one (real) action transport."""

    def __init__(
        self,
        project: FlowProject,
        transport: Transport,
        registered_actions: Iterable[str] = (),
        command_source: CommandSource | None = None,
    ) -> None:
        self.project = project
        self.transport = transport
        self.registered_actions = frozenset(registered_actions)
        # The test-only payloads come first, then this source (the default one unless given).
        self.command_source = command_source

    async def run_suite(self, suite: TestSuite, select: str | None = None) -> list[CaseResult]:
        """Run the suite's cases (those whose name contains ``select``, when given); a file
        that did not load is one failed result carrying its problems."""
        if suite.issues:
            failures = [
                Failure(SourceRef(i.file, i.line, i.column), None, i.message) for i in suite.issues
            ]
            line = failures[0].source.line
            return [CaseResult(suite.file, "(file did not load)", failures, line=line)]
        stub = StubTransport(self.transport, suite.stubs)
        registered = self.registered_actions | stubbed_action_names([suite])
        results = []
        for case in suite.cases:
            if select is not None and select not in case.name:
                continue
            stub.test_case = case.name
            engine = FlowEngine(
                self.project,
                ActionClient(stub),
                InMemoryConversationStore(),
                TestCommandSource(self.command_source),
                registered_actions=registered,
                response_seed=0,
            )
            result = CaseResult(suite.file, case.name, line=case.source.line)
            try:
                await _CaseRun(engine, suite, case, result).run()
            except Exception as exc:  # a crash in one case must not hide the others
                logger.debug("test case %s crashed", case.name, exc_info=True)
                result.failures.append(
                    Failure(case.source, None, f"the engine failed: {type(exc).__name__}: {exc}")
                )
            results.append(result)
        return results


class _CaseRun:
    def __init__(
        self, engine: FlowEngine, suite: TestSuite, case: TestCase, result: CaseResult
    ) -> None:
        self.engine = engine
        self.suite = suite
        self.case = case
        self.result = result
        self.domain = engine.project.domain
        self.turn = _Turn(strict=False)

    def fail(self, step: TestStep | None, message: str, source: SourceRef | None = None) -> None:
        where = source or (step.source if step else self.case.source)
        self.result.failures.append(Failure(where, step.index if step else None, message))

    async def run(self) -> None:
        if not await self.apply_fixtures():
            return
        for step in self.case.steps:
            await self.run_step(step)
            if self.result.failures:
                return
        self.check_leftover_messages(self.case.steps[-1] if self.case.steps else None)

    # --- fixtures ---------------------------------------------------------------------

    async def apply_fixtures(self) -> bool:
        """Preset slots as the conversation's opening events, as Rasa does for fixtures."""
        values: dict[str, Any] = {}
        for name, source in self.case.fixtures:
            fixture = self.suite.fixtures.get(name)
            if fixture is None:
                known = ", ".join(sorted(self.suite.fixtures)) or "none defined"
                self.fail(None, f"unknown fixture '{name}' (known: {known})", source)
                continue
            for slot, value, slot_source in fixture:
                definition = self.domain.slots.get(slot)
                if definition is None:
                    self.fail(None, f"fixture '{name}': unknown slot '{slot}'", slot_source)
                    continue
                try:
                    values[slot] = definition.coerce(value)
                except ValueError as exc:
                    self.fail(None, f"fixture '{name}': {exc}", slot_source)
        if self.result.failures:
            return False
        if not values:
            return True
        state = ConversationState(
            conversation_id=self.case.name,
            slots={**self.domain.initial_slots(), **values},
            events=[
                flow_events.action_executed("action_session_start"),
                {"event": "session_started", "timestamp": time.time()},
                *(flow_events.slot_set(slot, value) for slot, value in values.items()),
                flow_events.action_executed("action_listen"),
            ],
        )
        await self.engine.store.save(state)
        self.turn = _Turn(events=[e for e in state.events if e.get("event") == "slot"])
        self.turn.strict = False
        return True

    # --- steps ------------------------------------------------------------------------

    async def run_step(self, step: TestStep) -> None:
        if step.kind == "user":
            await self.user_step(step)
        elif step.kind in ("bot", "utter"):
            self.bot_step(step)
        elif step.kind == "slot_was_set":
            for slot in step.slots:
                if not self.slot_was_set(slot):
                    self.fail(
                        step, f"expected slot {slot.describe()} to be set; {self.slots_set()}"
                    )
        elif step.kind == "slot_was_not_set":
            for slot in step.slots:
                if not slot_not_set_holds(self.turn.events, slot, self.same_value):
                    self.fail(step, f"expected slot {slot.describe()} not to be set, but it was")

    async def user_step(self, step: TestStep) -> None:
        self.check_leftover_messages(step)
        if self.result.failures:
            return
        metadata: dict[str, Any] = {}
        for name in (self.case.metadata, step.metadata):
            if name is None:
                continue
            if name not in self.suite.metadata:
                self.fail(step, f"unknown metadata '{name}'")
                return
            metadata.update(self.suite.metadata[name])
        turn = await self.engine.handle(self.case.name, step.text, metadata or None)
        events = [e for e in turn.events if e.get("event") != "user"]
        self.result.transcript.append(f"user: {step.text}")
        self.result.transcript.extend(f"bot: {describe_bot(e)}" for e in bot_events(events))
        self.turn = _Turn(events=events, strict=not step.assertions, step=step)
        start = 0
        for assertion in step.assertions:
            if assertion.kind in SKIPPED_ASSERTIONS:
                self.result.skipped.append(
                    f"{assertion.source}: {assertion.kind} skipped: "
                    f"{SKIPPED_ASSERTIONS[assertion.kind]}"
                )
                continue
            message, index = check(assertion, events, start if step.ordered else 0, self.same_value)
            if message:
                if step.ordered and start:
                    message += " (assertion_order_enabled: looked after the previous match)"
                self.fail(step, message, assertion.source)
            elif step.ordered and index is not None:
                start = index + 1

    def bot_step(self, step: TestStep) -> None:
        bots = self.turn.bot_events
        expected = f"bot text {step.text!r}" if step.kind == "bot" else f"response '{step.text}'"
        if self.turn.cursor >= len(bots):
            said = "nothing more" if self.turn.cursor else "nothing"
            self.fail(step, f"expected {expected}, but the bot said {said} {self.after()}")
            return
        actual = bots[self.turn.cursor]
        self.turn.cursor += 1
        if step.kind == "bot" and actual.get("text") != step.text:
            self.fail(step, f"expected {expected}, got {describe_bot(actual)}")
        elif step.kind == "utter" and utter_name(actual) != step.text:
            self.fail(step, f"expected {expected}, got {describe_bot(actual)}")

    def after(self) -> str:
        step = self.turn.step
        return f"after user step {step.index}" if step else "before the first user message"

    def check_leftover_messages(self, at: TestStep | None) -> None:
        # Only a turn whose messages the test checks at all must be checked completely.
        if not self.turn.strict or self.turn.cursor == 0:
            return
        extra = self.turn.bot_events[self.turn.cursor :]
        if extra:
            listed = "; ".join(describe_bot(event) for event in extra)
            self.fail(
                at,
                f"the bot said more than the test expects {self.after()}: {listed}",
            )

    # --- checks -----------------------------------------------------------------------

    def slot_events(self) -> list[dict[str, Any]]:
        return [e for e in self.turn.events if e.get("event") == "slot"]

    def slots_set(self) -> str:
        found = [f"{e.get('name')}={e.get('value')!r}" for e in self.slot_events()]
        return "slots set " + self.after() + ": " + (", ".join(found) if found else "none")

    def slot_was_set(self, slot: SlotExpectation) -> bool:
        for event in self.slot_events():
            if event.get("name") != slot.name:
                continue
            if not slot.has_value or self.same_value(slot.name, slot.value, event.get("value")):
                return True
        return False

    def same_value(self, slot: str, expected: Any, actual: Any) -> bool:
        definition = self.domain.slots.get(slot)
        if definition is not None:
            try:
                expected = definition.coerce(expected)
            except ValueError:
                pass
        return bool(expected == actual)
