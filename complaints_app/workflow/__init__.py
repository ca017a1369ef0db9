"""The engine behind one door: the only package that imports SpiffWorkflow.

Everything else in the app talks to :class:`~.engine.ProcessRuntime` and the plain data classes in
:mod:`.types`; no SpiffWorkflow object leaves this package.
"""

from .engine import ProcessRuntime
from .types import (
    CompiledDefinition,
    DefinitionError,
    ElementEvent,
    EngineIncident,
    MessageCatch,
    MessageNotExpected,
    MigrationProblem,
    OpenTask,
    ServiceCall,
    StepResult,
    TaskNotOpen,
    listed,
    parse_duration,
)

__all__ = [
    "CompiledDefinition",
    "DefinitionError",
    "ElementEvent",
    "EngineIncident",
    "MessageCatch",
    "MessageNotExpected",
    "MigrationProblem",
    "OpenTask",
    "ProcessRuntime",
    "ServiceCall",
    "StepResult",
    "TaskNotOpen",
    "listed",
    "parse_duration",
]
