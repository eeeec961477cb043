"""Hostile import files: an xlsx is a zip, and 181 KB of it can unpack to 100,000 rows (16 s and 400 MB in
openpyxl) or to gigabytes. Before any parser sees a file, its unpacked size and its row count are checked from the
zip directory and a streaming count of `<row` tags, both stopping at the limit — a bomb is refused in milliseconds
with memory bounded by one decompression chunk. Problem lists are capped too, so one bad file cannot produce a
million-line page."""
from __future__ import annotations

import io
import re
import zipfile
import zlib

from flask import current_app, has_app_context

from coop.core.errors import ValidationFailed

#: problems listed at most; the rest is one summary line
MAX_PROBLEMS = 200
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_CHUNK = 1 << 16


def _limits() -> tuple[int, int]:
    if has_app_context():
        cfg = current_app.config
        return int(cfg.get("IMPORT_MAX_UNPACKED_BYTES") or 50 * 2**20), int(cfg.get("IMPORT_MAX_ROWS") or 20000)
    return 50 * 2**20, 20000


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def check_xlsx(data: bytes, *, field: str = "file") -> None:
    """Refuse a workbook whose unpacked size or first-sheet row count is over the limits (ValidationFailed)."""
    max_bytes, max_rows = _limits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed.field(field, f"无法读取 Excel 文件（应为 .xlsx）：{exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > 1000:
            raise ValidationFailed.field(field, f"Excel 文件内部有 {len(infos)} 个部件，不像是正常的工作簿")
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise ValidationFailed.field(field, f"Excel 文件解压后 {_mb(declared)}，超过上限 {_mb(max_bytes)}")
        sheets = [i for i in infos if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
        try:
            for sheet in sheets:  # whichever the import reads (the first, or the active one), none may be a bomb
                _count_rows(zf, sheet, max_bytes, max_rows, field)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise ValidationFailed.field(field, f"无法读取 Excel 文件（应为 .xlsx）：{exc}") from None


def _count_rows(zf: zipfile.ZipFile, sheet: zipfile.ZipInfo, max_bytes: int, max_rows: int, field: str) -> None:
    """Stream one sheet, counting rows, and stop at either limit."""
    rows, unpacked, tail = 0, 0, b""
    with zf.open(sheet) as f:
        while chunk := f.read(_CHUNK):
            unpacked += len(chunk)
            if unpacked > max_bytes:  # the directory lied about the size
                raise ValidationFailed.field(field, f"Excel 文件解压后超过上限 {_mb(max_bytes)}")
            buf = tail + chunk
            rows += len(_ROW_TAG.findall(buf)) - len(_ROW_TAG.findall(tail))
            tail = buf[-16:]
            if rows > max_rows + 1:  # + the header row
                raise ValidationFailed.field(field, f"Excel 文件超过 {max_rows} 行，请分成几个文件导入")


def check_csv(data: bytes | str, *, field: str = "file") -> None:
    _, max_rows = _limits()
    newline = "\n" if isinstance(data, str) else b"\n"
    if data.count(newline) > max_rows + 1:
        raise ValidationFailed.field(field, f"文件超过 {max_rows} 行，请分成几个文件导入")


def decode_csv(data: bytes, message: str, *, field: str = "file") -> str:
    """A CSV file's text: UTF-8 (with or without BOM) or GBK, as Excel in China saves it; else `message` beside
    `field`."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed.field(field, message)


def cap(problems: list, make_more) -> list:
    """At most MAX_PROBLEMS problems, then `make_more(n)` standing for the n left out."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [make_more(len(problems) - MAX_PROBLEMS)]
