"""Domain errors. Each carries messages addressed by field path, so the web form can show them beside the
field and the API can return them as a 4xx body ({"errors": {"lines": {"1": {"debit": ["…"]}}}})."""
from __future__ import annotations

from typing import Iterable


class CoopError(Exception):
    status_code = 422
    #: the machine-readable `code` of the API error envelope (coop.api.envelope)
    code = "validation_failed"

    def __init__(self, message: str = "", errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or ({"_schema": [message]} if message else {})


class ValidationFailed(CoopError):
    """Bad input; `errors` is nested by field path."""

    @classmethod
    def from_issues(cls, issues: Iterable) -> "ValidationFailed":
        errors: dict = {}
        first = None
        for issue in issues:
            first = first or issue.message
            add_error(errors, issue.path, issue.message)
        return cls(first or "", errors)

    @classmethod
    def field(cls, path: str, message: str) -> "ValidationFailed":
        errors: dict = {}
        add_error(errors, path, message)
        return cls(message, errors)


class PeriodClosed(CoopError):
    status_code = 409
    code = "period_closed"


class VoucherPosted(CoopError):
    status_code = 409
    code = "voucher_posted"


class InvalidState(CoopError):
    """The action does not fit the object's current state (e.g. posting a draft)."""

    status_code = 409
    code = "invalid_state"


class Forbidden(CoopError):
    status_code = 403
    code = "forbidden"


class NotFound(CoopError):
    status_code = 404
    code = "not_found"


def add_error(errors: dict, path: str, message: str) -> None:
    """Put `message` at dotted `path` ("lines.1.debit") in a marshmallow-style nested error dict."""
    parts = path.split(".") if path else ["_schema"]
    node = errors
    for part in parts[:-1]:
        key = int(part) if part.isdecimal() else part
        if isinstance(node.get(key), list):  # "lines" already has a message: keep it as the node's _schema
            node[key] = {"_schema": node[key]}
        node = node.setdefault(key, {})
    last = int(parts[-1]) if parts[-1].isdecimal() else parts[-1]
    if isinstance(node.get(last), dict):  # a message about the whole of a nested field (e.g. unbalanced lines)
        node = node[last]
        last = "_schema"
    node.setdefault(last, []).append(message)


def flatten_errors(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    """{"lines": {1: {"debit": ["x"]}}} → {"lines.1.debit": ["x"]} — for templates."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten_errors(value, path))
        else:
            flat.setdefault(path, []).extend(value if isinstance(value, list) else [str(value)])
    return flat
