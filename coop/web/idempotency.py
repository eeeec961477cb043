"""A double click creates one thing: idempotency keys on payment-like requests.

API: a client sends `Idempotency-Key: <any unique string>`; forms carry a hidden one-time token (`idempotency_field()`
in the template). The key is claimed by inserting a row (user, path, key) in the same transaction as the work, so
a second request with the same key waits on the unique index until the first commits, then answers what the first
answered (the API's status and body, the form's redirect) instead of doing the work again. A request that fails
rolls its claim back with everything else, so it can be retried with the same key.
"""
from __future__ import annotations

import functools
import re
import secrets
import time

import sqlalchemy as sa
from flask import current_app, make_response, redirect, request
from markupsafe import Markup

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import IdempotencyKey

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
#: how long a repeat waits for the first request's answer once the first has committed its work
WAIT_SECONDS = 10
#: printable ASCII without spaces, 1 … 100 characters (a UUID, a client's request id…)
KEY_PATTERN = r"^[\x21-\x7e]{1,100}$"
#: the header as documented in the OpenAPI document of each idempotent operation
HEADER_PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": KEY_PATTERN},
    "description": "A unique string per intended operation (e.g. a UUID). A repeat with the same key answers the "
                   "first request's result instead of doing it again (a double click, a client retry)."}


def idempotency_field() -> Markup:
    """The hidden one-time token of a form (a Jinja global)."""
    return Markup(f'<input type="hidden" name="{FORM_FIELD}" value="{secrets.token_urlsafe(16)}">')


def _find(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.scope == request.path, IdempotencyKey.key == key))


def _replay(row: IdempotencyKey):
    if row.location:
        resp = redirect(row.location, code=row.status or 303)
    else:
        resp = make_response(row.body or "", row.status or 200)
        resp.mimetype = "application/json"
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def _claim(user_id: int, key: str):
    """None when this request now owns the key (its row is flushed, uncommitted); else the first one's answer."""
    if not re.fullmatch(KEY_PATTERN, key or ""):
        raise ValidationFailed.field(HEADER, "幂等键应为1到100个可见ASCII字符（不含空格）")
    row = _find(user_id, key)
    if row is None:
        db.session.add(IdempotencyKey(user_id=user_id, scope=request.path, key=key))
        try:
            db.session.flush()  # waits here while another request holds the same key uncommitted
            return None
        except sa.exc.IntegrityError:
            db.session.rollback()
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = _find(user_id, key)
        if row is not None and row.status is not None:
            return _replay(row)
        if time.monotonic() > deadline:
            raise InvalidState("同一请求正在处理，请稍后刷新查看结果")
        db.session.rollback()  # end the read so the next one sees the first request's answer
        time.sleep(0.05)


def _remember(user_id: int, key: str, resp) -> None:
    """Store the answer of a request that did its work, so repeats get it too. The request boundary commits it
    with the work; an error answer is rolled back there with its claim, so the key may try again."""
    if not 200 <= resp.status_code < 400:
        return
    row = _find(user_id, key)
    if row is None:  # the view rolled its work back (a refused form redirected): nothing to remember
        return
    row.status = resp.status_code
    if resp.status_code >= 300:
        row.location = resp.headers.get("Location", "")[:500]
    else:
        row.body = resp.get_data(as_text=True)


def run_once(user_id: int, key: str | None, view, args, kwargs):
    if key is None:
        return view(*args, **kwargs)
    replay = _claim(user_id, key)
    if replay is not None:
        return replay
    # an exception leaves the claim uncommitted with the failed work (the boundary rolls both back): try again
    resp = current_app.make_response(view(*args, **kwargs))
    _remember(user_id, key, resp)
    return resp


def idempotent_form(view):
    """For web views whose form carries `idempotency_field()`: a repeat is redirected where the first one went."""
    from flask_login import current_user

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "POST" or not current_user.is_authenticated:
            return view(*args, **kwargs)
        return run_once(current_user.id, request.form.get(FORM_FIELD) or None, view, args, kwargs)

    return wrapper
