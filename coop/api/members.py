"""Members, households, plans and the share register over the API (built out by the share-register work)."""
from __future__ import annotations

from flask_smorest import Blueprint

URL = "/orgs/<int:org_id>"
blp = Blueprint("api_members", __name__, description="成员与股权 Members and shares")
