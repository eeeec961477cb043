"""Server-rendered pages. Blueprints per domain; they call the same services as the API."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from . import (admin, assets, auditor, auth, disclosure, distribution, joint, ledger, loans, members, orgs, portal,
                   reports, shares)
    from .auth import init_login

    init_login(app)
    for module in (auth, orgs, ledger, reports, admin, members, shares, portal, distribution, disclosure, loans,
                   joint, auditor, assets):
        app.register_blueprint(module.bp)
