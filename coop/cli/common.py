"""What the `flask coop` commands share: the group, failing with the service's message, finding a user."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from coop.core import clock
from coop.core.errors import CoopError, flatten_errors
from coop.core.extensions import db

coop_cli = AppGroup("coop", help="coop administration")


def fail(exc: CoopError):
    """Roll back and stop the command with the service's message and field errors."""
    db.session.rollback()
    detail = "; ".join(f"{k}: {v}" for k, v in flatten_errors(exc.errors).items()) if exc.errors else ""
    raise click.ClickException(f"{exc.message} {detail}".strip())


def user_named(username: str):
    from coop.models import User

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


def this_year() -> int:
    """The organization's year today (Beijing time)."""
    return clock.today().year
