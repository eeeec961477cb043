"""What the `flask coop` commands share: the group, failing with the service's message, finding a user."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from coop.core import clock
from coop.core.errors import CoopError, flatten_errors
from coop.core.extensions import db

coop_cli = AppGroup("coop", help="coop administration")


@contextmanager
def transaction(report: Callable[[CoopError], None] | None = None):
    """A command's writes as one transaction (what the request boundary is for a page): committed when the block
    ends. A refusal (CoopError) is rolled back and stops the command with the service's message and field errors,
    or, with `report`, with what `report(exc)` prints and exit status 1; anything else is rolled back and raised.
    Also a decorator: `@transaction()`."""
    try:
        yield
    except CoopError as exc:
        db.session.rollback()
        if report is None:
            detail = "; ".join(f"{k}: {v}" for k, v in flatten_errors(exc.errors).items()) if exc.errors else ""
            raise click.ClickException(f"{exc.message} {detail}".strip()) from None
        report(exc)
        sys.exit(1)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def user_named(username: str):
    from coop.models import User

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


def this_year() -> int:
    """The organization's year today (Beijing time)."""
    return clock.today().year
