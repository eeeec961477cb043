"""Backup and restore: one tar.gz holding every table as JSON, the attachment files and a manifest.

Archive layout (format version 1):

    manifest.json           format_version, schema_revision, created_at, database (dialect), files {name: sha256},
                            row_counts {table: n}
    tables/<table>.json     {"table", "columns", "rows"}: rows ordered by primary key, values as stored —
                            integers (amounts in fen, units in 0.0001), strings, booleans, dates and datetimes in
                            ISO 8601, bytes in base64, null — so an archive moves between SQLite and PostgreSQL
    attachments/<path>      every file under ATTACHMENT_DIR

The dump is read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite). A restore checks
every member's SHA-256, the format version and the schema revision before touching anything, only restores into an
empty database upgraded to the current head, and inserts everything in one transaction with the guard triggers
out of the way (PostgreSQL: `SET LOCAL session_replication_role = replica`; SQLite: the triggers are dropped and
created again inside the transaction), then resets PostgreSQL's id sequences.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
import zlib
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import current_app

from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.services.integrity import check_books

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class BackupError(CoopError):
    """The archive is refused (corrupt, wrong version, wrong schema) or the target database is not suitable."""


# ---------------------------------------------------------------- schema helpers


def _tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def _storage_type(col: sa.Column):
    t = col.type
    return t.impl_instance if isinstance(t, sa.types.TypeDecorator) else t


def _kind(col: sa.Column) -> str:
    t = _storage_type(col)
    if isinstance(t, sa.DateTime):
        return "datetime"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.LargeBinary):
        return "bytes"
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, sa.Integer):
        return "int"
    return "str"


def _encode(kind: str, value):
    if value is None:
        return None
    if kind in ("date", "datetime"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    return value


def _decode(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value)
    return value


def _storage_table(table: sa.Table) -> sa.TableClause:
    """The table with its columns typed as stored (Money → BigInteger), so values pass through untouched."""
    return sa.table(table.name, *[sa.column(c.name, _storage_type(c)) for c in table.columns])


def _order(table: sa.Table, clause: sa.TableClause):
    keys = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
    return [clause.c[k] for k in keys]


def script_head() -> str | None:
    from alembic.script import ScriptDirectory

    directory = current_app.extensions["migrate"].directory
    return ScriptDirectory(directory).get_current_head()


def database_revision(conn) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _begin_snapshot(conn) -> None:
    """SQLite (pysqlite only opens transactions before writes): open one now so every read sees one snapshot."""
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- backup


def create_backup(path: str | os.PathLike) -> dict:
    """Write the archive to `path` (atomically: a temporary file renamed into place). Returns the manifest."""
    engine = db.engine
    opts = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True} \
        if engine.dialect.name == "postgresql" else {}
    members: list[tuple[str, bytes | Path]] = []
    counts: dict[str, int] = {}
    with engine.connect().execution_options(**opts) as conn:
        _begin_snapshot(conn)
        revision = database_revision(conn) or script_head()  # create_all-built schema: the scripts' head
        for table in _tables():
            clause = _storage_table(table)
            kinds = [_kind(c) for c in table.columns]
            rows = [[_encode(k, v) for k, v in zip(kinds, row)]
                    for row in conn.execute(sa.select(clause).order_by(*_order(table, clause)))]
            counts[table.name] = len(rows)
            doc = {"table": table.name, "columns": [c.name for c in table.columns], "rows": rows}
            members.append((f"tables/{table.name}.json",
                            json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()))
        conn.rollback()
    att_dir = Path(current_app.config["ATTACHMENT_DIR"])
    if att_dir.is_dir():
        for f in sorted(p for p in att_dir.rglob("*") if p.is_file()):
            members.append(("attachments/" + f.relative_to(att_dir).as_posix(), f))
    files = {name: (hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else _sha256_file(data))
             for name, data in members}
    manifest = {
        "format_version": FORMAT_VERSION,
        "schema_revision": revision,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": engine.dialect.name,
        "files": files,
        "row_counts": counts,
    }
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".coop-backup-", suffix=".tar.gz", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            for name, data in members:
                if isinstance(data, bytes):
                    _add_bytes(tar, name, data)
                else:
                    tar.add(str(data), arcname=name, recursive=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    # epoch seconds: no time zone involved
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tar.addfile(info, io.BytesIO(data))


# ---------------------------------------------------------------- restore


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and name == p.as_posix()


def read_archive(path: str | os.PathLike) -> tuple[dict, dict[str, bytes], dict[str, bytes]]:
    """Open and check an archive: (manifest, table documents, attachment files). Raises BackupError when it is
    corrupt (unreadable, a checksum mismatch, a missing or unlisted member) or of an unknown format version."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            contents: dict[str, bytes] = {}
            for info in tar:
                if not info.isfile() or not _safe_name(info.name):
                    raise BackupError(f"备份档案损坏或不可信：成员 {info.name!r} 不是普通文件或路径不安全")
                if info.name in contents:
                    raise BackupError(f"备份档案损坏：成员 {info.name} 重复")
                contents[info.name] = tar.extractfile(info).read()
    except BackupError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"备份档案损坏，无法读取（{exc}）") from exc
    if MANIFEST not in contents:
        raise BackupError("备份档案损坏：缺少 manifest.json")
    try:
        manifest = json.loads(contents.pop(MANIFEST))
    except ValueError as exc:
        raise BackupError("备份档案损坏：manifest.json 不是有效的 JSON") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"不支持的备份格式版本 {manifest.get('format_version')!r}（本程序支持版本 {FORMAT_VERSION}）")
    listed = manifest.get("files") or {}
    for name in sorted(set(listed) | set(contents)):
        if name not in contents:
            raise BackupError(f"备份档案损坏：缺少文件 {name}")
        if name not in listed:
            raise BackupError(f"备份档案损坏：文件 {name} 不在清单中")
        if hashlib.sha256(contents[name]).hexdigest() != listed[name]:
            raise BackupError(f"备份档案损坏：文件 {name} 的校验和（SHA-256）与清单不符")
    tables = {n[len("tables/"):-len(".json")]: data for n, data in contents.items()
              if n.startswith("tables/") and n.endswith(".json")}
    attachments = {n[len("attachments/"):]: data for n, data in contents.items() if n.startswith("attachments/")}
    return manifest, tables, attachments


