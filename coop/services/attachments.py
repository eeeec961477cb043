"""Attachments (原始凭证 scans and PDFs) of a voucher: checked, stored by content hash, removable until posted.

Files live under ATTACHMENT_DIR/<org_id>/<sha256>; the database row keeps the name, type, size and hash.
"""
from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from coop.core.errors import InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.models import Attachment, Organization, User, Voucher
from coop.models.ledger import VoucherStatus
from coop.services import access, audit

#: content type → (leading bytes the file must start with, what to call it in messages)
MAGIC = {
    "application/pdf": (b"%PDF", "PDF"),
    "image/jpeg": (b"\xff\xd8\xff", "JPEG 图片"),
    "image/png": (b"\x89PNG", "PNG 图片"),
}
#: names browsers and phones send for the same types
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


def human_size(n: int) -> str:
    """12345 → '12.1 KB'; 10485760 → '10 MB'."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} B"


def _org(voucher: Voucher) -> Organization:
    return db.session.get(Organization, voucher.organization_id)


def _normalise_type(filename: str, content_type: str | None) -> str:
    ctype = (content_type or "").split(";")[0].strip().lower()
    ctype = ALIASES.get(ctype, ctype)
    if ctype in ("", "application/octet-stream"):  # some phones send no type: trust the extension, then the magic
        guessed = mimetypes.guess_type(filename)[0] or ""
        ctype = ALIASES.get(guessed, guessed)
    return ctype


def _kind_of(data: bytes) -> str | None:
    return next((name for magic, name in MAGIC.values() if data.startswith(magic)), None)


#: the extension a stored file is named with, from its checked type — never the one the uploader typed
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
#: bidi controls, zero-width characters and other invisible format characters (Cf) plus C0/C1 controls: a name
#: like "发票\u202egpj.exe" must not display as something it is not
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
                        "\ufff9-\ufffb\ud800-\udfff]")


def _safe_filename(filename: str, ctype: str | None = None) -> str:
    # keep the user's (often Chinese) name for display, but never a path, an invisible character or a false extension
    name = os.path.basename(_INVISIBLE.sub("", filename or "").replace("\\", "/")).strip()
    if ctype in EXTENSIONS:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and ext.isascii() and ext.isalnum() and len(ext) <= 5:
            name = stem
        name = name.strip().rstrip(".")[:190] or "附件"
        return name + EXTENSIONS[ctype]
    return name[:200] or "附件"


def file_path(attachment: Attachment) -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"]) / attachment.stored_name


def get_attachment(voucher: Voucher, attachment_id: int) -> Attachment:
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.voucher_id != voucher.id:
        raise NotFound("找不到该附件")
    return att


def add_attachment(voucher: Voucher, filename: str, content_type: str | None, data: bytes, *,
                   user: User) -> Attachment:
    """Attach a scan or PDF while the voucher is not posted. Every check runs before anything is written."""
    org = _org(voucher)
    access.require(user, access.PREPARE, org)
    if voucher.status == VoucherStatus.POSTED:
        raise InvalidState("已记账的凭证不能再增加附件")
    name, ctype = check_file(voucher, filename, content_type, data)
    return store_file(voucher, org, name, ctype, data, user=user)


def check_file(voucher: Voucher, filename: str, content_type: str | None, data: bytes, *,
               pending: int = 0) -> tuple[str, str]:
    """Every check of a new attachment — not empty, not too large, a PDF/JPG/PNG by its content, a safe name with
    the extension of its checked type, within the voucher's quota (`pending`: bytes about to be added with it).
    Returns (name, content type)."""
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    allowed = current_app.config["ATTACHMENT_TYPES"]
    ctype = _normalise_type(_safe_filename(filename), content_type)
    if not data:
        raise ValidationFailed.field("file", "文件是空的，请重新选择")
    if len(data) > max_bytes:
        raise ValidationFailed.field("file", f"文件太大：{human_size(len(data))}，最大 {human_size(max_bytes)}")
    if ctype not in allowed or ctype not in MAGIC:
        raise ValidationFailed.field("file", f"不支持的文件类型（{ctype or '未知'}），只能上传 PDF、JPG 或 PNG")
    magic, label = MAGIC[ctype]
    if not data.startswith(magic):
        actual = _kind_of(data)
        found = f"实际是 {actual}" if actual else "内容不是有效的 PDF、JPG 或 PNG 文件"
        raise ValidationFailed.field("file", f"文件内容与类型不符：声明为 {label}，{found}")
    name = _safe_filename(filename, ctype)
    quota = current_app.config.get("ATTACHMENT_VOUCHER_QUOTA")
    if quota:
        used = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Attachment.size), 0))
                                 .where(Attachment.voucher_id == voucher.id)) or 0
        if used + pending + len(data) > quota:
            raise ValidationFailed.field("file", f"这张凭证的附件合计不能超过 {human_size(quota)}（已有 "
                                                 f"{human_size(used + pending)}）")
    return name, ctype


def store_blob(org: Organization, data: bytes) -> tuple[str, str]:
    """Keep `data` under the attachment directory by its SHA-256 (once per organization, however often it is
    sent); written to a temporary name and renamed, so a reader never sees half a file. Its stored name and hash."""
    sha = hashlib.sha256(data).hexdigest()
    stored = f"{org.id}/{sha}"
    path = Path(current_app.config["ATTACHMENT_DIR"]) / stored
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return stored, sha


def store_file(voucher: Voucher, org: Organization, name: str, ctype: str, data: bytes, *, user: User,
               **detail) -> Attachment:
    """Store a checked file (check_file) content-addressed — the same scan once per organization — and its row;
    audit-logged with its hash and `detail`."""
    stored, sha = store_blob(org, data)
    att = Attachment(voucher_id=voucher.id, filename=name, content_type=ctype, size=len(data), sha256=sha,
                     stored_name=stored, uploaded_by_id=user.id)
    db.session.add(att)
    db.session.flush()
    audit.log("attachment.add", user=user, org=org, target=str(voucher.id), filename=name, sha256=sha, **detail)
    return att


def remove_attachment(attachment: Attachment, *, user: User) -> None:
    """Remove an attachment of a voucher that is not posted. The file goes once no row refers to it."""
    voucher = attachment.voucher
    org = _org(voucher)
    access.require(user, access.PREPARE, org)
    if voucher.status == VoucherStatus.POSTED:
        raise InvalidState("已记账凭证的附件不能删除")
    stored = attachment.stored_name
    db.session.delete(attachment)
    db.session.flush()
    audit.log("attachment.remove", user=user, org=org, target=str(voucher.id), filename=attachment.filename)
    # delete the file only after the commit, so a rollback never leaves a row without its file
    sa.event.listen(db.session(), "after_commit", lambda _s: purge_unused([stored]), once=True)


def purge_unused(stored_names: list[str]) -> None:
    """Delete the stored files no attachment row refers to any more. Call after the commit that removed them."""
    root = Path(current_app.config["ATTACHMENT_DIR"])
    with db.engine.connect() as conn:  # a committed session cannot run SQL inside after_commit
        for stored in set(stored_names):
            used = conn.scalar(
                sa.select(sa.func.count()).select_from(Attachment).where(Attachment.stored_name == stored))
            if not used:
                (root / stored).unlink(missing_ok=True)
