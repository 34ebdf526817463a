"""The dialogue stack: which flows are active, and where each one stands.

Frames are plain dataclasses; the stack is stored in ``ConversationState.stack`` as a list of
frame dicts (bottom first), so any conversation store can persist it as JSON.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["FRAME_TYPES", "DialogueStack", "FlowFrame", "FrameType", "StepState"]

FrameType = Literal["regular", "call", "link", "interrupt"]
FRAME_TYPES: tuple[str, ...] = ("regular", "call", "link", "interrupt")

StepState = Literal["start", "fresh", "asked", "answered", "calling"]
"""Where a frame stands at ``step_id``.

- ``start``: the flow has not started yet (its pre_actions have not run);
- ``fresh``: ``step_id`` is the next step to run;
- ``asked``: ``step_id`` is a collect step whose question was asked, waiting for the answer;
- ``answered``: the collect at ``step_id`` got an accepted answer this turn (a validation
  action may still have reset the slot, in which case the engine asks again);
- ``calling``: ``step_id`` is a call step whose called flow is on the stack above.
"""


@dataclass
class FlowFrame:
    """One active flow on the stack: the flow, its current step and how it was started."""

    flow_id: str
    step_id: str = "START"
    frame_type: FrameType = "regular"
    state: StepState = "start"
    frame_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Slots of flows this one called; they are reset when this flow ends, not the callee.
    inherited_resets: list[str] = field(default_factory=list)
    # A pattern frame's context variables (``context.reason`` in its conditions and responses).
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def is_pattern(self) -> bool:
        return self.flow_id.startswith("pattern_")

    def condition_context(self) -> dict[str, Any]:
        """What ``context.x`` means for this frame: its fields and, for patterns, its context."""
        data = {k: v for k, v in asdict(self).items() if k != "context"}
        data.update(self.context)
        return data

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = "flow"  # Rasa marks flow frames this way in its stack dumps
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowFrame:
        """Rebuild a frame stored by ``to_dict``; a wrong shape names the field."""
        if not isinstance(data, dict):
            raise ValueError(f"stack frame must be an object, got {type(data).__name__}")
        flow_id = data.get("flow_id")
        if not isinstance(flow_id, str):
            raise ValueError(f"stack frame: 'flow_id' must be a string, got {flow_id!r}")
        frame_type = data.get("frame_type", "regular")
        if frame_type not in FRAME_TYPES:
            raise ValueError(f"stack frame '{flow_id}': unknown frame_type {frame_type!r}")
        state = data.get("state", "fresh")
        if state not in ("start", "fresh", "asked", "answered", "calling"):
            raise ValueError(f"stack frame '{flow_id}': unknown state {state!r}")
        return cls(
            flow_id=flow_id,
            step_id=str(data.get("step_id", "START")),
            frame_type=frame_type,
            state=state,
            frame_id=str(data.get("frame_id") or uuid.uuid4().hex[:12]),
            inherited_resets=[str(s) for s in data.get("inherited_resets", [])],
            context=dict(data.get("context") or {}),
        )


@dataclass
class DialogueStack:
    """Active flows, bottom first; the top frame is the one running."""

    frames: list[FlowFrame] = field(default_factory=list)

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> DialogueStack:
        return cls([FlowFrame.from_dict(item) for item in data])

    def to_list(self) -> list[dict[str, Any]]:
        return [frame.to_dict() for frame in self.frames]

    @property
    def top(self) -> FlowFrame | None:
        return self.frames[-1] if self.frames else None

    def push(self, frame: FlowFrame) -> None:
        self.frames.append(frame)

    def pop(self) -> FlowFrame:
        if not self.frames:
            raise IndexError("pop from an empty dialogue stack")
        return self.frames.pop()

    def clear(self) -> list[FlowFrame]:
        """Remove every frame; returns them top first (the order to cancel them in)."""
        removed = list(reversed(self.frames))
        self.frames.clear()
        return removed

    def flow_ids(self) -> list[str]:
        return [frame.flow_id for frame in self.frames]

    def user_frames(self) -> list[FlowFrame]:
        """Frames of the project's own flows (not patterns), bottom first."""
        return [frame for frame in self.frames if not frame.is_pattern]

    def top_user_frame(self) -> FlowFrame | None:
        frames = self.user_frames()
        return frames[-1] if frames else None

    def remove(self, frame_ids: set[str]) -> list[FlowFrame]:
        """Take out the frames with these ids; returns them top first."""
        removed = [f for f in reversed(self.frames) if f.frame_id in frame_ids]
        self.frames = [f for f in self.frames if f.frame_id not in frame_ids]
        return removed

    def __len__(self) -> int:
        return len(self.frames)

    def __bool__(self) -> bool:
        return bool(self.frames)
