"""Saved state stays bounded however often a loop runs, and survives save and load."""

from __future__ import annotations

from complaints_app.workflow import ProcessRuntime
from tests.diagrams import loop_process


def test_five_hundred_loops_keep_the_state_small_and_complete():
    runtime = ProcessRuntime()
    compiled = runtime.compile({"loop.bpmn": loop_process()}, process_id="loop")
    run = runtime.start("loop", compiled.spec_json, {"loops": 0})
    run.advance()
    sizes = []
    for n in range(500):
        state = run.dump()
        sizes.append(len(state))
        run = runtime.load("loop", compiled.spec_json, state)
        (task,) = run.open_tasks()
        result = run.complete(task.task_id, {"again": n < 499})
        assert result.incident is None
    assert run.is_completed
    assert run.current_data()["loops"] == 500
    assert max(sizes) < 2 * sizes[1], (sizes[1], max(sizes))
    assert run.size() < 20


def test_definition_is_referenced_not_embedded():
    runtime = ProcessRuntime()
    compiled = runtime.compile({"loop.bpmn": loop_process()}, process_id="loop")
    run = runtime.start("loop2", compiled.spec_json, {"loops": 0})
    run.advance()
    state = run.dump()
    assert '"spec"' not in state and "again_task" in state
    assert len(state) < len(compiled.spec_json)


def test_parallel_branches_survive_pruning_and_are_audited_once():
    from tests.diagrams import parallel_process

    runtime = ProcessRuntime()
    compiled = runtime.compile({"par.bpmn": parallel_process()}, process_id="par")
    run = runtime.start("par", compiled.spec_json, {})
    events = run.advance().events
    for name in ("B", "A", "C"):
        run = runtime.load("par", compiled.spec_json, run.dump())
        task = next(t for t in run.open_tasks() if t.name == name)
        if name == "A":
            assert [t.name for t in run.open_tasks()] == ["A"]
        events += run.complete(task.task_id, {}).events
    assert run.is_completed
    kinds = [(e.kind, e.element_id) for e in events]
    assert ("cancelled", "join") not in kinds
    for element in ("A", "B", "C"):
        assert kinds.count(("entered", element)) == 1 and kinds.count(("left", element)) == 1, kinds
    # One token arrives from each branch and each leaves through the join.
    assert kinds.count(("entered", "join")) == kinds.count(("left", "join")) == 2


def test_a_retried_step_is_entered_once():
    from tests.diagrams import script_process

    runtime = ProcessRuntime()
    compiled = runtime.compile({"p.bpmn": script_process("y = 10 // x")})
    run = runtime.start("retry-once", compiled.spec_json, {"x": 0})
    first = run.advance()
    for task in run.workflow.tasks.values():
        task.data["x"] = 2
    second = run.retry(first.incident.task_id)
    entered = [e for e in first.events + second.events if e.element_id == "script" and e.kind == "entered"]
    assert len(entered) == 1


def test_a_task_finished_and_pruned_is_no_longer_open():
    """Two people load the same state; the one who waited for the lock finds the task gone from the tree."""
    import pytest

    from complaints_app.workflow import TaskNotOpen

    runtime = ProcessRuntime()
    compiled = runtime.compile({"loop.bpmn": loop_process()}, process_id="loop")
    run = runtime.start("loop3", compiled.spec_json, {"loops": 0})
    run.advance()
    (task,) = run.open_tasks()
    run.complete(task.task_id, {"again": True})
    later = runtime.load("loop3", compiled.spec_json, run.dump())
    with pytest.raises(TaskNotOpen):
        later.task_data(task.task_id)
    with pytest.raises(TaskNotOpen):
        later.complete(task.task_id, {"again": False})
