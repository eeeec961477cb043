"""The SHA-256 of a voucher's lines, written into its posting's audit entry and re-computed by `coop verify`: a line
edited in the database after posting no longer matches (coop.services.integrity)."""
from __future__ import annotations

import hashlib
import json

from coop.core.money import to_fen


def rows_digest(rows) -> str:
    """rows: (seq, account_id, debit_fen, credit_fen, summary, counterparty) in seq order."""
    canon = [[int(s), int(a), int(d), int(c), su or "", cp or ""] for s, a, d, c, su, cp in rows]
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def digest_of(lines: list[dict]) -> str:
    """`lines_digest` of lines given as column values (seq, account_id, debit, credit, summary, counterparty)."""
    return rows_digest((l["seq"], l["account_id"], to_fen(l["debit"]), to_fen(l["credit"]), l["summary"],
                        l["counterparty"]) for l in sorted(lines, key=lambda l: l["seq"]))


def lines_digest(voucher) -> str:
    """Digest of a voucher's lines as they are in the session (called when posting; flushed lines)."""
    return rows_digest((l.seq, l.account_id, to_fen(l.debit), to_fen(l.credit), l.summary, l.counterparty)
                       for l in sorted(voucher.lines, key=lambda l: l.seq))
