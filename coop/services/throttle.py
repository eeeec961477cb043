"""Login throttling (RULES §13), shared by every worker process: failures per account and per client address in
the `login_failures` table, so N gunicorn workers do not give a guesser N times the allowance, and a back-off
holds whichever worker the next attempt lands on.

Past the free allowance (`limit` failures within `window` seconds) each failure backs the key off for `backoff` ×
2^(failures − limit) seconds, at most `lockout` (without `backoff`: `lockout` at once): one typo costs nothing, a
mistyping colleague behind the same office address costs the others nothing, a guesser gets slower and slower.
Two failures of one key at the same instant each count (each is its own row); at worst both wait the same step.
Times are epoch seconds (`now` for tests); the table holds naive UTC. The caller commits.
"""
from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import LoginFailure


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(tzinfo=None)


def _epoch(at: dt.datetime) -> float:
    return at.replace(tzinfo=dt.timezone.utc).timestamp()


#: pg_advisory_xact_lock(THROTTLE_LOCK, hashtext(key)): one attempt at a time per throttle key
THROTTLE_LOCK = 0x6C6F6769


def hold(keys: list[str]) -> None:
    """One attempt at a time per key, until the transaction ends: the look at the back-off, the password check
    and the failure counted are one step. Otherwise guesses sent at once all look before any is counted, and
    every one of them is checked. PostgreSQL: an advisory lock per key (in a fixed order: no deadlock); SQLite:
    its write lock (coop/__init__.py takes it for FOR UPDATE), which it has only one of anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        for key in sorted(set(keys)):
            db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(THROTTLE_LOCK, sa.func.hashtext(key))))
    else:
        db.session.execute(sa.select(LoginFailure.id).where(LoginFailure.key.in_(keys)).limit(1).with_for_update())


def locked_until(keys: list[str], now: float | None = None) -> float | None:
    """The latest time until which any of `keys` is backed off, or None when all may try."""
    now = time.time() if now is None else now
    until = db.session.scalar(sa.select(sa.func.max(LoginFailure.locked_until))
                              .where(LoginFailure.key.in_(keys), LoginFailure.locked_until > _utc(now)))
    return _epoch(until) if until is not None else None


def fail(keys: list[str], *, limit: int, window: float, lockout: float, backoff: float | None = None,
         now: float | None = None) -> float | None:
    """Count one failure for each key; from the `limit`-th failure within `window` on, back the key off.
    Returns the end of the back-off this failure set, if it set one."""
    now = time.time() if now is None else now
    at, since = _utc(now), _utc(now - window)
    until = None
    # what has left the window and holds no back-off any more, of every key (a guesser trying many names or
    # addresses leaves no rows behind for long); rows another attempt is clearing at the same moment are its to
    # clear (SKIP LOCKED: two clearings never wait on each other's rows, so never deadlock)
    expired = (sa.select(LoginFailure.id)
               .where(LoginFailure.at <= since,
                      sa.or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= at))
               .with_for_update(skip_locked=True))
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.id.in_(expired.scalar_subquery())))
    for key in keys:
        failure = LoginFailure(key=key, at=at)
        db.session.add(failure)
        db.session.flush()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)
                                  .where(LoginFailure.key == key, LoginFailure.at > since))
        if count >= limit:
            wait = lockout if backoff is None else min(lockout, backoff * 2 ** (count - limit))
            failure.locked_until = _utc(now + wait)
            until = max(until or 0, now + wait)
    db.session.flush()
    return until


def reset(keys: list[str]) -> None:
    """Forget the failures of `keys` (the account's, after its right password)."""
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.key.in_(keys)))


def counted_keys() -> set[str]:
    """The keys with failures on record (for the people who look into a lock-out, and tests)."""
    return set(db.session.scalars(sa.select(LoginFailure.key).distinct()))
