"""Members, households and roster import/export pages (built out by the share-register work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/o/<int:org_id>/members")
