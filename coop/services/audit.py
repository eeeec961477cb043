"""The audit log: one row per significant action, chained with a keyed MAC so that an edit, a deletion or a
rebuilt chain is detectable by anyone holding the key — and a rewound or rebuilt chain by an anchor kept outside
the database (the head printed on every published sheet and 股权证, or `coop verify --anchor`).

Entries are written in the action's own transaction with a *pending* MAC (HMAC over the entry's content), so the
sealer can tell the application's entries from rows someone inserted into the table directly: those are never
chained, and `coop verify` names them. Right after the writing transaction commits the entries are sealed, in a
short separate transaction that locks the chain head: the chain order (`seq`) is the sealing order, so concurrent
writers never contend for the head while doing their work.

The key lives outside the database (AUDIT_KEY / COOP_AUDIT_KEY, or the file AUDIT_KEY_FILE / COOP_AUDIT_KEY_FILE;
see the README). Every entry records the id of the key it was sealed with, so after a rotation old entries verify
with their old key and new ones with the new. Entries sealed before keys existed (plain SHA-256, key_id NULL)
stay as they were; the first keyed entry (`audit.anchor`) records the plain head it continues from.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from coop.core.extensions import db
from coop.models import AuditHead, AuditLog, RoleAssignment
from coop.models.base import utcnow

GENESIS = "0" * 64
_PENDING = "coop_audit_pending"
ANCHOR_ACTION = "audit.anchor"


# ---------------------------------------------------------------- keys


class AuditKeyMissing(RuntimeError):
    pass


def _parse_keys(text: str) -> list[tuple[str, bytes]]:
    """"id:hexsecret" entries separated by commas or new lines (a key file has one "id hexsecret" a line);
    the last one is the current key. A bare secret gets an id derived from it."""
    keys = []
    for raw in text.replace(",", "\n").splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        kid, sep, secret = raw.replace(" ", ":", 1).partition(":")
        if not sep:
            kid, secret = "k" + hashlib.sha256(raw.encode()).hexdigest()[:8], raw
        secret = secret.strip()
        try:
            material = bytes.fromhex(secret)
        except ValueError:
            material = secret.encode()
        if len(material) < 16:
            raise AuditKeyMissing(f"审计密钥 {kid} 太短（至少16字节）")
        keys.append((kid.strip()[:16], material))
    return keys


def key_file() -> Path | None:
    path = current_app.config.get("AUDIT_KEY_FILE")
    if path:
        return Path(path)
    if current_app.config.get("ENV_NAME") == "production" or current_app.testing:
        return None
    # development: generated on first use, beside the development database
    return Path(os.environ.get("COOP_INSTANCE_DIR") or current_app.instance_path) / "audit.key"


def keys() -> dict[str, bytes]:
    """Every known key by id, in order; the last is the current one."""
    cache = current_app.extensions.setdefault("coop_audit_keys", {})
    if "keys" in cache:
        return cache["keys"]
    text = str(current_app.config.get("AUDIT_KEY") or "")  # from_prefixed_env may have parsed digits as a number
    path = key_file()
    if not text and path is not None:
        if not path.exists() and current_app.config.get("ENV_NAME") != "production":
            generate_key_file(path)
        if path.exists():
            text = path.read_text()
    found = dict(_parse_keys(text))
    if not found:
        raise AuditKeyMissing("没有审计密钥：请设置 COOP_AUDIT_KEY 或 COOP_AUDIT_KEY_FILE（见 README）")
    cache["keys"] = found
    return found


def current_key() -> tuple[str, bytes]:
    kid, material = list(keys().items())[-1]
    return kid, material


def generate_key_file(path: Path, kid: str = "k1") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(f"{kid} {secrets.token_hex(32)}\n")
    return kid


def rotate_key() -> str:
    """Append a new key to the key file; it becomes the current one. Returns its id."""
    path = key_file()
    if path is None or current_app.config.get("AUDIT_KEY"):
        raise AuditKeyMissing("密钥来自环境变量 COOP_AUDIT_KEY：请在末尾追加新的“编号:密钥”后重启")
    existing = keys()
    n = len(existing) + 1
    while f"k{n}" in existing:
        n += 1
    kid = generate_key_file(path, f"k{n}")
    current_app.extensions.get("coop_audit_keys", {}).pop("keys", None)
    return kid


def _mac(material: bytes, content: str) -> str:
    return hmac.new(material, content.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- entries


def _content(row) -> str:
    return "|".join([row.action, str(row.user_id or ""), str(row.organization_id or ""), row.target or "",
                     row.detail or "", row.created_at.isoformat()])


def entry_hash(prev_hash: str, row) -> str:
    """The plain SHA-256 link of entries sealed before keys (key_id NULL)."""
    content = "|".join([
        prev_hash, str(row.seq), row.action, str(row.user_id or ""), str(row.organization_id or ""),
        row.target or "", row.detail or "", row.created_at.isoformat(),
    ])
    return hashlib.sha256(content.encode()).hexdigest()


def entry_mac(material: bytes, kid: str, prev_hash: str, row) -> str:
    return _mac(material, "|".join([kid, prev_hash, str(row.seq), _content(row)]))


def pending_mac(material: bytes, kid: str, row) -> str:
    return _mac(material, "|".join(["pending", kid, _content(row)]))


def _detail(detail: dict) -> str | None:
    return json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True) if detail else None


def log(action: str, *, user=None, org=None, target: str | None = None, **detail) -> AuditLog:
    kid, material = current_key()
    entry = AuditLog(action=action, user_id=getattr(user, "id", None), organization_id=getattr(org, "id", None),
                     target=target, detail=_detail(detail), created_at=utcnow(), key_id=kid)
    entry.hash = pending_mac(material, kid, entry)
    db.session.add(entry)
    db.session.info[_PENDING] = True
    return entry


def log_many(action: str, *, user=None, org=None, targets: list[tuple[str, dict]]) -> None:
    """`log` for many targets at once (bulk imports): one INSERT of every entry, sealed after commit as usual."""
    if not targets:
        return
    kid, material = current_key()
    now = utcnow()
    rows = []
    for target, detail in targets:
        row = dict(action=action, user_id=getattr(user, "id", None), organization_id=getattr(org, "id", None),
                   target=target, detail=_detail(detail), created_at=now, key_id=kid)
        row["hash"] = pending_mac(material, kid, _Row(row, None))
        rows.append(row)
    db.session.execute(sa.insert(AuditLog), rows)
    db.session.info[_PENDING] = True


def seal(connection) -> int:
    """Chain every unsealed entry the application wrote, in id order, after the current head. Returns how many
    were sealed. Rows without a valid pending MAC (inserted behind the application's back) are left unsealed."""
    t, h = AuditLog.__table__, AuditHead.__table__
    kid, material = current_key()
    head = connection.execute(sa.select(h).where(h.c.id == 1).with_for_update()).first()
    if head is None:
        # two first writers at once: one row wins, the other waits on it (no duplicate-key error)
        values = dict(id=1, last_seq=0, last_hash=GENESIS, key_id=kid)
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert

            connection.execute(insert(h).values(**values).on_conflict_do_nothing(index_elements=[h.c.id]))
        else:
            connection.execute(h.insert().prefix_with("OR IGNORE").values(**values))
        head = connection.execute(sa.select(h).where(h.c.id == 1).with_for_update()).first()
    seq, prev = head.last_seq, head.last_hash
    rows = [r for r in connection.execute(sa.select(t).where(t.c.seq.is_(None)).order_by(t.c.id)).all()
            if _pending_ok(r)]
    if head.key_id is None:
        # the first keyed seal: an anchor entry continues the plain chain and records the role grants so far
        rows.insert(0, _anchor_row(connection, kid, material, seq, prev))
    sealed = []
    for row in rows:
        seq += 1
        rkid = row.key_id
        digest = entry_mac(keys()[rkid], rkid, prev, _Row(row, seq))
        sealed.append({"b_id": row.id, "b_seq": seq, "b_prev": prev, "b_hash": digest})
        prev = digest
    if rows:
        _write_seals(connection, sealed, dict(last_seq=seq, last_hash=prev, key_id=kid))
    return len(rows)


#: PostgreSQL: the entries' seals as arrays, and the head, in one statement of fixed text (cached, one round trip)
_SEAL_PG = sa.text("""
    WITH entries AS (
        UPDATE audit_log SET seq = s.seq, prev_hash = s.prev, hash = s.hash
        FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:prevs AS text[]), CAST(:hashes AS text[]))
             AS s(id, seq, prev, hash)
        WHERE audit_log.id = s.id)
    UPDATE audit_head SET last_seq = :last_seq, last_hash = :last_hash, key_id = :key_id WHERE id = 1""")


def _write_seals(connection, sealed: list[dict], head: dict) -> None:
    """The entries' seq and MACs and the new head: one statement on PostgreSQL, an executemany and an UPDATE on
    SQLite."""
    t, h = AuditLog.__table__, AuditHead.__table__
    if connection.dialect.name == "postgresql":
        connection.execute(_SEAL_PG, dict(ids=[s["b_id"] for s in sealed], seqs=[s["b_seq"] for s in sealed],
                                          prevs=[s["b_prev"] for s in sealed], hashes=[s["b_hash"] for s in sealed],
                                          **head))
        return
    connection.execute(t.update().where(t.c.id == sa.bindparam("b_id"))
                       .values(seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")),
                       sealed)
    connection.execute(h.update().where(h.c.id == 1).values(**head))


def _pending_ok(row) -> bool:
    material = keys().get(row.key_id or "")
    return material is not None and hmac.compare_digest(row.hash or "", pending_mac(material, row.key_id, row))


def _anchor_row(connection, kid, material, seq, prev):
    ra = RoleAssignment.__table__
    roles = sorted(([r.user_id, r.role, *_scope(r)] for r in connection.execute(sa.select(ra))), key=str)
    values = dict(action=ANCHOR_ACTION, target=str(seq), created_at=utcnow(), key_id=kid,
                  detail=_detail({"plain_head": {"seq": seq, "hash": prev}, "roles": roles}))
    row_id = connection.execute(sa.insert(AuditLog.__table__).values(**values)).inserted_primary_key[0]
    return _Row(dict(values, id=row_id, user_id=None, organization_id=None), None)


def _scope(r) -> list:
    for kind in ("county", "township", "organization"):
        if getattr(r, f"{kind}_id", None) is not None:
            return [kind, getattr(r, f"{kind}_id")]
    return ["", None]


class _Row:
    """A row (or a dict of column values) with the seq it is about to get."""

    def __init__(self, row, seq):
        self._row, self.seq = row, seq

    def __getattr__(self, name):
        if isinstance(self._row, dict):
            return self._row.get(name)
        return getattr(self._row, name)


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING, False):
        return
    bind = session.get_bind()
    engine = bind.engine if hasattr(bind, "engine") else bind
    with engine.begin() as conn:
        seal(conn)


# ---------------------------------------------------------------- verifying


def verify_chain(session=None) -> list[str]:
    """Every break in the chain, described; empty when the log is intact."""
    session = session or db.session
    known = keys()
    problems = []
    prev, expected, keyed = GENESIS, 1, False
    t = AuditLog.__table__
    for entry in session.execute(sa.select(t).where(t.c.seq.is_not(None)).order_by(t.c.seq)):
        if entry.seq != expected or entry.prev_hash != prev:
            problems.append(f"审计日志第 {entry.seq} 条：与前一条不连续（记录被删除或插入）")
        if entry.key_id is None:
            if keyed:
                problems.append(f"审计日志第 {entry.seq} 条（id {entry.id}）：签名链中出现未签名的记录（链被改写）")
            elif entry.hash != entry_hash(entry.prev_hash or "", entry):
                problems.append(f"审计日志第 {entry.seq} 条（id {entry.id}）：内容与哈希不符（记录被修改）")
        else:
            keyed = True
            material = known.get(entry.key_id)
            if material is None:
                problems.append(f"审计日志第 {entry.seq} 条（id {entry.id}）：未知的密钥编号 {entry.key_id}")
            elif not hmac.compare_digest(entry.hash or "",
                                         entry_mac(material, entry.key_id, entry.prev_hash or "", entry)):
                problems.append(f"审计日志第 {entry.seq} 条（id {entry.id}，{entry.action}）：内容与哈希不符"
                                "（密钥签名不符：记录被修改或伪造）")
        prev, expected = entry.hash or "", entry.seq + 1
    if expected > 1 and not keyed:
        problems.append("审计日志没有任何密钥签名的记录（哈希链可能被重建）")
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.last_seq != expected - 1):
        problems.append("审计日志末尾的记录被删除")
    for row in session.execute(sa.select(t.c.id, t.c.action, t.c.key_id, t.c.hash, t.c.user_id, t.c.organization_id,
                                         t.c.target, t.c.detail, t.c.created_at).where(t.c.seq.is_(None))):
        if not _pending_ok(row):
            problems.append(f"审计日志记录 id {row.id}（{row.action}）不是由系统写入的（直接插入数据库）")
    return problems


