"""The cached report pages, voucher list and report PDFs (#24) answer from the cache only while the books are
unchanged: after a posting, a close, a reopen or a saved draft the next request shows the new figures; an
unchanged repeat with the ETag is a 304 with no body; the cache never crosses users or organizations."""
from __future__ import annotations

import re

import pytest

from tests.test_reports_render import _fast_password_hashing, village  # noqa: F401  (fixtures)
from tests.test_reports_web import outsider  # noqa: F401  (fixtures)


def tb_url(books, **q) -> str:
    args = "&".join(f"{k}={v}" for k, v in {"year": 2025, "month": 1, **q}.items())
    return f"/o/{books.org.id}/reports/trial-balance?{args}"


def row(html: str, code: str) -> list[str]:
    """The cells of the 科目余额表 row of `code`, as text."""
    m = re.search(r'<tr class="row-[a-z]+">\s*<td[^>]*>(?:<a[^>]*>)?' + code + r'(?:</a>)?</td>(.*?)</tr>', html, re.S)
    assert m, f"no row {code}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(1), re.S)]


def get(client, url, **headers):
    r = client.get(url, headers=headers)
    return r, r.get_data(as_text=True)


@pytest.fixture
def cached(app):
    app.config["PAGE_CACHE_ENTRIES"] = 256
    app.config["REPORT_PDF_CACHE_ENTRIES"] = 64
    return app


def test_trial_balance_304_then_new_figures_after_posting(auth, client, village, cached):
    from coop.core.extensions import db

    auth.login("kuaiji")
    r, html = get(client, tb_url(village))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"  # the security design's default
    tag = r.headers["ETag"]
    # 101 库存现金 in January: opening 1,200; 本期 debit 500 (提取现金), credit 300 (办公用品); closing 1,400
    assert row(html, "101")[:8] == ["库存现金", "1,200.00", "", "500.00", "300.00", "500.00", "300.00", "1,400.00"]
    r2, body = get(client, tb_url(village), **{"If-None-Match": tag})
    assert r2.status_code == 304 and body == "" and r2.headers["ETag"] == tag
    r3, again = get(client, tb_url(village))
    assert again == html  # the cached body, the same page

    village.post("2025-01-25", ("101", "99.00", ""), ("501", "", "99.00"), summary="收到租金")
    db.session.commit()
    r4, body = get(client, tb_url(village), **{"If-None-Match": tag})
    assert r4.status_code == 200 and r4.headers["ETag"] != tag
    assert row(body, "101")[:8] == ["库存现金", "1,200.00", "", "599.00", "300.00", "599.00", "300.00", "1,499.00"]


def test_close_and_reopen_change_the_cached_page(auth, client, village, cached):
    from coop.core.extensions import db
    from coop.services import closing, periods

    auth.login("kuaiji")
    _, html = get(client, tb_url(village))
    assert "尚未结账" in html
    village.close_through(2025, 1)
    db.session.commit()
    _, closed = get(client, tb_url(village))
    assert "尚未结账" not in closed  # the close shows, not the cached unclosed page
    assert [ln for ln in closed.splitlines() if "report-unclosed" in ln] == []
    assert row(closed, "101")[7] == "1,400.00"
    closing.reopen_period(village.org, 2025, 1, user=village.auditor, reason="补记漏账")
    db.session.commit()
    _, reopened = get(client, tb_url(village))
    assert "2025年1月 尚未结账" in reopened  # the reopen shows, not the cached closed page
    village.post("2025-01-31", ("101", "1.00", ""), ("501", "", "1.00"), summary="补记")  # the reopened month
    db.session.commit()
    _, posted = get(client, tb_url(village))
    assert row(posted, "101")[7] == "1,401.00"


