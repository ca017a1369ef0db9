"""Decision tables: the first matching rule decides, and later rules are not even evaluated."""

from __future__ import annotations

from complaints_app.workflow import ProcessRuntime
from tests.diagrams import decision_process


def decide(x: int, rows):
    runtime = ProcessRuntime()
    compiled = runtime.compile(decision_process(rows))
    run = runtime.start(f"dmn-{hash(tuple(rows))}", compiled.spec_json, {"x": x})
    result = run.advance()
    return result, run.current_data()


def test_first_match_wins_and_stops():
    rows = [("? < 10", '"small"'), ("? < 100", '"medium"'), ("1 // 0 == ?", '"never"'), ("", '"other"')]
    result, data = decide(5, rows)
    assert result.incident is None and data["choice"] == "small"
    result, data = decide(50, rows)
    assert result.incident is None and data["choice"] == "medium"


def test_a_broken_cell_that_is_reached_is_an_incident():
    result, _ = decide(500, [("? < 10", '"small"'), ("1 // 0 == ?", '"never"')])
    assert result.incident is not None and result.incident.element_id == "decide"
    assert "ZeroDivisionError" in result.incident.message
