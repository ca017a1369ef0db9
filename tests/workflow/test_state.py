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