@dataclass
class Anchor:
    seq: int
    mac: str
    key_id: str | None

    def line(self) -> str:
        return f"审计链 第{self.seq}条 {self.mac[:16]}"

    def as_json(self) -> str:
        return json.dumps({"seq": self.seq, "mac": self.mac, "key_id": self.key_id}, sort_keys=True)


def anchor(session=None) -> Anchor:
    """The current head of the chain: record it outside the database to prove later it was not rebuilt."""
    session = session or db.session
    head = session.get(AuditHead, 1)
    if head is None:
        return Anchor(0, GENESIS, None)
    return Anchor(head.last_seq, head.last_hash, head.key_id)


def head_line() -> str:
    """The line printed on published sheets and 股权证; empty outside an application context."""
    if not has_app_context():
        return ""
    try:
        return anchor().line()
    except Exception:  # noqa: BLE001 — a missing head table must never stop a PDF
        return ""


def check_anchor(recorded: dict, session=None) -> list[str]:
    """The entry the anchor names must still be in the chain with the same MAC."""
    session = session or db.session
    seq, mac = int(recorded.get("seq", 0)), str(recorded.get("mac", ""))
    if seq == 0:
        return []
    row = session.execute(sa.select(AuditLog.hash).where(AuditLog.seq == seq)).first()
    if row is None:
        return [f"审计日志第 {seq} 条已不存在，而外部记录的链头是它（日志被截断或重建）"]
    if not hmac.compare_digest(row.hash or "", mac):
        return [f"审计日志第 {seq} 条的签名与外部记录的链头不符（日志被重建）"]
    return []
