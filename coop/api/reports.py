"""Reports as JSON (the reports capability extends this module with xlsx/PDF)."""
from __future__ import annotations

from flask_smorest import Blueprint

URL = "/orgs/<int:org_id>/reports"
blp = Blueprint("api_reports", __name__, description="报表 Reports")
