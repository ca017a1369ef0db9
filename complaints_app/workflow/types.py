"""Plain data handed out of the workflow package (no SpiffWorkflow objects)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class DefinitionError(ValueError):
    """A diagram that cannot be deployed; ``problems`` name the element and the reason."""

    def __init__(self, problems: list[dict[str, str]]):
        self.problems = problems
        super().__init__("; ".join(_describe(p) for p in problems))


def _describe(problem: dict[str, str]) -> str:
    where = problem.get("element_id") or problem.get("file") or "diagram"
    return f"{where}: {problem['message']}"


class TaskNotOpen(LookupError):
    """The task is not open in this workflow (unknown, finished or cancelled)."""


@dataclass(frozen=True)
class CompiledDefinition:
    """A parsed, validated process: the serialized spec is what saved states reference."""

    process_id: str
    spec_json: str
    elements: dict[str, dict[str, Any]]
    service_topics: set[str]
    lanes: set[str]


@dataclass(frozen=True)
class ServiceCall:
    """What a service task asks of the host: its topic, its properties and the task's data."""

    topic: str
    properties: dict[str, str]
    element_id: str
    element_name: str
    task_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ElementEvent:
    """An element entered or left by the process."""

    kind: str  # "entered" | "left"
    task_id: str
    element_id: str
    element_name: str | None
    element_type: str
    lane: str | None
    properties: dict[str, str]
    manual: bool = False  # a task for a person


@dataclass(frozen=True, order=True)
class MigrationProblem:
    """Why a workflow cannot move to another version; the caller words it in the reader's language.

    ``kind``: finished, failed, other_process (``new``/``old``: the process names), subprocess_missing,
    waiting_at_missing, passed_missing (``element``: its id), kind_changed (``new``/``old``: element types).
    """

    kind: str
    element: str = ""
    new: str = ""
    old: str = ""


@dataclass(frozen=True)
class EngineIncident:
    """A script, expression or service that failed; the task waits for a retry."""

    task_id: str | None
    element_id: str | None
    element_name: str | None
    kind: str
    message: str


@dataclass(frozen=True)
class OpenTask:
    """A task waiting for a person."""

    task_id: str
    element_id: str
    name: str
    lane: str | None
    form: list[dict[str, Any]]
    properties: dict[str, str]
    documentation: str | None
    due_at: datetime | None = None


@dataclass(frozen=True)
class MessageCatch:
    """A message the process would catch now (from a person, e.g. the customer withdrawing)."""

    name: str
    element_id: str
    element_name: str | None
    properties: dict[str, str]
    interrupting: bool  # starts an event subprocess that ends everything else


class MessageNotExpected(LookupError):
    """The process does not wait for this message now."""


@dataclass
class StepResult:
    """What one engine operation did."""

    events: list[ElementEvent] = field(default_factory=list)
    incident: EngineIncident | None = None
    completed: bool = False
    next_timer_due: datetime | None = None


def listed(properties: dict | None, name: str) -> list[str]:
    """A diagram property that lists values, comma- or space-separated (``show``, ``statuses``), in order."""
    return [value for value in re.split(r"[\s,]+", (properties or {}).get(name) or "") if value]


def parse_duration(text: str):
    """An ISO-8601 duration as the engine's timers read it (``PT16H``, ``P2D``) -> timedelta."""
    from datetime import datetime, timezone

    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    parsed = TimerEventDefinition.parse_iso_duration(text)
    return TimerEventDefinition.get_timedelta_from_start(parsed, datetime.now(timezone.utc))
