"""ORM guard: posted vouchers and their lines cannot be changed or deleted through the session.

The service layer never tries; this catches any code path that would. A database trigger
(see the migration and `immutability_ddl`) backs it for writes that bypass the ORM.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from coop.core.errors import InvalidState, VoucherPosted
from coop.models.ledger import Voucher, VoucherLine, VoucherStatus
from coop.models.shares import ShareAction, ShareEvent


def _was_posted(voucher: Voucher) -> bool:
    hist = sa.inspect(voucher).attrs.status.history
    if hist.deleted:
        return hist.deleted[0] == VoucherStatus.POSTED
    return voucher.status == VoucherStatus.POSTED and sa.inspect(voucher).persistent


@event.listens_for(Session, "before_flush")
def _guard_posted(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (ShareAction, ShareEvent)) and (obj in session.deleted or session.is_modified(obj)):
            raise InvalidState("股权登记只能追加，不能修改或删除；错误的变动请冲正")
        if isinstance(obj, Voucher):
            if obj in session.deleted and obj.status == VoucherStatus.POSTED:
                raise VoucherPosted("已记账凭证不能删除")
            if session.is_modified(obj, include_collections=False) and _was_posted(obj):
                raise VoucherPosted("已记账凭证不能修改")
            # a line taken out of `lines` is deleted as an orphan only during the flush: judge it here
            if _was_posted(obj) and sa.inspect(obj).attrs.lines.history.has_changes():
                raise VoucherPosted("已记账凭证的分录不能修改")
        elif isinstance(obj, VoucherLine):
            v = obj.voucher
            if v is not None and _was_posted(v) and (obj in session.deleted or session.is_modified(obj)):
                raise VoucherPosted("已记账凭证的分录不能修改")
    for obj in session.new:
        if isinstance(obj, VoucherLine) and obj.voucher is not None and _was_posted(obj.voucher):
            raise VoucherPosted("已记账凭证不能增加分录")


#: Triggers that refuse UPDATE/DELETE of posted vouchers' rows at the database level.
SQLITE_VOUCHER_TRIGGERS = (
    """CREATE TRIGGER trg_vouchers_posted_immutable BEFORE UPDATE ON vouchers
    WHEN OLD.status = 'posted' BEGIN SELECT RAISE(ABORT, 'posted voucher is immutable'); END""",
    """CREATE TRIGGER trg_vouchers_posted_nodelete BEFORE DELETE ON vouchers
    WHEN OLD.status = 'posted' BEGIN SELECT RAISE(ABORT, 'posted voucher is immutable'); END""",
    """CREATE TRIGGER trg_voucher_lines_posted_immutable BEFORE UPDATE ON voucher_lines
    WHEN (SELECT status FROM vouchers WHERE id = OLD.voucher_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'posted voucher is immutable'); END""",
    """CREATE TRIGGER trg_voucher_lines_posted_nodelete BEFORE DELETE ON voucher_lines
    WHEN (SELECT status FROM vouchers WHERE id = OLD.voucher_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'posted voucher is immutable'); END""",
    """CREATE TRIGGER trg_voucher_lines_posted_noinsert BEFORE INSERT ON voucher_lines
    WHEN (SELECT status FROM vouchers WHERE id = NEW.voucher_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'posted voucher is immutable'); END""",
)
POSTGRES_VOUCHER_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION coop_refuse_posted() RETURNS trigger AS $$
    DECLARE st text;
    BEGIN
      IF TG_TABLE_NAME = 'vouchers' THEN
        st := OLD.status;
      ELSIF TG_OP = 'INSERT' THEN
        SELECT status INTO st FROM vouchers WHERE id = NEW.voucher_id;
      ELSE
        SELECT status INTO st FROM vouchers WHERE id = OLD.voucher_id;
      END IF;
      IF st = 'posted' THEN
        RAISE EXCEPTION 'posted voucher is immutable';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER trg_vouchers_posted_immutable BEFORE UPDATE OR DELETE ON vouchers
    FOR EACH ROW EXECUTE FUNCTION coop_refuse_posted()""",
    """CREATE TRIGGER trg_voucher_lines_posted_immutable BEFORE INSERT OR UPDATE OR DELETE ON voucher_lines
    FOR EACH ROW EXECUTE FUNCTION coop_refuse_posted()""",
)


def voucher_triggers(dialect_name: str) -> tuple[str, ...]:
    return POSTGRES_VOUCHER_TRIGGERS if dialect_name == "postgresql" else SQLITE_VOUCHER_TRIGGERS


def append_only_triggers(dialect_name: str, tables: tuple[str, ...]) -> tuple[str, ...]:
    """Triggers that refuse any UPDATE or DELETE on the given tables (the share register)."""
    if dialect_name == "postgresql":
        return (
            """CREATE OR REPLACE FUNCTION coop_refuse_change() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END $$ LANGUAGE plpgsql""",
        ) + tuple(
            f"""CREATE TRIGGER trg_{t}_append_only BEFORE UPDATE OR DELETE ON {t}
            FOR EACH ROW EXECUTE FUNCTION coop_refuse_change()"""
            for t in tables
        )
    return tuple(
        f"""CREATE TRIGGER trg_{t}_append_only_{op.lower()} BEFORE {op} ON {t}
        BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"""
        for t in tables for op in ("UPDATE", "DELETE")
    )


APPEND_ONLY_TABLES = ("share_actions", "share_events")


def immutability_ddl(dialect_name: str) -> tuple[str, ...]:
    """Every guard trigger of the current schema (tests build the schema with create_all, not migrations)."""
    return voucher_triggers(dialect_name) + append_only_triggers(dialect_name, APPEND_ONLY_TABLES)


def set_voucher_kinds(op, kinds: tuple[str, ...]) -> None:
    """Migrations: replace the CHECK on vouchers.kind. SQLite rebuilds the table, and the triggers that name the
    vouchers table must be dropped first and created again after."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for (name,) in op.get_bind().exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'trg_voucher%'").all():
            op.execute(f"DROP TRIGGER {name}")
    listed = ",".join(f"'{k}'" for k in kinds)
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_vouchers_kind"), type_="check")
        batch_op.alter_column("kind", type_=sa.String(20), existing_nullable=False)
        batch_op.create_check_constraint("kind", f"kind IN ({listed})")
    if sqlite:
        for stmt in voucher_triggers("sqlite"):
            op.execute(stmt)
