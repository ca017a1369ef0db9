"""Build the OpenAPI 3 document from the API's routes and their pydantic models."""

from __future__ import annotations

import re

from flask import current_app
from pydantic import BaseModel

from .schemas import ErrorOut

ERRORS = {400: "invalid input", 401: "no or bad token", 403: "not allowed", 404: "not found",
          409: "conflict with the current state"}


def api_doc(summary: str, body: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
            status: int = 200, query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            also: dict[int, str] | None = None):
    """Attach what the OpenAPI document says about a view (``headers``: request headers it reads; ``also``:
    other success statuses, with the same response body)."""
    def mark(view):
        view.openapi = {"summary": summary, "body": body, "response": response, "status": status,
                        "query": query or {}, "headers": headers or {}, "also": also or {}}
        return view
    return mark


def build_document() -> dict:
    schemas: dict = {}
    paths: dict = {}

    def ref(model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    error_ref = ref(ErrorOut)
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        view = current_app.view_functions[rule.endpoint]
        doc = getattr(view, "openapi", None)
        if doc is None:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = {
                "operationId": rule.endpoint.split(".", 1)[1],
                "summary": doc["summary"],
                "parameters": [{"name": a, "in": "path", "required": True, "schema": {"type": "string"}}
                               for a in sorted(rule.arguments)]
                + [{"name": n, "in": "query", "required": False, "schema": {"type": "string"},
                    "description": d} for n, d in doc["query"].items()]
                + [{"name": n, "in": "header", "required": False, "schema": {"type": "string", "maxLength": 100},
                    "description": d} for n, d in doc["headers"].items()],
                "responses": {str(code): {"description": text,
                                          "content": {"application/json": {"schema": error_ref}}}
                              for code, text in ERRORS.items()},
            }
            if rule.endpoint != "api.openapi":
                operation["security"] = [{"bearer": []}]
            if doc["body"] is not None:
                operation["requestBody"] = {"required": True,
                                            "content": {"application/json": {"schema": ref(doc["body"])}}}
            success = {"description": "OK"}
            if doc["response"] is not None:
                success["content"] = {"application/json": {"schema": ref(doc["response"])}}
            operation["responses"][str(doc["status"])] = success
            for code, text in doc["also"].items():
                operation["responses"][str(code)] = {**success, "description": text}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Complaints API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
