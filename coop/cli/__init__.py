"""`flask --app wsgi coop …` commands: thin wrappers over services that commit once at the end.

Each module adds its commands to the `coop` group (coop.cli.common) when imported; `register_cli` imports them
and adds the group to the app (flaskr's `init_app`)."""
from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from coop.cli import backup, demo, interop, setup, users, verify  # noqa: F401  (each adds its commands)
    from coop.cli.common import coop_cli

    app.cli.add_command(coop_cli)