def test_voucher_list_shows_a_draft_saved_after_it_was_cached(auth, client, village, cached):
    from coop.core.extensions import db

    auth.login("kuaiji")
    url = f"/o/{village.org.id}/vouchers?year=2025&month=3"
    r, html = get(client, url)
    assert "共 0 张凭证" in html
    tag = r.headers["ETag"]
    assert get(client, url, **{"If-None-Match": tag})[0].status_code == 304
    r = client.post(f"/o/{village.org.id}/vouchers/new", data={
        "date": "2025-03-02", "word": "记", "attachment_count": "1",
        "lines-0-summary": "购买灯泡", "lines-0-account_code": "513", "lines-0-debit": "42.50", "lines-0-credit": "",
        "lines-1-summary": "购买灯泡", "lines-1-account_code": "101", "lines-1-debit": "", "lines-1-credit": "42.50"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    r, html = get(client, url, **{"If-None-Match": tag})
    assert r.status_code == 200 and "共 1 张凭证" in html and "购买灯泡" in html and "42.50" in html
    db.session.rollback()


def test_cached_voucher_list_gets_a_fresh_csrf_token_per_session(auth, client, app, village, cached):
    """The body is cached with a slot for the token: each session's page carries its own valid token."""
    auth.login("kuaiji")
    url = f"/o/{village.org.id}/vouchers?year=2025&month=1"
    _, html = get(client, url)
    assert "\x1b" not in html
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert tokens and all(tokens)


def test_cache_is_per_user_and_organization(auth, client, app, village, outsider, cached):
    auth.login("kuaiji")
    url = f"/o/{village.org.id}/vouchers?year=2025&month=1"
    r, html = get(client, url)
    tag = r.headers["ETag"]
    client.post("/logout")
    auth.login("xicun")  # another village's accountant: the cache does not let them in
    r, _ = get(client, url, **{"If-None-Match": tag})
    assert r.status_code == 404
    auth.login("shenhe")  # the reviewer of the same books: their own page (their tick boxes), not a 304
    r, mine = get(client, url, **{"If-None-Match": tag})
    assert r.status_code == 200 and r.headers["ETag"] != tag


def test_report_pdf_is_cached_until_the_books_change(auth, client, village, cached, monkeypatch):
    from coop.core.extensions import db
    from coop.web import reports as web_reports

    rendered = []
    real = web_reports.render_pdf

    def counting(t, *a, **kw):
        rendered.append(t.title)
        return real(t, *a, **kw)

    monkeypatch.setattr(web_reports, "render_pdf", counting)
    auth.login("kuaiji")
    url = tb_url(village, format="pdf")
    first = client.get(url)
    again = client.get(url)
    assert first.status_code == again.status_code == 200 and again.data == first.data and len(rendered) == 1
    village.post("2025-01-25", ("101", "99.00", ""), ("501", "", "99.00"), summary="收到租金")
    db.session.commit()
    after = client.get(url)
    assert after.status_code == 200 and len(rendered) == 2


def test_rolled_back_request_leaves_the_cache_valid(auth, client, village, cached):
    """A refused posting (closed month) writes nothing and bumps nothing: the repeat is still a 304."""
    from coop.core.extensions import db

    village.close_through(2025, 1)
    db.session.commit()
    auth.login("kuaiji")
    r, _ = get(client, tb_url(village))
    tag = r.headers["ETag"]
    r = client.post(f"/o/{village.org.id}/vouchers/new", data={
        "date": "2025-01-30", "word": "记", "attachment_count": "0",
        "lines-0-summary": "补记", "lines-0-account_code": "513", "lines-0-debit": "1.00", "lines-0-credit": "",
        "lines-1-summary": "补记", "lines-1-account_code": "101", "lines-1-debit": "", "lines-1-credit": "1.00"})
    assert r.status_code == 422
    assert get(client, tb_url(village), **{"If-None-Match": tag})[0].status_code == 304


def test_revalidating_browsers_only_where_configured(auth, client, app, village, cached):
    """Default no-store (shared office computers); PAGE_BROWSER_REVALIDATE: private, no-cache, never public."""
    auth.login("kuaiji")
    app.config["PAGE_BROWSER_REVALIDATE"] = True
    try:
        r, _ = get(client, tb_url(village))
        assert r.headers["Cache-Control"] == "private, no-cache" and r.headers["ETag"]
        assert get(client, tb_url(village), **{"If-None-Match": r.headers["ETag"]})[0].status_code == 304
        other = client.get(f"/o/{village.org.id}/accounts")  # a page without a books-version ETag
        assert other.headers["Cache-Control"] == "no-store" and "ETag" not in other.headers
    finally:
        app.config["PAGE_BROWSER_REVALIDATE"] = False


def test_api_report_304_until_a_posting(client, village, cached):
    from coop.core.extensions import db
    from coop.services import users

    token = users.issue_api_token(village.accountant, "t")
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/orgs/{village.org.id}/reports/trial-balance?year=2025&month=1"
    r = client.get(url, headers=auth)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    cash = next(x for x in r.json["rows"] if x["code"] == "101")
    assert cash["closing_debit"] == "1400.00"
    r2 = client.get(url, headers={**auth, "If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 304 and r2.data == b""
    kept = client.get(url, headers=auth)  # the answer kept for these books, the same bytes
    assert kept.status_code == 200 and kept.data == r.data and kept.headers["ETag"] == r.headers["ETag"]
    village.post("2025-01-25", ("101", "99.00", ""), ("501", "", "99.00"), summary="收到租金")
    db.session.commit()
    r3 = client.get(url, headers={**auth, "If-None-Match": r.headers["ETag"]})
    assert r3.status_code == 200 and next(x for x in r3.json["rows"] if x["code"] == "101")["closing_debit"] == "1499.00"
    again = client.get(url, headers=auth)
    assert again.data == r3.data and again.data != r.data
    assert client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 401  # no token, no answer


# ---------------------------------------------------------------- whole pages (coop.web.page_cache)


class Statements:
    """The SQL statements sent through SQLAlchemy while the block runs, on any engine: everything views and
    services read or write. (A stored page's one state read goes to the driver directly and is not among them.)"""

    def __init__(self, app):
        from sqlalchemy.engine import Engine

        self.engine = Engine
        self.sql: list[str] = []

    def _seen(self, conn, cursor, statement, *args):
        self.sql.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.sql

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def todo_total(html: str) -> int:
    m = re.search(r'id="todo-total">(\d+)<', html)
    return int(m.group(1)) if m else 0


def menu_badge(html: str, label: str) -> int:
    m = re.search(label + r' <span class="count-badge">(\d+)</span>', html)
    return int(m.group(1)) if m else 0


@pytest.fixture
def layouts(monkeypatch):
    """The layouts rendered (each asks for the user's 待办 once)."""
    from coop.services import todo

    real, calls = todo.todo_for, []

    def counted(user, *a, **kw):
        calls.append(user.id)
        return real(user, *a, **kw)

    monkeypatch.setattr(todo, "todo_for", counted)
    return calls


def test_repeat_view_is_the_stored_page_without_running_the_view(auth, client, app, village, cached, layouts):
    auth.login("kuaiji")
    for url in (tb_url(village), f"/o/{village.org.id}/vouchers?year=2025&month=1"):
        r, first = get(client, url)
        rendered = len(layouts)
        with Statements(app) as sql:
            r2, again = get(client, url)
        assert r2.status_code == 200 and sql == [] and len(layouts) == rendered  # no view, no layout, no ORM
        assert without_tokens(again) == without_tokens(first) and "\x1b" not in again
        tokens = re.findall(r'name="csrf_token" value="([^"]+)"', again)
        assert tokens and len(set(tokens)) == 1  # this request's own token in every form
        with Statements(app) as sql:
            r3, body = get(client, url, **{"If-None-Match": r2.headers["ETag"]})
        assert r3.status_code == 304 and body == "" and sql == [] and len(layouts) == rendered
        assert r3.headers["ETag"] == r2.headers["ETag"] == r.headers["ETag"]
        assert r3.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in r3.headers


def test_stored_page_shows_a_new_question_in_its_todo_badges(auth, client, village, cached):
    """The layout's 待办 counts come from other tables than the books: a question asked since is on the page."""
    from coop.core.extensions import db
    from coop.services import disclosure

    auth.login("kuaiji")
    _, before = get(client, tb_url(village))
    assert menu_badge(before, "质询") == 0
    get(client, tb_url(village))  # the stored page
    disclosure.ask_question(village.org, village.v1, text="这笔现金用途？", user=village.auditor)
    db.session.commit()
    _, after = get(client, tb_url(village))
    assert menu_badge(after, "质询") == 1  # 待答复质询: one open question for the accountant
    assert todo_total(after) == todo_total(before) + 1
    assert row(after, "101") == row(before, "101")  # the books themselves did not change


def test_stored_page_follows_the_directory(auth, client, village, cached):
    """A new village in the auditor's township and a role granted since both show in the switcher."""
    from coop.core.extensions import db
    from coop.services import orgs, users

    auth.login("jingguan")
    _, before = get(client, tb_url(village))
    assert "西村股份经济合作社" not in before
    west = orgs.create_organization(village.township, name="西村股份经济合作社", books_start_year=2025)
    db.session.commit()
    _, after = get(client, tb_url(village))
    assert "东镇 · 西村股份经济合作社" in after  # the township auditor sees every village of the township

    auth.login("kuaiji")
    _, mine = get(client, tb_url(village))
    assert "西村股份经济合作社" not in mine
    users.assign_role(village.accountant, "accountant", west)
    db.session.commit()
    _, granted = get(client, tb_url(village))
    assert "东镇 · 西村股份经济合作社" in granted


def test_stored_page_is_not_served_after_the_sessions_end(auth, client, app, village, cached):
    """A logout elsewhere ends this session too (RULES §13): its stored page is not shown to its old cookie."""
    auth.login("kuaiji")
    r, _ = get(client, tb_url(village))
    assert get(client, tb_url(village))[0].status_code == 200  # stored
    other = app.test_client()
    assert other.post("/login", data={"username": "kuaiji", "password": "password1"}).status_code == 302
    assert other.post("/logout").status_code == 302  # ends every session of the user
    r2 = client.get(tb_url(village), headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 302 and "/login" in r2.headers["Location"]


def test_a_flash_is_shown_once_and_never_stored(auth, client, village, cached):
    auth.login("kuaiji")
    get(client, tb_url(village))
    with client.session_transaction() as s:
        s["_flashes"] = [("success", "凭证已保存")]
    _, shown = get(client, tb_url(village))
    assert "凭证已保存" in shown
    _, again = get(client, tb_url(village))
    _, stored = get(client, tb_url(village))
    assert "凭证已保存" not in again and "凭证已保存" not in stored


def test_a_change_committed_during_the_render_is_not_hidden_by_the_stored_page(auth, client, app, village, cached,
                                                                                monkeypatch):
    """Versions are read before the data they cover: books that change while a page renders (here: between its
    body and its layout's 待办) leave the stored page already out of date, so the next view renders again."""
    from sqlalchemy.orm import Session

    from coop.core.extensions import db
    from coop.models.books import bump_now
    from coop.services import todo

    real, calls = todo.todo_for, []

    def meanwhile(user, *a, **kw):
        if not calls:  # another request's commit lands in the middle of this render
            with Session(db.engine) as other:
                bump_now(other, [village.org.id])
                other.commit()
        calls.append(user)
        return real(user, *a, **kw)

    monkeypatch.setattr(todo, "todo_for", meanwhile)
    auth.login("kuaiji")
    url = tb_url(village)
    get(client, url)
    r, _ = get(client, url)
    assert r.status_code == 200 and len(calls) == 2  # rendered again, not the stored page
    get(client, url)
    assert len(calls) == 2  # now stored, at the newer version


def test_a_lost_connection_of_the_state_read_only_costs_the_shortcut(auth, client, app, village, cached, backend,
                                                                    layouts):
    """PostgreSQL: the page cache reads the state with a small engine of its own (no pre-ping). A connection of
    it killed by the server (a restart) sends that one request the usual way — never an error page."""
    if backend != "postgresql":
        pytest.skip("SQLite reads the state with the app's engine, in process")
    import sqlalchemy as sa

    from coop.core.extensions import db

    auth.login("kuaiji")
    url = tb_url(village)
    _, first = get(client, url)
    get(client, url)  # stored, read through the state engine
    own = app.extensions["coop_page_state_engine"]
    with own.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    db.session.commit()
    rendered = len(layouts)
    r, again = get(client, url)
    assert r.status_code == 200 and without_tokens(again) == without_tokens(first)
    assert len(layouts) == rendered + 1  # the usual way
    r, _ = get(client, url)
    assert r.status_code == 200 and len(layouts) == rendered + 1  # a fresh connection, the shortcut again


def test_a_state_connection_that_cannot_be_opened_only_costs_the_shortcut(auth, client, app, village, cached,
                                                                        backend, layouts):
    """PostgreSQL: when the state pool cannot open a connection (the server refuses it: max_connections reached,
    a restart under way) the page is answered the usual way on the app's own connection, not a 500."""
    if backend != "postgresql":
        pytest.skip("SQLite reads the state with the app's engine, in process")
    import sqlalchemy as sa

    auth.login("kuaiji")
    url = tb_url(village)
    _, first = get(client, url)
    get(client, url)  # stored, read through the state engine
    own = app.extensions["coop_page_state_engine"]
    # the same server refusing every new connection of the state pool (a database that is not there)
    app.extensions["coop_page_state_engine"] = refusing = sa.create_engine(
        own.url.set(database="coop_no_such_database"), isolation_level="AUTOCOMMIT", pool_timeout=0.05)
    try:
        rendered = len(layouts)
        r, again = get(client, url)
        assert r.status_code == 200 and without_tokens(again) == without_tokens(first)
        assert len(layouts) == rendered + 1  # the usual way
    finally:
        refusing.dispose()
        app.extensions["coop_page_state_engine"] = own
    r, _ = get(client, url)
    assert r.status_code == 200 and len(layouts) == rendered + 1  # connections again, the shortcut again


def test_readers_on_threads_never_go_back_and_end_on_the_last_posting(app, village, cached):
    """Real threads: four logins read the 科目余额表 over and over while vouchers are posted one by one. Each
    reader sees 101's closing balance only grow (a stored or cached page never brings back older books), and
    once the postings are committed every reader's next view shows the last one."""
    import threading
    import time

    from coop.core.extensions import db

    url = tb_url(village)
    done, failures = threading.Event(), []
    seen: dict[int, list[str]] = {}

    def reader(n: int, username: str):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": "password1"}).status_code == 302
        mine = seen.setdefault(n, [])
        try:
            while True:
                finished = done.is_set()
                r = client.get(url)
                if r.status_code != 200:
                    failures.append((n, r.status_code))
                    return
                mine.append(row(r.get_data(as_text=True), "101")[7])
                if finished:
                    return
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            failures.append((n, repr(exc)))

    threads = [threading.Thread(target=reader, args=(n, name))
               for n, name in enumerate(("kuaiji", "shenhe", "jingguan", "kuaiji"))]
    for t in threads:
        t.start()
    for _ in range(5):
        time.sleep(0.05)  # readers meanwhile: stored pages of these books, many times
        village.post("2025-01-25", ("101", "1.00", ""), ("501", "", "1.00"), summary="收到零星收入")
        db.session.commit()
    done.set()
    for t in threads:
        t.join(timeout=60)
    assert failures == [] and not any(t.is_alive() for t in threads)
    amounts = {n: [int(float(x.replace(",", "")) * 100) for x in values] for n, values in seen.items()}
    for values in amounts.values():
        assert values == sorted(values)  # never back to older books
        assert values[-1] == 140500  # 1,400.00 + five postings of 1.00, after the last commit


def test_a_logout_elsewhere_keeps_other_peoples_pages_but_a_new_name_shows(auth, app, village, cached, layouts):
    """What a page shows of a user is their name and language: a logout (a new session version) of somebody
    else leaves this login's kept page kept; a change of this user's own name is on the next view."""
    from coop.core.extensions import db

    me, other = auth.browser("kuaiji"), auth.browser("shenhe")  # two people, two browsers
    url = tb_url(village)
    get(me, url)
    get(me, url)
    rendered = len(layouts)
    assert other.post("/logout").status_code == 302  # 李主任's sessions end: their session version moves on
    r, page = get(me, url)
    assert r.status_code == 200 and len(layouts) == rendered and "王会计" in page  # still the kept page

    village.accountant.display_name = "王会计（代）"  # no service renames people yet: the row itself
    db.session.commit()
    r, page = get(me, url)
    assert r.status_code == 200 and len(layouts) == rendered + 1 and "王会计（代）" in page


# ---------------------------------------------------------------- the door (coop.web.page_cache.PageDoor)


@pytest.fixture
def flask_requests(app):
    """The requests that reached Flask's own before-request functions (the door answers without them)."""
    seen = []

    def counted():
        seen.append(1)

    app.before_request_funcs.setdefault(None, []).insert(0, counted)
    yield seen
    app.before_request_funcs[None].remove(counted)


def test_the_door_answers_a_repeat_view_as_flask_did(auth, client, app, village, cached, flask_requests, layouts):
    """A repeat view from the same session is answered in front of Flask: the bytes and headers Flask answered
    (its security headers, no-store, the ETag, Vary), and a 304 for the copy the client holds."""
    auth.login("kuaiji")
    url = tb_url(village)
    first, page = get(client, url)
    assert first.status_code == 200
    reached, rendered = len(flask_requests), len(layouts)
    again, same = get(client, url)
    assert len(flask_requests) == reached and len(layouts) == rendered  # Flask never saw it
    assert again.status_code == 200 and same == page  # the same bytes, its CSRF token too
    assert "Set-Cookie" not in again.headers
    for name in ("Content-Type", "ETag", "Cache-Control", "Content-Security-Policy", "X-Frame-Options", "Vary"):
        assert again.headers.get(name) == first.headers.get(name), name
    assert int(again.headers["Content-Length"]) == len(again.data)
    r304 = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert r304.status_code == 304 and r304.data == b"" and len(flask_requests) == reached
    assert r304.headers["ETag"] == first.headers["ETag"] and r304.headers["Cache-Control"] == "no-store"
    # the books change: Flask's again, with the new figures
    village.post("2025-01-25", ("101", "99.00", ""), ("501", "", "99.00"), summary="收到租金")
    from coop.core.extensions import db

    db.session.commit()
    r, after = get(client, url, **{"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 200 and len(flask_requests) == reached + 1 and row(after, "101") != row(page, "101")


def test_the_door_knows_the_client_as_flask_login_does(app):
    """The door's client identifier is Flask-Login's (address through X-Forwarded-For as Flask-Login reads it,
    browser), for plain and non-ASCII user agents; a different client is a different identifier."""
    from coop.web.auth import client_identifier, client_identifier_of

    cases = [{}, {"User-Agent": "Mozilla/5.0 (X11) 微信"}, {"X-Forwarded-For": "10.1.2.3, 172.16.0.1"},
             {"X-Forwarded-For": "10.1.2.3", "User-Agent": "curl/8"}]
    seen = set()
    for headers in cases:
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.7"}) as ctx:
            assert client_identifier_of(ctx.request.environ) == client_identifier()
            seen.add(client_identifier())
    assert len(seen) == len(cases)


def test_the_door_never_answers_another_client_or_a_forged_cookie(auth, client, app, village, cached,
                                                                  flask_requests, layouts):
    """The session cookie copied into another browser, or altered, is not answered by the door: Flask's session
    protection and signature check have their usual say."""
    from flask import g

    from tests.test_trust import cookies, with_cookies

    auth.login("kuaiji")
    url = tb_url(village)
    get(client, url)
    get(client, url)  # kept and answered by the door
    reached = len(flask_requests)
    jar = cookies(client)
    thief = with_cookies(app, jar)
    thief.environ_base["HTTP_USER_AGENT"] = "another browser"
    thief.get(url)
    assert len(flask_requests) == reached + 1  # Flask's way, never the kept page by the door
    forged = with_cookies(app, {**jar, "session": jar["session"][:-2] + ("AA" if not jar["session"].endswith("AA")
                                                                        else "BB")})
    g.pop("_login_user", None)  # the test's app context outlives requests: this one loads its own user
    r = forged.get(url)
    assert r.status_code == 302 and "/login" in r.headers["Location"] and len(flask_requests) == reached + 2


def test_a_token_signed_long_ago_is_signed_anew(auth, client, app, village, cached, flask_requests, layouts):
    """Where CSRF tokens expire (WTF_CSRF_TIME_LIMIT), the door passes a page whose token is older than a tenth of
    that to Flask, which answers the kept page with a token signed now and keeps it so."""
    import time

    from flask import g

    from coop.web import page_cache

    auth.login("kuaiji")
    url = f"/o/{village.org.id}/vouchers?year=2025&month=1"
    _, first = get(client, url)
    old = re.findall(r'name="csrf_token" value="([^"]+)"', first)[0]
    key = next(k for k in page_cache.stored._data if k[1].endswith("/vouchers"))
    page = page_cache.stored._data[key]
    page_cache.stored._data[key] = page._replace(csrf_at=time.time() - 400)  # signed 400 s ago
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    try:
        reached, rendered = len(flask_requests), len(layouts)
        time.sleep(1.1)  # a signature a second later differs
        g.pop("csrf_token", None)  # the test's app context outlives requests: Flask-WTF's per-request token
        r, again = get(client, url)
        assert r.status_code == 200 and len(flask_requests) == reached + 1 and len(layouts) == rendered
        new = re.findall(r'name="csrf_token" value="([^"]+)"', again)
        assert new and set(new) != {old} and len(set(new)) == 1
        r, third = get(client, url)
        assert third == again and len(flask_requests) == reached + 1  # the door, with the token signed anew
    finally:
        app.config["WTF_CSRF_TIME_LIMIT"] = None


def test_a_session_restored_for_the_same_login_gets_tokens_of_its_own(auth, app, village, cached):
    """A login's remember cookie opens a new session (the browser was closed) with the same identity, so the same
    kept page — but a CSRF token signs one session's secret: every page this session is shown carries tokens
    its own forms will be accepted with."""
    from flask import g
    from itsdangerous import URLSafeTimedSerializer

    from tests.test_trust import cookies, with_cookies

    first = app.test_client()
    auth.login("kuaiji", remember=True, client=first)
    url = f"/o/{village.org.id}/vouchers?year=2025&month=1"
    get(first, url)
    get(first, url)  # kept with the first session's token
    reopened = with_cookies(app, {"remember_token": cookies(first)["remember_token"]})
    signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    for _ in range(3):
        for name in ("_login_user", "csrf_token"):  # the test's app context outlives requests
            g.pop(name, None)
        r, html = get(reopened, url)
        tokens = re.findall(r'name="csrf_token" value="([^"]+)"', html)
        with reopened.session_transaction() as s:
            own = s["csrf_token"]
        assert r.status_code == 200 and tokens and {signer.loads(t) for t in tokens} == {own}
