"""The ``complaints`` command (``python -m complaints_app`` too): the app's CLI commands (``cli``) on an app
made from the environment."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from . import create_app


def _create_app(*_args, **_kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True, add_version_option=False)
def main():
    """Complaints management: BPMN-driven complaint handling."""


if __name__ == "__main__":
    main()
