"""Request-level defences shared by pages and the API (issue 17): hostile text refused before any view runs,
`Cache-Control: no-store` on responses that carry personal data, the PDF rendering bound's 503, and the audit
chain's head as a template global for printed documents."""
from __future__ import annotations

import re
import unicodedata

from flask import Flask, jsonify, make_response, render_template, request

from coop.core.text import N_

#: NUL and the other C0/C1 controls except tab, newline and carriage return; lone surrogates; the bidi overrides
#: and isolates that make text display differently from what it is (Trojan Source)
_HOSTILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
#: how deeply a JSON body may nest; the API's schemas need three or four levels
MAX_JSON_DEPTH = 32
#: what may be cached: static files and the API's description. Every page and JSON answer else may carry personal
#: data (names, ID numbers, holdings, dividends), so none is kept by browsers or proxies
CACHEABLE_PREFIXES = ("/static/", "/api/v1/openapi.json", "/api/v1/docs")


def hostile_char(text: str) -> str | None:
    """The first character of `text` that input may not contain, described; None when clean."""
    m = _HOSTILE.search(text)
    if m is None:
        return None
    c = m.group()
    if c == "\x00":
        return "空字符（NUL）"
    if "\ud800" <= c <= "\udfff":
        return "不成对的代理字符"
    if unicodedata.category(c) == "Cf":
        return f"双向控制字符（U+{ord(c):04X}）"
    return f"控制字符（U+{ord(c):04X}）"


def find_hostile(value, path: str = "") -> tuple[str, str] | None:
    """(field path, what) of the first hostile string in a JSON-like value or form."""
    if isinstance(value, str):
        what = hostile_char(value)
        return (path or "_schema", what) if what else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = find_hostile(str(k), path) if isinstance(k, str) and hostile_char(k) else None
            found = found or find_hostile(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = find_hostile(v, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


def _depth_exceeded(raw: bytes, limit: int) -> bool:
    """Brackets nested deeper than `limit` outside strings — checked before json.loads can recurse."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # the common case, at C speed
        return False
    depth, in_string, escaped = 0, False, False
    for b in raw:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif b in (0x5D, 0x7D):
            depth -= 1
    return False


def _refuse(status: int, code: str, message: str, errors: dict | None = None, headers: dict | None = None):
    if request.path.startswith("/api/"):
        body = {"status": status, "code": code, "message": message}
        if errors:
            body["errors"] = errors
        resp = jsonify(body)
    else:
        from coop.web.errors import TITLES

        resp = make_response(render_template("error.html", status=status, title=TITLES.get(status, N_("出错了")),
                                             message=message))
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _check_request():
    """Before every view: a body nested too deeply, or any text with NUL, lone surrogates or bidi overrides,
    is a 4xx naming the field — the database never sees it."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        found = find_hostile(request.args.to_dict(flat=False))
    else:
        found = None
        if request.is_json:
            raw = request.get_data(cache=True)
            if _depth_exceeded(raw, MAX_JSON_DEPTH):
                return _refuse(400, "bad_request", f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层")
            try:
                body = request.get_json(silent=True)
            except RecursionError:
                return _refuse(400, "bad_request", "JSON 嵌套过深")
            found = find_hostile(body)
        else:
            found = find_hostile(request.form.to_dict(flat=False))
            if found is None:
                for key, f in request.files.items(multi=True):
                    what = hostile_char(f.filename or "")
                    if what:
                        found = (key, what)
                        break
        found = found or find_hostile(request.args.to_dict(flat=False))
    if found:
        path, what = found
        path = re.sub(r"\.0$", "", path)  # a single-valued form field
        message = f"输入含有不允许的{what}"
        if not request.path.startswith("/api/"):  # the page has no form to show it beside: say which field
            return _refuse(422, "validation_failed", f"{message}（{path}）")
        return _refuse(422, "validation_failed", message, {path: [message]})
    return None


def _no_store(response):
    if not request.path.startswith(CACHEABLE_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_hardening(app: Flask) -> None:
    from coop.documents.pdf import PdfBusy
    from coop.services.audit import head_line

    app.jinja_env.globals["audit_head_line"] = head_line
    app.before_request(_check_request)
    app.after_request(_no_store)

    from sqlalchemy.exc import IntegrityError

    @app.errorhandler(IntegrityError)
    def _conflict(exc):
        # a unique key taken by a concurrent request between our check and our write (two clerks entering the
        # same 身份证 at once): the loser gets 409, nothing written
        from coop.core.extensions import db

        db.session.rollback()
        text = str(getattr(exc, "orig", exc))
        if "unique" not in text.lower() and "duplicate" not in text.lower():
            raise exc
        field = "id_number" if "id_number" in text else "_schema"
        message = "身份证号已被同时登记，请刷新后核对" if field == "id_number" else "数据已被他人同时修改，请刷新后重试"
        return _refuse(409, "conflict", message, {field: [message]})

    from sqlalchemy.exc import DataError

    @app.errorhandler(DataError)
    def _nul(exc):
        # the last net: PostgreSQL refuses NUL in text (a path segment, a header the guard does not read); say so
        # instead of a 500
        from coop.core.extensions import db

        db.session.rollback()
        if "nul" not in str(getattr(exc, "orig", exc)).lower() and "0x00" not in str(exc):
            raise exc
        return _refuse(422, "validation_failed", "输入含有不允许的空字符（NUL）")

    @app.errorhandler(PdfBusy)
    def _pdf_busy(exc):
        return _refuse(503, "service_unavailable", "打印服务繁忙，请稍后再试", headers={"Retry-After": str(exc.retry_after)})
