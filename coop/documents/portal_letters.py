"""开通通知书: one A4 page per household with the portal username, the one-time password and a QR code of the login
page. Printed once, when the accounts are opened (the passwords are not stored in clear, so they cannot be
printed again: a lost letter is a password reset)."""
from __future__ import annotations

from flask import render_template, url_for

from coop.core import clock
from coop.models import Organization
from coop.documents.pdf import html_to_pdf
from coop.documents.printing import font_family, qr_svg


def login_url() -> str:
    return url_for("auth.login", _external=True)


def letters_html(org: Organization, opened: list) -> str:
    url = login_url()
    return render_template("setup/letters.html", font=font_family(), org=org, letters=opened, login_url=url,
                           qr=qr_svg(url), doc_title=f"{org.name}成员账户开通通知书",
                           printed_on=clock.today().isoformat())


def letters_pdf(org: Organization, opened: list) -> bytes:
    return html_to_pdf(letters_html(org, opened))


def letters_filename(org: Organization) -> str:
    return f"开通通知书-{org.name}-{clock.today().isoformat()}.pdf"
