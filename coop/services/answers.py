"""质询 on the voucher page: the accountant answers with scans added to the voucher even after it is posted.
Such attachments are append-only (attachments.remove_attachment refuses them once the voucher is posted, and the
link row has no delete path) and logged in the audit chain with their hash and the question they answer.
The file checks are those of attachments.add_attachment."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..errors import InvalidState, ValidationFailed
from ..extensions import db
from ..models import Attachment, Organization, QuestionAttachment, User, Voucher, VoucherQuestion
from . import access, audit
from .attachments import MAGIC, _kind_of, _normalise_type, _safe_filename, human_size
from .disclosure import answer_question


def _checked(filename: str, content_type: str | None, data: bytes) -> tuple[str, str]:
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    name = _safe_filename(filename)
    ctype = _normalise_type(name, content_type)
    if not data:
        raise ValidationFailed.field("file", "文件是空的，请重新选择")
    if len(data) > max_bytes:
        raise ValidationFailed.field("file", f"文件太大：{human_size(len(data))}，最大 {human_size(max_bytes)}")
    if ctype not in current_app.config["ATTACHMENT_TYPES"] or ctype not in MAGIC:
        raise ValidationFailed.field("file", f"不支持的文件类型（{ctype or '未知'}），只能上传 PDF、JPG 或 PNG")
    magic, label = MAGIC[ctype]
    if not data.startswith(magic):
        actual = _kind_of(data)
        found = f"实际是 {actual}" if actual else "内容不是有效的 PDF、JPG 或 PNG 文件"
        raise ValidationFailed.field("file", f"文件内容与类型不符：声明为 {label}，{found}")
    return name, ctype


def answer_with_files(q: VoucherQuestion, *, text: str, files: list[tuple[str, str | None, bytes]],
                      user: User) -> VoucherQuestion:
    """Answer a question, adding each (filename, content type, bytes) to its voucher. Every check (the answer's
    and every file's) runs before anything is written."""
    org = db.session.get(Organization, q.organization_id)
    access.require(user, access.PREPARE, org)
    if q.status == "closed":
        raise InvalidState("该质询已关闭")
    if not (text or "").strip():
        raise ValidationFailed.field("answer", "请填写答复")
    checked = [(_checked(f, c, d), d) for f, c, d in files]
    answer_question(q, text=text, user=user)
    voucher = db.session.get(Voucher, q.voucher_id)
    for (name, ctype), data in checked:
        sha = hashlib.sha256(data).hexdigest()
        stored = f"{org.id}/{sha}"
        path = Path(current_app.config["ATTACHMENT_DIR"]) / stored
        if not path.exists():  # content-addressed, as attachments.add_attachment stores them
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{sha}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        att = Attachment(voucher_id=voucher.id, filename=name, content_type=ctype, size=len(data), sha256=sha,
                         stored_name=stored, uploaded_by_id=user.id)
        db.session.add(att)
        db.session.flush()
        db.session.add(QuestionAttachment(question_id=q.id, attachment_id=att.id))
        db.session.flush()
        audit.log("attachment.add", user=user, org=org, target=str(voucher.id), filename=name, sha256=sha,
                  question=q.id, posted=voucher.status == "posted")
    return q


def questions_of(voucher: Voucher) -> list[tuple[VoucherQuestion, list[Attachment]]]:
    """The voucher's questions, oldest first, each with the attachments added in answer to it (two queries)."""
    qs = list(db.session.scalars(sa.select(VoucherQuestion).where(VoucherQuestion.voucher_id == voucher.id)
                                 .order_by(VoucherQuestion.id)))
    files: dict[int, list[Attachment]] = {q.id: [] for q in qs}
    if qs:
        for qa, att in db.session.execute(
                sa.select(QuestionAttachment, Attachment).join(Attachment, Attachment.id == QuestionAttachment.attachment_id)
                .where(QuestionAttachment.question_id.in_(list(files))).order_by(Attachment.id)):
            files[qa.question_id].append(att)
    return [(q, files[q.id]) for q in qs]
