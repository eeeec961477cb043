"""Attacks on the whole-page cache (coop.web.page_cache) and the page bodies under it (coop.reports.caching): what
a user is shown again must never be older than what they would see now."""
from __future__ import annotations

import pytest

from tests.test_page_cache import cached, flask_requests, get, tb_url  # noqa: F401  (fixtures)
from tests.test_reports_render import _fast_password_hashing, village  # noqa: F401  (fixtures)


def vouchers_url(books) -> str:
    return f"/o/{books.org.id}/vouchers?year=2025&month=1"


def test_voucher_list_offers_batch_review_once_the_role_is_granted(auth, client, village, cached):
    """A role granted does not end the sessions (only taking one away does): the voucher list body, kept per
    login and books version, must still follow what the login may now do."""
    from coop.core.extensions import db
    from coop.services import users

    auth.login("kuaiji")
    _, before = get(client, vouchers_url(village))
    assert 'id="batch-post"' in before and 'id="batch-review"' not in before  # 会计: 成批记账 only
    get(client, vouchers_url(village))  # the stored page
    users.assign_role(village.accountant, "reviewer", village.org)
    db.session.commit()
    r, after = get(client, vouchers_url(village))
    assert r.status_code == 200 and 'id="batch-review"' in after and 'id="batch-post"' in after


def test_revalidated_copy_is_not_kept_after_the_layout_changed(auth, client, app, village, cached, monkeypatch):
    """A browser that revalidates (PAGE_BROWSER_REVALIDATE) keeps its copy only while the whole page is the same:
    a village granted since is in the switcher, so the old copy is not 'not modified'."""
    from coop.core.extensions import db
    from coop.services import orgs, users

    monkeypatch.setitem(app.config, "PAGE_BROWSER_REVALIDATE", True)
    auth.login("kuaiji")
    r, before = get(client, tb_url(village))
    assert r.headers["Cache-Control"] == "private, no-cache" and "西村股份经济合作社" not in before
    assert get(client, tb_url(village), **{"If-None-Match": r.headers["ETag"]})[0].status_code == 304
    west = orgs.create_organization(village.township, name="西村股份经济合作社", books_start_year=2025)
    users.assign_role(village.accountant, "accountant", west)
    db.session.commit()
    r2, after = get(client, tb_url(village), **{"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 200 and "东镇 · 西村股份经济合作社" in after
    assert r2.headers["ETag"] != r.headers["ETag"]
    r3, _ = get(client, tb_url(village), **{"If-None-Match": r2.headers["ETag"]})
    assert r3.status_code == 304  # the new copy is current again


def test_a_page_whose_todo_failed_is_not_kept(auth, client, village, cached, monkeypatch):
    """The layout shows no 待办 when its query fails (a statement timeout under load) rather than an error page;
    that page must not be kept and shown again as if nothing were waiting."""
    from sqlalchemy.exc import OperationalError

    from coop.services import todo
    from tests.test_page_cache import todo_total

    auth.login("kuaiji")
    _, normal = get(client, tb_url(village))
    waiting = todo_total(normal)
    assert waiting > 0  # the quarters of 2025 not yet disclosed, at least
    real = todo.todo_for

    def timed_out(user, *a, **kw):
        raise OperationalError("SELECT … FROM vouchers", {}, Exception("canceling statement due to statement timeout"))

    url = tb_url(village, month=3)
    monkeypatch.setattr(todo, "todo_for", timed_out)
    r, degraded = get(client, url)
    assert r.status_code == 200 and todo_total(degraded) == 0
    monkeypatch.setattr(todo, "todo_for", real)
    _, again = get(client, url)
    assert todo_total(again) == waiting



def test_a_login_restored_from_its_remember_cookie_gets_stored_pages(auth, app, village, cached, monkeypatch):
    """The browser was closed (no session cookie), the remember cookie signs the user in again: from then on the
    session is that login's like any other, and a repeat view is the stored page."""
    from flask import g

    from coop.services import todo
    from tests.test_trust import cookies, with_cookies

    first = app.test_client()
    auth.login("kuaiji", remember=True, client=first)
    browser = with_cookies(app, {"remember_token": cookies(first)["remember_token"]})  # reopened: no session
    real, renders = todo.todo_for, []

    def counted(user, *a, **kw):
        renders.append(user.id)
        return real(user, *a, **kw)

    monkeypatch.setattr(todo, "todo_for", counted)
    for _ in range(4):
        g.pop("_login_user", None)  # the test's app context outlives requests: each loads its own user
        r, _html = get(browser, tb_url(village))
        assert r.status_code == 200
    # signed in by the cookie (rendered), rendered once more to be kept, then the stored page twice
    assert len(renders) == 2


def _kept_by_the_door(auth, client, app, village, flask_requests) -> str:
    """Signed in as 王会计, the trial balance viewed twice: the second view the door's."""
    auth.login("kuaiji")
    url = tb_url(village)
    get(client, url)
    reached = len(flask_requests)
    assert get(client, url)[0].status_code == 200 and len(flask_requests) == reached
    return url


def test_a_retired_fallback_key_opens_no_kept_page(auth, client, app, village, cached, flask_requests):
    """Key rotation (Flask's SECRET_KEY_FALLBACKS): once the old key is dropped from the fallbacks, a cookie it
    signed opens nothing — Flask no longer accepts it, and neither may the door's serializer, built while the
    fallback was still there."""
    from flask import g

    url = _kept_by_the_door(auth, client, app, village, flask_requests)
    old = app.secret_key
    try:
        app.config["SECRET_KEY_FALLBACKS"] = [old]
        app.secret_key = "rotated-" + old
        assert get(client, url)[0].status_code == 200  # the old cookie still good while its key is a fallback
        app.config["SECRET_KEY_FALLBACKS"] = []  # the old key retired (it leaked)
        g.pop("_login_user", None)  # the test's app context outlives requests: this one loads its own user
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    finally:
        app.secret_key = old
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_the_door_opens_cookies_signed_with_a_bytes_secret_key(auth, client, app, village, cached, flask_requests):
    """Flask takes a bytes SECRET_KEY (os.urandom): the door must too, not fail (and log a traceback) on every
    request."""
    old = app.secret_key
    app.secret_key = old.encode()
    try:
        _kept_by_the_door(auth, client, app, village, flask_requests)
    finally:
        app.secret_key = old


def test_the_page_body_cache_stays_within_its_bytes(app):
    """PAGE_CACHE_BYTES bounds a worker's memory. A page body is kept as a Python str, which holds 2 bytes a
    character for Chinese, and 4 for the whole string once one character is outside the BMP (an emoji in a voucher
    summary): counted in characters, three such bodies 'fitted' in a budget they overran by half."""
    import sys

    from coop.reports import caching

    lru = caching.LRU("PAGE_CACHE_ENTRIES", "PAGE_CACHE_BYTES")
    app.config["PAGE_CACHE_BYTES"] = 25_000
    try:
        for n in range(3):
            lru.put(("page", n), "收到租金😀" * 600 + str(n))  # 3,001 characters, 12 KB held
        held = sum(sys.getsizeof(v) for v in lru._data.values())
        assert 0 < held <= 25_000
    finally:
        app.config.pop("PAGE_CACHE_BYTES")
        caching._every.remove(lru)
