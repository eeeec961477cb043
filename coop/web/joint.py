"""飞地抱团 pages (built out by the joint work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("joint", __name__)
