"""PDFs keep their look after #24: representative documents — a report, a 财务公开 sheet with people's names, a
记账凭证 and a 股权证 — rendered the way they are now (rendering process, subset font from coop.documents.fonts with
the full font behind it, lean user-agent sheets, table whitespace dropped) and the way they were before (WeasyPrint
called on the same template output with its own sheets and the full system font alone), rasterised with pdftoppm
and compared page by page; rare characters of names (㛃 U+36C3, 䶮 U+4DAE, 𠮷 U+20BB7), which the subset lacks,
still print through the fallback."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from coop.core.extensions import db
from coop.documents import fonts
from tests.test_members_web import _fast_password_hashing, people, village  # noqa: F401

pytestmark = [pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed"),
              pytest.mark.skipif(fonts.find_source("NotoSansCJK-Regular.ttc") is None,
                                 reason="Noto Sans CJK not installed")]

FULL = '"Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif'  # the family before #24
RARE = "㛃䶮𠮷"
#: share of pixels (at 100 dpi, grey) allowed to differ by more than a quarter of the grey scale
MAX_DIFF = 0.0005


@pytest.fixture(scope="module")
def subset_fonts():
    return fonts.build_all()  # ~20 s of CPU once per machine; then read from the cache folder


def pages(pdf: bytes) -> list:
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "a.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "100", "-gray", "-png", "a.pdf", "p"], cwd=d, check=True)
        out = []
        for p in sorted(Path(d).glob("p*.png")):
            with Image.open(p) as im:
                out.append(im.copy())
        return out


def differing(a, b) -> float:
    from PIL import ImageChops

    assert a.size == b.size
    diff = ImageChops.difference(a, b).point(lambda v: 255 if v > 64 else 0)
    return diff.histogram()[255] / (a.size[0] * a.size[1])


def embedded_fonts(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(["pdffonts", f.name], capture_output=True, text=True, check=True).stdout


def both(app, render, monkeypatch) -> tuple[bytes, bytes]:
    """(now, before #24) renderings of the same document."""
    from weasyprint import HTML

    from coop.documents import pdf as pdf_module

    old = app.config["PDF_FONT_FAMILY"], app.config["PDF_CACHE_BYTES"]
    app.config["PDF_CACHE_BYTES"] = 0
    try:
        new = render()
        app.config["PDF_FONT_FAMILY"] = FULL
        with monkeypatch.context() as m:  # the renderer before #24, as it was
            m.setattr(pdf_module, "_render", lambda html, root, use_process: HTML(
                string=html, url_fetcher=pdf_module.make_url_fetcher(root)).write_pdf())
            full = render()
    finally:
        app.config["PDF_FONT_FAMILY"], app.config["PDF_CACHE_BYTES"] = old
    return new, full


def assert_same_look(new: bytes, full: bytes) -> None:
    assert "Coop-Noto-Sans-CJK" in embedded_fonts(new), "the subset font was not used"
    assert "Coop-Noto-Sans-CJK" not in embedded_fonts(full)
    a, b = pages(new), pages(full)
    assert len(a) == len(b) >= 1
    for i, (x, y) in enumerate(zip(a, b)):
        assert differing(x, y) <= MAX_DIFF, f"page {i + 1} differs"


def test_the_subset_holds_gb2312_and_daxie_but_not_rare_name_characters(subset_fonts):
    from fontTools.ttLib import TTFont

    for face in ("regular", "bold", "mono"):
        cmap = TTFont(subset_fonts[face])["cmap"].getBestCmap()
        assert all(ord(c) in cmap for c in "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整记账凭证（）：，0123456789,.")
        assert not any(ord(c) in cmap for c in RARE)  # so the tests below go through the fallback
        assert subset_fonts[face].stat().st_size < 6 * 2**20
    assert TTFont(subset_fonts["mono"])["name"].getDebugName(1) == fonts.MONO_FAMILY


def test_report_and_voucher_look_the_same_and_rare_characters_print(app, books, subset_fonts, monkeypatch):
    from coop.models import Organization
    from coop.reports import builders
    from coop.reports.params import ReportQuery
    from coop.reports.pdf import render_pdf, render_voucher_pdf

    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    v = books.post("2025-01-05", ("101", "1234.56", ""), ("501", "", "1234.56"), summary=f"收到{RARE}承包金")
    books.post("2025-01-08", ("513", "88.80", ""), ("101", "", "88.80"), summary="支付办公费")
    db.session.commit()
    org = db.session.get(Organization, books.org.id)
    with app.test_request_context():
        new, full = both(app, lambda: render_voucher_pdf(org, v), monkeypatch)
        assert_same_look(new, full)
        # the rare characters came from the full font: embedded beside the subset, drawn like the full rendering
        assert "+Noto-Sans-CJK-SC " in embedded_fonts(new)
        new, full = both(app, lambda: render_pdf(builders.trial_balance(org, ReportQuery(2025, 1, 1)),
                                                 today=dt.date(2025, 2, 1)), monkeypatch)
        assert_same_look(new, full)


def test_disclosure_sheet_with_names_looks_the_same(app, books, subset_fonts, monkeypatch):
    from coop.documents.disclosure import render_sheet_pdf
    from coop.services import disclosure

    books.lock_opening({"101": "5000.00", "301": "-5000.00"})
    for i, name in enumerate(["张㛃", "李䶮", "吉𠮷", "王秀英", "赵建国"]):
        books.post(dt.date(2025, 1, 3 + i), ("513", f"{100 + i}.50", ""), ("101", "", f"{100 + i}.50"),
                   summary=f"支付{name}劳务费")
    books.close_through(2025, 1)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=dt.date(2025, 1, 1),
                                end=dt.date(2025, 1, 31), user=books.accountant)
    db.session.commit()
    with app.test_request_context():
        new, full = both(app, lambda: render_sheet_pdf(d), monkeypatch)
    assert_same_look(new, full)
    # the digest lines' CJK words (SHA-256 摘要：, 审计链 第n条) in the monospaced subset, not the 20 MB system face
    assert "Coop-Noto-Sans-Mono-CJK-SC" in embedded_fonts(new)
    assert "+Noto-Sans-Mono-CJK-SC " in embedded_fonts(full) and "+Noto-Sans-Mono-CJK-SC " not in embedded_fonts(new)


