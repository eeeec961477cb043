"""Hostile import files (issue 17): an xlsx that unpacks to too much, or has too many rows, is refused before
openpyxl parses it — in well under a second, with memory bounded — through the roster import, the voucher import
and the web upload; problem lists are capped."""
from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest

from coop.core.errors import ValidationFailed
from coop.services import members, voucher_import
from coop.services.file_limits import MAX_PROBLEMS
from tests.test_members_web import _fast_password_hashing  # noqa: F401

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 b'content-types"><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                 b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')


def sheet_xlsx(rows: int, padding: int = 0) -> bytes:
    """A workbook whose first sheet has `rows` rows (and `padding` bytes of whitespace): built directly as a zip,
    the way a bomb is, highly compressible."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>=1+1</t></is></c></row>'
            for start in range(1, rows + 1, 10000):
                f.write(b"".join(row % (n, n) for n in range(start, min(rows, start + 9999) + 1)))
            chunk = b" " * (1 << 20)
            for _ in range(padding // len(chunk)):
                f.write(chunk)
            f.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def refused_fast(fn, data) -> str:
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ValidationFailed) as exc:
        fn(data)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0, elapsed
    assert peak < 8 * 2**20, peak  # bytes allocated while refusing, beyond the file itself
    return exc.value.message


@pytest.fixture(scope="module")
def rows_bomb():
    data = sheet_xlsx(100_000)
    assert len(data) < 600_000  # ~0.5 MB that would take openpyxl many seconds and hundreds of MB
    return data


@pytest.fixture(scope="module")
def size_bomb():
    data = sheet_xlsx(2, padding=64 * 2**20)
    assert len(data) < 200_000  # 64 MB of sheet in a file of ~70 KB
    return data


def test_roster_bomb_refused(app, rows_bomb, size_bomb):
    assert "超过 20000 行" in refused_fast(lambda d: members.read_roster(d, "名册.xlsx"), rows_bomb)
    assert "解压后 64 MB，超过上限 50 MB" in refused_fast(lambda d: members.read_roster(d, "名册.xlsx"), size_bomb)


def test_voucher_import_bomb_refused(app, rows_bomb, size_bomb):
    assert "超过 20000 行" in refused_fast(voucher_import.read_xlsx, rows_bomb)
    assert "超过上限" in refused_fast(voucher_import.read_xlsx, size_bomb)


def test_csv_with_too_many_rows_refused(app):
    data = ("户主,户主身份证,成员,身份证,与户主关系\n" + "a,b,c,d,e\n" * 20_001).encode()
    assert "超过 20000 行" in refused_fast(lambda d: members.read_roster(d, "名册.csv"), data)


def test_web_upload_of_a_bomb_is_422(books, client, rows_bomb, auth):
    auth.login("kuaiji")
    t0 = time.perf_counter()
    r = client.post(f"/o/{books.org.id}/members/import", data={"file": (io.BytesIO(rows_bomb), "名册.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "超过 20000 行" in r.get_data(as_text=True)
    assert time.perf_counter() - t0 < 2


def test_a_normal_workbook_still_reads(app):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["户号", "户主", "户主身份证", "成员", "身份证", "与户主关系"])
    wb.active.append(["1", "张三", "X", "张三", "X", "户主"])
    buf = io.BytesIO()
    wb.save(buf)
    assert [r["成员"] for r in members.read_roster(buf.getvalue(), "名册.xlsx")] == ["张三"]


def test_problem_lists_are_capped(books):
    rows = [{"凭证号": None, "日期": "2025-01-01", "摘要": "x", "科目编码": "101", "借方金额": "1", "贷方金额": None,
             "row": n} for n in range(2, 1002)]
    problems = voucher_import.check_import(books.org, rows)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].message == f"另有 {1000 - MAX_PROBLEMS} 处问题未列出，请先改正以上问题"


def test_a_workbook_with_several_sheets_is_checked_sheet_by_sheet(app):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["户号", "户主", "户主身份证", "成员", "身份证", "与户主关系"])
    wb.active.append(["1", "张三", "X", "张三", "X", "户主"])
    wb.create_sheet("说明").append(["本表为成员名册"])
    buf = io.BytesIO()
    wb.save(buf)
    assert [r["成员"] for r in members.read_roster(buf.getvalue(), "名册.xlsx")] == ["张三"]
