"""Ledger pages: chart, opening balances, vouchers, periods (built out by the ledger UI work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/o/<int:org_id>")