def test_share_certificate_looks_the_same(app, village, subset_fonts, monkeypatch):
    from coop.documents import shares as shares_pdf
    from coop.services import shares

    cert = shares.current_certificate(village.h1)
    with app.test_request_context():
        new, full = both(app, lambda: shares_pdf.certificate_pdf(cert), monkeypatch)
    assert_same_look(new, full)


def test_in_worker_rendering_looks_the_same_and_leaves_the_collector_on(app, books, subset_fonts):
    """PDF_RENDER_PROCESS off (or the rendering process unable to start): the worker renders itself, the same."""
    import gc

    from coop.reports.pdf import render_voucher_pdf

    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    v = books.post("2025-01-05", ("101", "500.00", ""), ("501", "", "500.00"), summary="收到承包金")
    db.session.commit()
    old = app.config["PDF_RENDER_PROCESS"], app.config["PDF_CACHE_BYTES"]
    app.config["PDF_CACHE_BYTES"] = 0
    try:
        with app.test_request_context():
            via_process = render_voucher_pdf(books.org, v)
            app.config["PDF_RENDER_PROCESS"] = False
            here = render_voucher_pdf(books.org, v)
    finally:
        app.config["PDF_RENDER_PROCESS"], app.config["PDF_CACHE_BYTES"] = old
    assert gc.isenabled()
    assert "Coop-Noto-Sans-CJK" in embedded_fonts(here)
    (a,), (b,) = pages(via_process), pages(here)
    assert differing(a, b) == 0


