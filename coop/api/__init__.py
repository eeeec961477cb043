"""The JSON API under /api/v1, built with flask-smorest. Bearer tokens authenticate; every error is one envelope
(coop.api.envelope): {"status": 422, "code": "validation_failed", "message": "...",
"errors": {"lines": {"1": {"debit": ["..."]}}}}."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from coop.api.common import (API_PREFIX, IdConverter, authenticate_api_request, error_response,  # noqa: F401
                             handle_http_exception, is_api_request)
from coop.core.errors import CoopError


def register_api(app: Flask, api) -> None:
    from coop.core.extensions import csrf
    from coop.api import (admin, assets, cash, county, daily, disclosure, distribution, docs, joint, ledger, loans, members,
                   orgs, reports, setup)

    app.register_blueprint(docs.bp)
    for module in (orgs, ledger, reports, admin, members, distribution, disclosure, loans, joint, daily, setup, county,
                   cash, assets):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.URL)
        csrf.exempt(module.blp)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]

    # flask-smorest installs a JSON handler for every HTTPException; keep HTML for the web pages.
    from coop.web.errors import render_error_page

    def _http(exc: HTTPException):
        if is_api_request():
            return handle_http_exception(exc)
        # werkzeug's stock English text (abort(404), a routing 404, a 405) is not shown; a description given on
        # purpose is
        own = exc.description if exc.description and exc.description != type(exc).description else None
        return render_error_page(exc.code or 500, own)

    def _coop(exc: CoopError):
        from coop.core.extensions import db

        db.session.rollback()
        if is_api_request():
            return error_response(exc.status_code, exc.message or "请求无效", exc.errors, code=exc.code)
        return render_error_page(exc.status_code, exc.message)

    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(CoopError, _coop)
    app.before_request(authenticate_api_request)
