"""Quantification plans, the share register, its events and certificates (built out by the share-register work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shares", __name__, url_prefix="/o/<int:org_id>/shares")
