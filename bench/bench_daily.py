"""Daily work (#20) at township scale: how long the 待办 takes per role (it runs on every page, for the menu
badges) and what 成批审核 / 成批记账 of a month cost against one by one.

Builds `--villages` villages (default 30) of one township, each with `--drafts` drafts of March 2025 (default 100)
and a few questions and sheets, through the services; then times, in a fresh session each (as a request would):
todo_for the township auditor (all villages), the county admin, an accountant of two villages, a reviewer;
then a batch review and a batch post of one village's month.

    .venv/bin/python bench/bench_daily.py            # SQLite in a temp file
    .venv/bin/python bench/bench_daily.py --pg       # throwaway PostgreSQL
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
from decimal import Decimal

from _common import clock, database, load, make_app


def build(villages: int, drafts: int):
    from coop.core.extensions import db
    from coop.services import disclosure, opening, orgs, users, vouchers

    county = orgs.create_county("基准县")
    town = orgs.create_township(county, "基准镇")
    acc = users.create_user("acc", "会计", "x" * 8)
    aud = users.create_user("aud", "经管站", "x" * 8)
    adm = users.create_user("adm", "县管理员", "x" * 8)
    users.assign_role(aud, "township_auditor", town)
    users.assign_role(adm, "county_admin", county)
    reviewers, first = [], None
    for i in range(villages):
        org = orgs.create_organization(town, name=f"村{i:03d}", books_start_year=2025)
        rev = users.create_user(f"rev{i}", f"审核{i}", "x" * 8)
        users.assign_role(rev, "reviewer", org)
        if i < 2:
            users.assign_role(acc, "accountant", org)
        preparer = acc if i < 2 else users.create_user(f"acc{i}", f"会计{i}", "x" * 8)
        if i >= 2:
            users.assign_role(preparer, "accountant", org)
        opening.lock_opening_balances(org, user=preparer)
        for n in range(drafts):
            amount = Decimal(n % 97 + 1)
            v = vouchers.create_draft(org, {"date": dt.date(2025, 3, n % 28 + 1), "lines": [
                {"summary": "收", "account_code": "101", "debit": amount, "credit": Decimal(0)},
                {"summary": "收", "account_code": "102", "debit": Decimal(0), "credit": amount}]}, user=preparer)
            if n < 3:
                vouchers.review_voucher(v, user=rev)
                vouchers.post_voucher(v, user=preparer)
                disclosure.ask_question(org, v, text="?", user=aud)
        reviewers.append(rev)
        first = first or org
    db.session.commit()
    return {"auditor": aud.id, "county admin": adm.id, "accountant (2 villages)": acc.id,
            "reviewer": reviewers[0].id}, first.id


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, default=30)
    ap.add_argument("--drafts", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--db")
    args = ap.parse_args()
    with database(args.db, args.pg) as url:
        app = make_app(url)
        with app.app_context():
            from coop.core.extensions import db
            from coop.models import Organization, User
            from coop.services import batch, todo

            w0, _ = clock()
            who, org_id = build(args.villages, args.drafts)
            print(f"built {args.villages} villages × {args.drafts} drafts in {clock()[0] - w0:.1f} s "
                  f"(load {load():.1f})")
            for label, uid in who.items():
                times = []
                for _ in range(args.repeat):
                    db.session.remove()
                    w, _ = clock()
                    items = todo.todo_for(db.session.get(User, uid), dt.date(2025, 4, 20)).items
                    times.append(clock()[0] - w)
                print(f"待办 {label:<24} {statistics.median(times) * 1000:7.1f} ms  ({sum(i.count for i in items)} "
                      f"items waiting)")
            db.session.remove()
            org = db.session.get(Organization, org_id)
            rev = db.session.get(User, who["reviewer"])
            acc = db.session.get(User, who["accountant (2 villages)"])
            for step, user in (("review", rev), ("post", acc)):
                w, c = clock()
                result = batch.run(org, step, user, batch.candidates(org, step, year=2025, month=3))
                db.session.commit()
                wall = clock()[0] - w
                print(f"成批{'审核' if step == 'review' else '记账'} {len(result.done)} vouchers in {wall:.2f} s "
                      f"({len(result.done) / wall:.0f}/s)")


if __name__ == "__main__":
    main()
