"""distribution over the API (built out by the distribution work)."""
from __future__ import annotations

from flask_smorest import Blueprint

URL = ""
blp = Blueprint("api_distribution", __name__, description="distribution")
