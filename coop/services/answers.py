"""质询 on the voucher page: the accountant answers with scans added to the voucher even after it is posted.
Such attachments are append-only (attachments.remove_attachment refuses them once the voucher is posted, and the
link row has no delete path) and logged in the audit chain with their hash and the question they answer.
The file checks and storage are those of attachments.add_attachment."""
from __future__ import annotations

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Attachment, QuestionAttachment, User, Voucher, VoucherQuestion
from coop.models.ledger import VoucherStatus
from coop.services.attachments import check_file, store_file
from coop.services.disclosure import answer_question, check_answer


def answer_with_files(q: VoucherQuestion, *, text: str, files: list[tuple[str, str | None, bytes]],
                      user: User) -> VoucherQuestion:
    """Answer a question, adding each (filename, content type, bytes) to its voucher. Every check (the answer's
    and every file's) runs before anything is written."""
    org = check_answer(q, text=text, user=user)
    voucher = db.session.get(Voucher, q.voucher_id)
    checked, pending = [], 0
    for f, c, d in files:
        checked.append((check_file(voucher, f, c, d, pending=pending), d))
        pending += len(d)
    answer_question(q, text=text, user=user)
    for (name, ctype), data in checked:
        att = store_file(voucher, org, name, ctype, data, user=user, question=q.id,
                         posted=voucher.status == VoucherStatus.POSTED)
        db.session.add(QuestionAttachment(question_id=q.id, attachment_id=att.id))
        db.session.flush()
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
