"""/api/v1/docs: the OpenAPI document in Swagger UI, served from coop/static/vendor (the CSP allows no CDN) and
started by a static script (the CSP allows no inline script). Public, like /api/v1/openapi.json."""
from __future__ import annotations

from flask import Blueprint, render_template

from coop.api.common import API_PREFIX

# a plain Flask blueprint: the page is not an API operation, so it stays out of the OpenAPI document
bp = Blueprint("api_docs_page", __name__)


@bp.route(API_PREFIX + "/docs")
def docs_page():
    return render_template("api_docs.html")


docs_page.coop_public = True  # no token: read by authenticate_api_request
