"""A mock OpenAI-compatible server on a free loopback port, for tests and the bench.

It answers ``POST .../chat/completions`` (and ``/completions``, and Azure's deployment path)
from scripted rules matched on the latest user message found in the prompt (the last
``USER: `` line), and can answer with errors, delays and garbage. Every request is recorded.

    with MockLLM([Rule(latest="book a table", answer="start flow book_table")]) as llm:
        llm.url  # http://127.0.0.1:PORT/v1

Run it alone: ``python -m tests.understanding.mock_llm PORT rules.json``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import HOST, free_port

__all__ = ["MockLLM", "Rule", "latest_user_message"]

_LATEST = re.compile(r"(?:^|\n)USER: ([^\n]*)(?![\s\S]*\nUSER: )")


def latest_user_message(prompt: str) -> str:
    match = _LATEST.search(prompt)
    return match.group(1) if match else ""


@dataclass
class Rule:
    """Answer ``answer`` when the latest user message contains ``latest`` (case-insensitive)
    and the prompt contains ``prompt_contains``; ``status`` != 200 answers an error,
    ``delay`` waits first, ``garbage`` sends a body that is not a completion, ``times`` limits
    how often the rule applies (then the next matching rule answers); ``exact`` compares the
    whole latest message."""

    latest: str = ""
    answer: str = ""
    prompt_contains: str = ""
    status: int = 200
    delay: float = 0.0
    garbage: bool = False
    times: int | None = None
    exact: bool = False
    used: int = 0

    def matches(self, prompt: str) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        latest = latest_user_message(prompt).lower()
        wanted = self.latest.lower()
        found = latest == wanted if self.exact else wanted in latest
        return found and self.prompt_contains in prompt


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        if "messages" in self.body:
            return str(self.body["messages"][-1]["content"])
        return str(self.body.get("prompt", ""))


@dataclass
class MockLLM:
    rules: list[Rule] = field(default_factory=list)
    default_answer: str = "cannot handle"
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _answer(self, prompt: str) -> Rule | None:
        for rule in self.rules:
            if rule.matches(prompt):
                rule.used += 1
                return rule
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(path, headers, json.loads(body or b"{}"))
                self.requests.append(request)
                status, payload = await self._respond(request)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _respond(self, request: Request) -> tuple[int, Any]:
        rule = self._answer(request.prompt)
        if rule is not None and rule.delay:
            await asyncio.sleep(rule.delay)
        if rule is not None and rule.status != 200:
            return rule.status, {"error": {"message": "scripted failure"}}
        if rule is not None and rule.garbage:
            return 200, b"<html>not json"
        text = rule.answer if rule is not None else self.default_answer
        usage = {
            "prompt_tokens": len(request.prompt.split()),
            "completion_tokens": len(text.split()),
        }
        if request.path.endswith("/completions") and "/chat/" not in request.path:
            return 200, {"choices": [{"text": text}], "usage": usage}
        return 200, {
            "id": "mock",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
            "usage": usage,
        }

    # --- running -----------------------------------------------------------------------------

    def start(self) -> MockLLM:
        self.port = self.port or free_port()
        ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, HOST, self.port, backlog=1024)
            )
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("mock LLM did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> MockLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    port = int(argv[0])
    rules = [Rule(**rule) for rule in json.loads(open(argv[1]).read())] if len(argv) > 1 else []
    mock = MockLLM(rules, port=port).start()
    print(mock.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        mock.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
