"""`flask coop demo`: the demo county."""
from __future__ import annotations

import click

from coop.cli.common import coop_cli, transaction


@coop_cli.command("demo")
@click.option("--quiet", is_flag=True)
def demo_cmd(quiet):
    """Build the demo county (idempotent) and print the demo logins."""
    from coop.demo import build_demo

    with transaction():
        credentials = build_demo(progress=not quiet)
    if credentials:
        click.echo("demo users (password for all: see below)")
        for username, role, where, password in credentials:
            click.echo(f"  {username:<14} {password:<12} {role:<18} {where}")
