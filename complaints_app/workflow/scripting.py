"""The restricted script environment: every script and expression in a diagram runs here.

Gateway conditions, DMN cells, timer expressions and script tasks are Python to SpiffWorkflow. Each is
compiled by RestrictedPython (attribute, item and iteration guards; no ``_``-names, no ``import``) and
run with a small set of builtins under a wall-clock budget, so a ``while True`` ends in an incident
instead of a stuck worker.
"""

from __future__ import annotations

import ast
import builtins
import json
import sys
import threading
from time import monotonic
from types import ModuleType

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import limits

SCRIPT_FILENAME = "<diagram script>"
MAX_RANGE = 100_000
_JSON_TYPES = (str, int, float, bool, type(None), list, dict, tuple)


class ScriptRejected(Exception):
    """RestrictedPython refused to compile the script or expression."""


class ScriptTimeout(Exception):
    """The script or expression ran past its time budget."""


def _bounded_range(*args):
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ValueError(f"range() longer than {MAX_RANGE} is not allowed in diagram scripts")
    return result


_CHECKED = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Mod: "_mod_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the operators and f-string formats that build a value in one C call
    routed through the size checks (``limits``)."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        name = _CHECKED.get(type(node.op))
        if name is None:
            return node
        func = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        return ast.copy_location(ast.Call(func=func, args=[node.left, node.right], keywords=[]), node)

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        func = ast.copy_location(ast.Name(id="_format_", ctx=ast.Load()), node)
        conversion = ast.copy_location(ast.Constant(node.conversion), node)
        call = ast.copy_location(ast.Call(func=func, args=[node.value, conversion, node.format_spec],
                                          keywords=[]), node)
        return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), node)


def _safe_globals() -> dict:
    allowed = dict(safe_builtins)
    for name in ("min", "max", "sum", "any", "all", "dict", "list", "set", "frozenset",
                 "enumerate", "map", "filter", "reversed", "sorted", "zip", "tuple"):
        allowed[name] = getattr(builtins, name)
    allowed["range"] = _bounded_range
    allowed["pow"] = limits.checked_pow
    allowed["sum"] = limits.checked_sum
    allowed["_getattr_"] = limits.checked_getattr
    return {
        "_add_": limits.checked_add,
        "_mul_": limits.checked_mul,
        "_mod_": limits.checked_mod,
        "_pow_": limits.checked_pow,
        "_lshift_": limits.checked_lshift,
        "_format_": limits.checked_format,
        "__builtins__": allowed,
        "_getattr_": limits.checked_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": limits.inplacevar,
    }


def script_builtins() -> list[str]:
    """The names diagram code may use without the process data setting them (``len``, ``round``...)."""
    return [name for name in _safe_globals()["__builtins__"] if not name.startswith("_")]


_cache: dict[tuple[str, str], object] = {}
_cache_lock = threading.Lock()


def compile_script(source: str, mode: str):
    """Compile ``source`` restricted (``mode`` is ``eval`` or ``exec``); cached by text."""
    key = (mode, source)
    code = _cache.get(key)
    if code is None:
        compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compiler(source, filename=SCRIPT_FILENAME, policy=_Policy)
        if result.errors or result.code is None:
            raise ScriptRejected("; ".join(result.errors) or "could not compile")
        code = result.code
        with _cache_lock:
            if len(_cache) > 10_000:
                _cache.clear()
            _cache[key] = code
    return code


class _Budget:
    """A trace function that interrupts diagram code once its deadline has passed (sticky)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = monotonic() + seconds
        self.expired = False

    def global_trace(self, frame, event, arg):
        return self.local_trace if frame.f_code.co_filename == SCRIPT_FILENAME else None

    def local_trace(self, frame, event, arg):
        if self.expired or monotonic() > self.deadline:
            self.expired = True
            raise ScriptTimeout(f"script ran longer than its budget of {self.seconds:g} s")
        return self.local_trace


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluate and execute diagram code restricted and on a time budget."""

    def __init__(self, time_budget: float = 1.0):
        super().__init__(_safe_globals())
        self.time_budget = time_budget

    def _run(self, code, namespace):
        budget = _Budget(self.time_budget)
        previous = sys.gettrace()
        sys.settrace(budget.global_trace)
        try:
            return eval(code, namespace)  # noqa: S307 - code compiled by RestrictedPython above
        finally:
            sys.settrace(previous)

    def _namespace(self, context, external_context):
        namespace = {k: v for k, v in context.items() if not k.startswith("_")}
        if external_context:
            namespace.update(external_context)
        namespace.update(self.globals)
        return namespace

    def evaluate(self, expression, context, external_context=None):
        code = compile_script(expression.strip(), "eval")
        return self._run(code, self._namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        code = compile_script(script, "exec")
        namespace = self._namespace(context, external_context)
        self._run(code, namespace)
        for key in [k for k in context if not k.startswith("_") and k not in namespace]:
            del context[key]
        for key, value in namespace.items():
            if key.startswith("_") or key in self.globals or (external_context and key in external_context):
                continue
            if isinstance(value, _JSON_TYPES) and not isinstance(value, ModuleType):
                check_saveable(key, value)
                context[key] = value
        return True


def check_saveable(key: str, value) -> None:
    """Refuse data the process could not save (it must stay plain JSON)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ScriptRejected(f"'{key}' cannot be saved as process data: {err}") from None


class RestrictedScriptEngine(PythonScriptEngine):
    """The only script engine the app ever gives a workflow; services go to ``host``."""

    def __init__(self, time_budget: float = 1.0, host=None):
        super().__init__(environment=RestrictedEnvironment(time_budget))
        self.host = host

    def call_service(self, task, topic=None, properties=None):
        if self.host is None:
            raise WorkflowTaskException(f"no service host to run '{topic}'", task=task)
        try:
            return self.host(task, topic, properties or {})
        except WorkflowTaskException:
            raise
        except Exception as err:
            raise WorkflowTaskException(f"service '{topic}' failed: {err}", task=task, exception=err) from err
