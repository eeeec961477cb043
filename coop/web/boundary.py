"""One transaction per request (Indico's `RH.process`): views and services write, the boundary commits once.

A view that returns a response below 400 has its work committed before the response leaves; an error response,
an exception or an `abort` leaves the work uncommitted, and Flask-SQLAlchemy's teardown rolls it back. The commit
runs inside `dispatch_request`, so a failure at commit time (a unique key, a value too long) still reaches the
app's error handlers and becomes a precise 4xx, never a bare 500. Code that must keep a write despite answering
with an error (a failed login's count) commits it itself, on purpose and commented.
"""
from __future__ import annotations

from flask import Flask

from coop.core.extensions import db


class CoopFlask(Flask):
    def dispatch_request(self):
        response = self.make_response(super().dispatch_request())
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
