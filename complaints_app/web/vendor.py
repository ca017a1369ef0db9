"""Front-end libraries installed from npm by the set-up command (never committed), served as files."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("vendor", __name__)
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
PACKAGES = {"bpmn-js": NODE_MODULES / "bpmn-js" / "dist", "diagram-js-minimap": NODE_MODULES / "diagram-js-minimap",
            "chart.js": NODE_MODULES / "chart.js" / "dist"}


@bp.get("/vendor/<package>/<path:filename>")
def asset(package, filename):
    root = PACKAGES.get(package)
    if root is None or not root.is_dir():
        abort(404)
    return send_from_directory(root, filename, max_age=86400)
