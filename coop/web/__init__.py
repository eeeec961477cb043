"""Server-rendered pages. Blueprints per domain; they call the same services as the API."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from coop.web import (admin, assets, auditor, auth, cash, county, daily, disclosure, distribution, joint, ledger, loans,
                   members, orgs, portal, reports, setup, shares)
    from coop.web.auth import init_login

    init_login(app)
    from coop.web.idempotency import idempotency_field

    app.jinja_env.globals["idempotency_field"] = idempotency_field  # one-time token of payment-like forms
    from coop.models import STATUS_ENUMS

    app.jinja_env.globals.update({e.__name__: e for e in STATUS_ENUMS})  # templates compare v.status == VoucherStatus.POSTED
    for module in (auth, orgs, ledger, reports, admin, members, shares, portal, distribution, disclosure, loans,
                   joint, auditor, daily, setup, county, cash, assets):
        app.register_blueprint(module.bp)
        orgs.WEB_BLUEPRINTS.add(module.bp.name)
