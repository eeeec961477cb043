"""Report pages and their xlsx/PDF downloads (built out by the reports work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/o/<int:org_id>/reports")
