"""disclosure over the API (built out by the disclosure work)."""
from __future__ import annotations

from flask_smorest import Blueprint

URL = ""
blp = Blueprint("api_disclosure", __name__, description="disclosure")
