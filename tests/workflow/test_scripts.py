"""Diagram code runs restricted: escapes end in an incident and run nothing; valid code still runs."""

from __future__ import annotations

import pytest

from complaints_app.workflow import ProcessRuntime
from tests.diagrams import script_process


def start(script: str, condition: str = "True", budget: float = 0.5):
    runtime = ProcessRuntime(script_time_budget=budget)
    compiled = runtime.compile({"p.bpmn": script_process(script, condition)})
    run = runtime.start("key-" + str(hash((script, condition))), compiled.spec_json, {"x": 1})
    return run, run.advance()


ESCAPES = {
    "import builtin": "y = __import__('os').system('touch {marker}')",
    "import statement": "import os\nos.system('touch {marker}')",
    "subclasses walk": "y = ().__class__.__base__.__subclasses__()",
    "open": "y = open('{marker}', 'w').write('x')",
    "format attribute access": "y = '{{0.__class__}}'.format(x)",
    "generator frame": "g = (i for i in [1])\ny = g.gi_frame.f_back.f_globals",
    "getattr with built strings": "y = getattr(x, '__cl' + 'ass__')",
    "eval": "y = eval('1+1')",
    "exec": "exec('y = 1')",
    "globals": "y = globals()",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_ends_in_an_incident_and_runs_nothing(name, tmp_path):
    marker = tmp_path / "pwned"
    run, result = start(ESCAPES[name].format(marker=marker))
    assert result.incident is not None, name
    assert result.incident.element_id == "script"
    assert not marker.exists()
    assert run.open_tasks() == []
    assert "y" not in run.current_data()


def test_escape_in_a_gateway_condition(tmp_path):
    marker = tmp_path / "pwned"
    run, result = start("y = 1", condition=f"__import__('os').system('touch {marker}') == 0")
    assert result.incident is not None
    assert result.incident.element_id == "gw"
    assert not marker.exists()


def test_endless_loop_ends_in_a_timeout_incident():
    run, result = start("while True:\n    pass", budget=0.3)
    assert result.incident is not None
    assert result.incident.kind == "timeout"


def test_an_endless_loop_cannot_swallow_its_timeout():
    script = "while True:\n    try:\n        pass\n    except:\n        pass"
    run, result = start(script, budget=0.3)
    assert result.incident is not None and result.incident.kind == "timeout"


def test_huge_range_is_refused():
    run, result = start("y = len(list(range(10**9)))")
    assert result.incident is not None
    assert "range" in result.incident.message


def test_valid_scripts_still_run():
    script = ("total = 0\nfor i in range(4):\n    total += i\n"
              "y = max(1, 2) + sum([1, 2]) + len({'a': 1})\nwords = sorted(['b', 'a'])\n"
              "d = dict(a=1)\nd['b'] = 2\nlabel = 'Ref %s' % x")
    run, result = start(script, condition="y == 6 and total == 6")
    assert result.incident is None
    data = run.current_data()
    assert (data["y"], data["total"], data["words"], data["d"], data["label"]) == (6, 6, ["a", "b"],
                                                                                   {"a": 1, "b": 2}, "Ref 1")
    assert [t.name for t in run.open_tasks()] == ["Check"]


def test_the_restricted_engine_is_set_again_after_load(tmp_path):
    runtime = ProcessRuntime(script_time_budget=0.5)
    marker = tmp_path / "pwned"
    compiled = runtime.compile({"p.bpmn": script_process(f"y = __import__('os').system('touch {marker}')",
                                                         condition="x == 1")})
    run = runtime.start("k", compiled.spec_json, {"x": 1})
    saved = run.dump()
    loaded = runtime.load("k", compiled.spec_json, saved)
    result = loaded.advance()
    assert result.incident is not None
    assert not marker.exists()


def test_a_failed_script_can_be_retried_after_the_data_is_fixed():
    runtime = ProcessRuntime(script_time_budget=0.5)
    compiled = runtime.compile({"p.bpmn": script_process("y = 10 // x")})
    run = runtime.start("k2", compiled.spec_json, {"x": 0})
    result = run.advance()
    assert result.incident is not None and "ZeroDivisionError" in result.incident.message
    run.workflow.task_tree.data["x"] = 2  # what an administrator's data fix would do
    for task in run.workflow.tasks.values():
        if task.task_spec.bpmn_id == "script":
            task.parent.data["x"] = 2
    result = run.retry(result.incident.task_id)
    assert result.incident is None
    assert run.current_data()["y"] == 5


BIG = {
    "huge power": "y = (10 ** 10 ** 7) % 7",
    "huge power builtin": "y = pow(10, 10 ** 7)",
    "huge shift": "y = 1 << 10 ** 8",
    "huge repetition": "y = [0] * 10 ** 9",
    "huge string": "y = 'x' * 10 ** 9",
    "in-place repetition": "y = [0]\ny *= 10 ** 9",
    "quadratic sum of lists": "y = len(sum([[0]] * 40000, []))",
    "padding": "y = len('x'.ljust(10 ** 9))",
    "zero fill": "y = len('1'.zfill(10 ** 9))",
    "printf width": "y = len('%0999999999d' % 1)",
    "printf star width": "y = len('%*d' % (10 ** 9, 1))",
    "f-string width": "w = 10 ** 9\ny = len(f'{1:>{w}}')",
    "f-string precision": "y = len(f'{1.5:.999999999f}')",
    "replace amplification": "s = 'x' * 90000\ny = len(s.replace('x', s))",
    "join amplification": "s = 'x' * 90000\ny = len(s.join([s] * 90000))",
    "doubling by concatenation": "s = 'x'\nfor i in range(40):\n    s = s + s",
    "doubling in place": "s = ['x']\nfor i in range(40):\n    s += s",
    "doubling by extend": "s = ['x']\nfor i in range(40):\n    s.extend(s)",
    "tab expansion": "y = len(('\\t' * 90000).expandtabs(90000))",
}


@pytest.mark.parametrize("name", sorted(BIG))
def test_work_done_in_one_c_call_is_refused_before_it_runs(name):
    import time

    started = time.monotonic()
    run, result = start(BIG[name])
    assert result.incident is not None, name
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("script", ["y = {'a': ValueError('x')}", "y = [1]\ny.append(y)", "y = {(1, 2): 3}",
                                    "y = float('nan')"])
def test_data_that_cannot_be_saved_is_an_incident(script):
    run, result = start(script)
    assert result.incident is not None and "cannot be saved" in result.incident.message
    run.dump()  # the state stays saveable


def test_ordinary_strings_and_lists_still_work():
    script = ("a = 'Ref'.ljust(6, '.') + '1'.zfill(3)\nb = '%05.1f|%-4s' % (2.25, 'x')\nw = 8\nc = f'{x:>{w}}|{2.5:.2f}|{x!r}'\n"
              "d = 'a-b'.replace('-', '+') + ','.join(['p', 'q'])\nl = [1]\nl += [2]\nm = l\nm.extend([3])\n"
              "e = 'a\\tb'.expandtabs(2)")
    run, result = start(script)
    assert result.incident is None, result.incident
    data = run.current_data()
    assert (data["a"], data["b"], data["c"], data["d"], data["l"], data["e"]) == (
        "Ref...001", "002.2|x   ", "       1|2.50|1", "a+bp,q", [1, 2, 3], "a b")


def test_ordinary_arithmetic_still_works():
    run, result = start("y = 2 ** 10 * 3 + (1 << 4)\nz = 'ab' * 3\nw = [0] * 5\nw *= 2\nt = sum([1.5, 2])")
    assert result.incident is None
    data = run.current_data()
    assert (data["y"], data["z"], data["w"], data["t"]) == (3088, "ababab", [0] * 10, 3.5)
