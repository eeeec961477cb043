"""CLI commands: backup (see README)."""
from __future__ import annotations


def register(coop_cli) -> None:
    """Add this module's commands to the `flask coop` group."""
