"""财务公开 pages (built out by the disclosure work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("disclosure", __name__)
