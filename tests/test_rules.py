"""Project rules that keep the architecture honest, and the audit log's immutability."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from complaints_app.extensions import db

PACKAGE = Path(__file__).resolve().parent.parent / "complaints_app"


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_workflow_package_imports_spiffworkflow():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if "workflow" not in p.relative_to(PACKAGE).parts[:1]
                 and any(n.split(".")[0] == "SpiffWorkflow" for n in imports(p))]
    assert offenders == []


def test_only_the_door_commits_or_rolls_back():
    """Views, API routes, CLI commands, jobs and the domain leave both to ``unit_of_work``."""
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if path.name != "unit_of_work.py"
                 and any(call in path.read_text() for call in (".commit(", ".rollback("))]
    assert offenders == []


def test_lower_layers_do_not_import_the_edges():
    edges = {"complaints_app.api", "complaints_app.cli", "complaints_app.tasks", "complaints_app.simulation"}
    offenders = []
    for folder in ("domain", "workflow", "models"):
        for path in (PACKAGE / folder).rglob("*.py"):
            source = path.read_text()
            if any(f"from ..{e.split('.')[-1]}" in source or e in imports(path) for e in edges):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _app_imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of complaints_app that ``path`` imports, at the top or inside a function alike."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found |= {f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                      for alias in node.names}
    return {m for m in found if m in modules and m != name}


def test_no_import_cycle_in_the_app_not_even_one_a_function_level_import_hides():
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: _app_imports(path, set(paths)) for name, path in paths.items()}
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append(" -> ".join(trail[trail.index(imported):] + [imported]))
            elif imported not in state:
                visit(imported, trail + [imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_audit_log_refuses_updates_and_deletes(people, register):
    complaint = register(people.staff)
    for statement in ("UPDATE audit_events SET kind = 'forged' WHERE complaint_id = :c",
                      "DELETE FROM audit_events WHERE complaint_id = :c"):
        with pytest.raises(DatabaseError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(text(statement), {"c": complaint.id})


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from complaints_app.models import Base
    from complaints_app.models.base import built_on

    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"include_object": built_on(connection.dialect.name)})
    diffs = compare_metadata(context, Base.metadata)
    assert diffs == []
