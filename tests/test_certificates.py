"""股权证 and register PDFs (Chinese text extracted back with pdftotext), the QR code's verify URL, the public
verify page (valid / revoked after a split), and the member portal's isolation."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile

import pytest
import sqlalchemy as sa

from coop.documents import shares as shares_pdf
from coop.core.extensions import db
from coop.models import ShareCertificate
from coop.services import shares
from tests.test_members_web import (_fast_password_hashing, member_user, page, people,  # noqa: F401
                                    village)

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def pdf_text(data: bytes) -> str:
    """The PDF's text with whitespace removed (letter-spaced titles come out as 股 权 证)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode("utf-8"))


def cert_of(household) -> ShareCertificate:
    return shares.current_certificate(household)


@needs_pdftotext
def test_certificate_pdf_has_chinese_text_number_and_holders(village, client, auth):
    auth.login("kuaiji")
    org, cert = village.org, cert_of(village.h1)
    r = client.get(f"/o/{org.id}/shares/certificates/{cert.id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    assert "东村股份经济合作社" in text and "股权证" in text and cert.number in text
    assert f"{org.id:04d}-0001-01" in text
    # holders with classes and units; totals, face value and the amount (5 × 47,619.0476)
    for s in ("张大山", "王秀英", "张小明", "人口股", "农龄股", "3.0000", "5.0000", "47,619.0476", "238,095.24"):
        assert s in text, s
    assert "已作废" not in text


def test_certificate_qr_code_opens_absolute_verify_url(village, app):
    cert = cert_of(village.h1)
    with app.test_request_context():
        ctx = shares_pdf.certificate_context(cert)
        html = shares_pdf.certificate_html(cert)
    assert ctx["verify_url"] == f"http://coop.test/verify/{cert.verify_token}"
    assert ctx["qr"].startswith("<svg") and ctx["qr"] in html
    import segno

    # the embedded code is exactly the encoding of that URL
    assert ctx["qr"] == segno.make(ctx["verify_url"], error="m").svg_inline(border=2, omitsize=True, dark="#000")


def test_verify_page_public_then_revoked_after_split(village, client):
    cert = cert_of(village.h1)
    r = client.get(f"/verify/{cert.verify_token}")  # no login
    assert r.status_code == 200
    html = page(r)
    assert "东村股份经济合作社" in html and cert.number in html and "有效" in html
    assert "张*山" in html and "张大山" not in html
    assert "人口股" in html and "3.0000" in html and "农龄股" in html and "2.0000" in html and "5.0000" in html
    assert client.get("/verify/no-such-token").status_code == 404
    new = shares.split_household(village.org, household_id=village.h1.id, member_ids=[village.p[2].id],
                                 date=dt.date(2025, 2, 1), reference="分户申请", user=village.books.accountant)
    db.session.commit()
    html = page(client.get(f"/verify/{cert.verify_token}"))
    assert "已作废" in html and "2025-02-01" in html
    # the snapshot on the old certificate is unchanged; the reissued one shows 4 units
    assert "5.0000" in html
    reissued = cert_of(village.h1)
    html = page(client.get(f"/verify/{reissued.verify_token}"))
    assert "有效" in html and reissued.number.endswith("-02") and "4.0000" in html
    assert "1.0000" in page(client.get(f"/verify/{cert_of(new).verify_token}"))


@needs_pdftotext
def test_revoked_certificate_pdf_is_marked_void(village, client, auth):
    cert = cert_of(village.h1)
    shares.split_household(village.org, household_id=village.h1.id, member_ids=[village.p[2].id],
                           date=dt.date(2025, 2, 1), reference="分户申请", user=village.books.accountant)
    db.session.commit()
    auth.login("kuaiji")
    text = pdf_text(client.get(f"/o/{village.org.id}/shares/certificates/{cert.id}.pdf").data)
    # as issued: all three holders, and stamped void
    assert "已于2025-02-01作废" in text and "张小明" in text and cert.number in text


@needs_pdftotext
def test_register_pdf_text(village, client, auth):
    auth.login("shenhe")
    text = pdf_text(client.get(f"/o/{village.org.id}/shares/register.pdf?as_of=2025-01-01").data)
    assert "股东名册" in text and "东村股份经济合作社" in text and "截至2025年1月1日" in text
    assert "10.5000" in text and "集体股" in text and "李小红" in text


# ---------------------------------------------------------------- member portal


def test_portal_shows_only_own_household(village, member_user, client, auth):
    auth.login("zhangds")
    r = client.get("/me")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/me/households/{village.h1.id}")
    html = page(client.get(f"/me/households/{village.h1.id}"))
    assert "张大山" in html and "王秀英" in html and "5.0000" in html and "折股量化发行" in html
    assert cert_of(village.h1).number in html
    assert "李四" not in html and IDS_NOT_SHOWN(html)
    r = client.get(f"/me/households/{village.h1.id}/certificate.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    # another household, existing or not: 404 alike
    for hid in (village.h2.id, 9999):
        assert client.get(f"/me/households/{hid}").status_code == 404
        assert client.get(f"/me/households/{hid}/certificate.pdf").status_code == 404
    # the organization's pages are not for members; the answer does not depend on the household asked for
    org = village.org
    assert client.get(f"/o/{org.id}/members/h/{village.h2.id}").status_code == 403
    assert client.get(f"/o/{org.id}/members/h/9999").status_code == 403
    assert client.get(f"/o/{org.id}/shares/certificates/{cert_of(village.h2).id}.pdf").status_code == 403


def IDS_NOT_SHOWN(html: str) -> bool:
    return not re.search(r"\d{17}[\dX]", html)


def test_portal_follows_the_member_after_a_split(village, member_user, client, auth):
    """张大山 leaves with his son: the portal shows the new household and no longer the old one."""
    new = shares.split_household(village.org, household_id=village.h1.id, member_ids=[village.p[0].id],
                                 date=dt.date(2025, 2, 1), reference="分户申请", user=village.books.accountant)
    db.session.commit()
    auth.login("zhangds")
    assert client.get("/me").headers["Location"].endswith(f"/me/households/{new.id}")
    assert client.get(f"/me/households/{village.h1.id}").status_code == 404
    assert "3.0000" in page(client.get(f"/me/households/{new.id}"))


def test_portal_needs_a_linked_member_and_the_member_role(village, member_user, client, auth):
    auth.login("kuaiji")
    assert client.get("/me").status_code == 404  # an accountant has no household
    client.post("/logout")
    from coop.models import RoleAssignment

    db.session.execute(sa.delete(RoleAssignment).where(RoleAssignment.user_id == member_user.id))
    db.session.commit()
    auth.login("zhangds")
    assert client.get("/me").status_code == 404
    assert client.get(f"/me/households/{village.h1.id}").status_code == 404


def test_portal_needs_login(village, client):
    r = client.get("/me")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
