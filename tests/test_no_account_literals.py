"""RULES §2: no account code written in the services, views, API, schemas or models — system postings name posting
roles (coop.ledger.roles) and code structure lives in coop.ledger.codes. Only the chart, codes and roles modules
may spell a code. This reads the source, so it runs without a database."""
from __future__ import annotations

import ast
import pathlib

from coop.ledger.chart import CHART_BY_CODE

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCANNED = ("coop/services", "coop/web", "coop/api", "coop/schemas", "coop/models", "coop/reports", "coop/documents",
           "coop/cli")  # coop/demo is a village's own books (data), not postings
#: files still being moved to posting roles (empty: every file is checked)
PENDING_ISSUE_15: set[str] = set()


def _files():
    for entry in SCANNED:
        path = ROOT / entry
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def account_literals(source: str) -> list[tuple[int, str]]:
    """(line, literal) of every string constant that is an account code: all digits, 3 to 20 long, starting with
    one of the national first-level codes."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            v = node.value
            if 3 <= len(v) <= 20 and v.isdigit() and v[:3] in CHART_BY_CODE:
                found.append((node.lineno, v))
    return sorted(found)


def test_the_detector_finds_codes_and_ignores_text():
    assert account_literals('x = code.startswith("112")\ny = "3220103"') == [(1, "112"), (2, "3220103")]
    assert account_literals('"""Dr 102 / Cr 201"""\nmsg = "应为 201 短期借款"\nn = "0012"\nm = "999"') == []


def test_no_account_code_literals_outside_chart_codes_and_roles():
    offenders = []
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in PENDING_ISSUE_15:
            continue
        offenders += [f"{rel}:{line}: {code!r}" for line, code in account_literals(path.read_text(encoding="utf-8"))]
    assert not offenders, "account codes written outside the chart module (use coop.services.roles.resolve):\n" + \
        "\n".join(offenders)
