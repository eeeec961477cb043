"""loans over the API (built out by the loans work)."""
from __future__ import annotations

from flask_smorest import Blueprint

URL = ""
blp = Blueprint("api_loans", __name__, description="loans")
