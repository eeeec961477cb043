"""贷款贴息 pages (built out by the loans work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("loans", __name__)
