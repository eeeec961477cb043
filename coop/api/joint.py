"""joint over the API (built out by the joint work)."""
from __future__ import annotations

from flask_smorest import Blueprint

URL = ""
blp = Blueprint("api_joint", __name__, description="joint")