def restore_backup(path: str | os.PathLike, *, verify=None) -> dict:
    """Restore an archive into this app's (empty, upgraded) database and attachment folder, verify the books as
    restored (`verify`, default integrity.check_books) inside the same transaction, and commit only when they
    check out — else roll back (RestoreRefused with the problems). Returns the manifest."""
    manifest, table_docs, attachments = read_archive(path)
    engine = db.engine
    head = script_head()
    with engine.connect() as conn:
        current = database_revision(conn)
        if current != head:
            raise BackupError(f"数据库的版本（{current or '未初始化'}）不是程序的最新版本 {head}：请先运行 "
                              "flask --app wsgi db upgrade 把空数据库升级到最新版本")
        if manifest.get("schema_revision") != head:
            raise BackupError(f"备份档案的数据库版本 {manifest.get('schema_revision')} 与本程序的版本 {head} 不同："
                              "请先升级程序和数据库到与备份相同的版本，再恢复")
        non_empty = [t.name for t in _tables()
                     if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()]
        if non_empty:
            raise BackupError(f"只能恢复到空数据库：以下表已有数据：{', '.join(non_empty)}")

    docs = {}
    for table in _tables():
        if table.name not in table_docs:
            raise BackupError(f"备份档案缺少表 {table.name}")
        doc = json.loads(table_docs[table.name])
        if doc.get("columns") != [c.name for c in table.columns]:
            raise BackupError(f"备份档案中表 {table.name} 的列与当前数据库不同")
        if len(doc["rows"]) != (manifest.get("row_counts") or {}).get(table.name):
            raise BackupError(f"备份档案损坏：表 {table.name} 的行数与清单不符")
        docs[table.name] = doc
    unknown = sorted(set(table_docs) - set(docs))
    if unknown:
        raise BackupError(f"备份档案中有当前数据库没有的表：{', '.join(unknown)}")

    _refuse_unstorable_text(docs)
    written = _write_attachments(attachments)
    # one transaction: insert, verify the books as restored, then commit — or roll back and say why
    session = db.session
    try:
        conn = session.connection()
        if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        triggers = _disable_guards(conn)
        for table in _tables():
            clause = _storage_table(table)
            kinds = [_kind(c) for c in table.columns]
            names = [c.name for c in table.columns]
            rows = [{n: _decode(k, v) for n, k, v in zip(names, kinds, row)} for row in docs[table.name]["rows"]]
            for i in range(0, len(rows), 1000):
                conn.execute(clause.insert(), rows[i:i + 1000])
        _enable_guards(conn, triggers)
        _reset_sequences(conn)
        session.expire_all()
        problems = (verify or _check_books)()
        if problems:
            raise RestoreRefused(problems)
        session.commit()
    except BaseException:
        session.rollback()
        for target in written:
            target.unlink(missing_ok=True)
        raise
    db.session.expire_all()
    return manifest


class RestoreRefused(BackupError):
    """The archive restored, but the books it holds do not verify: rolled back."""

    def __init__(self, problems: list[str]):
        super().__init__(f"恢复后的校验发现 {len(problems)} 处问题，已全部回滚，数据库保持为空")
        self.problems = problems


def _check_books() -> list[str]:
    return check_books()


def _refuse_unstorable_text(docs: dict) -> None:
    """NUL cannot be stored in PostgreSQL text and a lone surrogate in no UTF-8 database: name the first one
    instead of failing halfway through the inserts."""
    for name, doc in docs.items():
        for i, row in enumerate(doc["rows"], start=1):
            for col, value in zip(doc["columns"], row):
                if isinstance(value, str) and ("\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)):
                    what = "空字符（NUL）" if "\x00" in value else "不成对的代理字符"
                    raise BackupError(f"备份档案中表 {name} 第 {i} 行的 {col} 含有{what}，不能保存；拒绝恢复")


def _write_attachments(files: dict[str, bytes]) -> list[Path]:
    """Attachments are named by content (org/sha256): an existing identical file is kept, a different one refused.
    Returns the files written, so a refused restore can take them away again."""
    root = Path(current_app.config["ATTACHMENT_DIR"])
    written: list[Path] = []
    for name, data in files.items():
        target = root / name
        if target.exists():
            if target.read_bytes() != data:
                raise BackupError(f"附件目录中已有不同内容的文件 {target}，不能覆盖")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.restoring")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written.append(target)
    return written


def _disable_guards(conn) -> list[str]:
    if conn.dialect.name == "postgresql":
        # skips the guard triggers and the foreign-key triggers, for this transaction only (needs a superuser)
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return []
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    triggers = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all()
    for name, _ in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in triggers]


def _enable_guards(conn, triggers: list[str]) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = DEFAULT")
        return
    for sql in triggers:
        conn.exec_driver_sql(sql)


def _reset_sequences(conn) -> None:
    """PostgreSQL: explicit ids were inserted, so move each table's id sequence past its highest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        for col in table.primary_key.columns:
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": table.name, "c": col.name}).scalar()
            if seq:
                conn.execute(sa.text(f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") FROM "{table.name}"), 1), '
                                     f'(SELECT MAX("{col.name}") FROM "{table.name}") IS NOT NULL)'), {"s": seq})
