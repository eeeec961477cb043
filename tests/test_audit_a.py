"""Acceptance probes of RULES §1–§8 (audit-a): each test pins a rule sentence that was found unenforced."""
from __future__ import annotations

from tests.test_api_ledger import Api, assert_refused, db_state, voucher

import pytest


@pytest.fixture
def api(books, client):
    return Api(client, books)


def test_a_numbered_draft_keeps_its_voucher_word(api):
    """RULES §3: numbers per organization per month, gapless and never reused. 记-0001, un-reviewed, must not
    become 收-0001: 记 would keep a hole at 0001 and the next 收 voucher would be given 收-0001 again."""
    first = api.create(voucher())
    assert api.review(first["id"])["display_number"] == "记-0001"
    assert api.post(f"/vouchers/{first['id']}/unreview", who="reviewer").json["status"] == "draft"
    before = db_state()
    r = api.put(f"/vouchers/{first['id']}", {**voucher(), "word": "收"})
    assert assert_refused(r, 422, "word") == ["已编号的凭证不能改凭证字（记-0001），请保持“记”字"]
    assert db_state() == before
    # a new 收 voucher starts its own sequence at 0001, and the 记 voucher keeps 记-0001 on re-review
    other = api.create({**voucher(), "word": "收"})
    assert api.review(other["id"])["display_number"] == "收-0001"
    assert api.review(first["id"])["display_number"] == "记-0001"
