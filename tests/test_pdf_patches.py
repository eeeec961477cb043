"""The rendering process's WeasyPrint patches (coop.documents.render_process, for the pinned version only) change how
fast a PDF is made, never what it shows: a multi-page 总账 of every account (repeated cells, bold subtotal rows,
double rules, page breaks inside the table) and a 收支明细 sheet (flex totals, charts, QR code) render to the same
page images at 100 and 300 dpi — not a pixel apart — with the patches and with WeasyPrint's own code on the same
HTML, fonts and sheets."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from coop.core.extensions import db
from coop.documents import fonts

pytestmark = [pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed"),
              pytest.mark.skipif(fonts.find_source("NotoSansCJK-Regular.ttc") is None,
                                 reason="Noto Sans CJK not installed")]


@pytest.fixture(scope="module")
def subset_fonts():
    return fonts.build_all()


def page_images(pdf: bytes, dpi: int) -> list:
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "a.pdf", "p"], cwd=d, check=True)
        out = []
        for p in sorted(Path(d).glob("p*.png")):
            with Image.open(p) as im:
                out.append(im.copy())
        return out


def html_of(app, make_pdf, monkeypatch) -> tuple[str, Path]:
    """The HTML (and static folder) a document sends to the renderer."""
    from coop.documents import pdf as pdf_module

    seen = {}

    def keep(html, root, use_process):
        seen["html"], seen["root"] = html, root
        return b"%PDF"

    old = app.config["PDF_CACHE_BYTES"]
    app.config["PDF_CACHE_BYTES"] = 0
    try:
        with monkeypatch.context() as m:
            m.setattr(pdf_module, "_render", keep)
            make_pdf()
    finally:
        app.config["PDF_CACHE_BYTES"] = old
    return seen["html"], seen["root"]


def assert_patches_change_nothing(html: str, root: Path, min_pages: int) -> None:
    import weasyprint

    from coop.documents.render_process import PATCHED_VERSIONS, render

    if weasyprint.__version__ not in PATCHED_VERSIONS:
        pytest.skip(f"WeasyPrint {weasyprint.__version__} renders unpatched")
    css = fonts.font_face_css()
    patched = render(html, root, css, keep_layouts=True)  # as in the forked child
    plain = render(html, root, css, patched=False)
    for dpi in (100, 300):
        a, b = page_images(patched, dpi), page_images(plain, dpi)
        assert len(a) == len(b) >= min_pages
        for i, (x, y) in enumerate(zip(a, b)):
            from PIL import ImageChops

            assert x.size == y.size
            assert ImageChops.difference(x, y).getbbox() is None, f"page {i + 1} at {dpi} dpi differs"


def test_a_general_ledger_over_pages_renders_the_same_with_and_without_the_patches(app, books, subset_fonts,
                                                                                      monkeypatch):
    from coop.models import Organization
    from coop.reports import builders
    from coop.reports.params import ReportQuery
    from coop.reports.pdf import render_pdf

    books.lock_opening({"101": "1000.00", "102": "50000.00", "301": "-51000.00"})
    pairs = [("101", "102"), ("513", "101"), ("102", "501"), ("151", "102"), ("511", "101"), ("102", "502")]
    for month in range(1, 13):
        for day, (debit, credit) in enumerate(pairs, start=1):
            amount = f"{100 * month + 7 * day}.{day:02d}"
            books.post(dt.date(2025, month, day), (debit, amount, ""), (credit, "", amount),
                       summary=f"{month}月业务{day}")
    db.session.commit()
    org = db.session.get(Organization, books.org.id)
    with app.test_request_context():
        html, root = html_of(app, lambda: render_pdf(builders.general_ledger(org, ReportQuery(2025, 1, 12)),
                                                     today=dt.date(2026, 1, 5)), monkeypatch)
    assert html.count("本月合计") >= 60  # the same cells over and over: what the patches hand out again
    assert_patches_change_nothing(html, root, min_pages=3)


def test_an_income_expense_sheet_renders_the_same_with_and_without_the_patches(app, books, subset_fonts,
                                                                                monkeypatch):
    from coop.documents.disclosure import render_sheet_pdf
    from coop.services import disclosure

    books.lock_opening({"101": "5000.00", "102": "90000.00", "301": "-95000.00"})
    for i in range(45):
        day = dt.date(2025, 1 + i % 3, 1 + i % 27)
        if i % 3:
            books.post(day, ("513", f"{120 + i}.50", ""), ("102", "", f"{120 + i}.50"), summary=f"支付劳务费（第{i}笔）")
        else:
            books.post(day, ("102", f"{900 + i}.00", ""), ("501", "", f"{900 + i}.00"), summary="收到承包金")
    books.close_through(2025, 3)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=dt.date(2025, 1, 1),
                                end=dt.date(2025, 3, 31), user=books.accountant)
    db.session.commit()
    with app.test_request_context():
        html, root = html_of(app, lambda: render_sheet_pdf(d), monkeypatch)
    assert html.count("收到承包金") >= 15
    assert_patches_change_nothing(html, root, min_pages=2)
