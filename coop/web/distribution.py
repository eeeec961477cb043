"""收益分配 pages (built out by the distribution work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("distribution", __name__)