def test_without_the_subset_documents_use_the_full_font(app, books, tmp_path, monkeypatch):
    """No subset built yet (and a build already under way elsewhere): the full system font prints the PDF."""
    from coop.reports.pdf import render_voucher_pdf

    monkeypatch.setenv("COOP_FONT_CACHE", str(tmp_path))
    (tmp_path / ".building").write_text("")  # fresh: no second build starts from this test
    assert fonts.font_face_css() == "" and not fonts.build_in_background()
    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    v = books.post("2025-01-05", ("101", "500.00", ""), ("501", "", "500.00"), summary="收到承包金")
    db.session.commit()
    old = app.config["PDF_CACHE_BYTES"]
    app.config["PDF_CACHE_BYTES"] = 0
    try:
        with app.test_request_context():
            used = embedded_fonts(render_voucher_pdf(books.org, v))
    finally:
        app.config["PDF_CACHE_BYTES"] = old
    assert "Coop-Noto-Sans-CJK" not in used and "+Noto-Sans-CJK-SC " in used


def test_collapsed_border_segments_join_only_where_they_touch_and_look_the_same():
    """The rendering process draws a collapsed table grid one rule a line (render_process._merged): segments of
    one run (same width, style and colour, solid or double, opaque) join where they touch or overlap on one line;
    a gap, another line, a dashed or translucent segment or a run of another look stays apart, in order."""
    from tinycss2.color3 import parse_color

    from coop.documents.render_process import _merged

    black, red = parse_color("#000"), parse_color("#c00000")
    grey = parse_color("rgba(0, 0, 0, 0.5)")
    segments = [
        (10, 0, 10, 5.3, 0.6, "solid", black),  # a column rule, cell by cell: overlapping by a row rule's width
        (10, 5, 10, 10.3, 0.6, "solid", black),
        (10, 12, 10, 15, 0.6, "solid", black),  # after a gap: apart
        (0, 5, 10, 5, 0.6, "solid", black),  # a row rule, two cells touching end to end
        (10, 5, 20, 5, 0.6, "solid", black),
        (0, 5, 5, 5, 0.6, "dashed", black),  # dashes would restart: never joined
        (0, 8, 5, 8, 0.6, "solid", grey),  # translucent: a join would lighten the overlap
        (5, 8, 9, 8, 0.6, "solid", grey),
        (0, 9, 5, 9, 1.6, "double", black),  # heavier, painted later: its own run, after the others
        (5, 9, 9, 9, 1.6, "double", black),
        (0, 12, 5, 12, 0.6, "solid", red),
    ]
    assert _merged(segments) == [
        (10, 0, 10, 10.3, 0.6, "solid", black),
        (10, 12, 10, 15, 0.6, "solid", black),
        (0, 5, 20, 5, 0.6, "solid", black),
        (0, 5, 5, 5, 0.6, "dashed", black),
        (0, 8, 5, 8, 0.6, "solid", grey),
        (5, 8, 9, 8, 0.6, "solid", grey),
        (0, 9, 9, 9, 1.6, "double", black),
        (0, 12, 5, 12, 0.6, "solid", red),
    ]


def test_html_parsing_finds_its_regexes_again():
    """tinyhtml5 2.1 files each chars_until() regex under the regex itself, so it never finds one and builds it on
    every call; the rendering process makes the cache answer under the key it is asked for."""
    from tinyhtml5 import inputstream

    from coop.documents.render_process import render

    pdf = render('<table><tr><td class="num">1,234.56</td><td>收到 "承包金" &amp; 利息</td></tr></table>', None)
    assert pdf.startswith(b"%PDF")
    keys = list(inputstream.characters_until_regex)
    assert keys and all(isinstance(characters, (str, tuple, frozenset)) for characters, _ in keys)
    size = len(keys)
    render('<p class="x">再一次 "again" &amp; again</p>', None)
    assert len(inputstream.characters_until_regex) == size  # the same few, found again
