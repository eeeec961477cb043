"""The member portal (own household only) and the public certificate verify page."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("portal", __name__)
