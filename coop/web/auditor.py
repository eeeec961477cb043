"""经管站工作台 pages (built out by the auditor work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auditor", __name__)
