"""Member portal accounts in bulk: open an account for every household head of a village and render the
开通通知书 (one A4 page each) — what one click on 开通成员账户 does. Prints the seconds for each half.

    .venv/bin/python bench/bench_portal_letters.py [--households 125]
"""
from __future__ import annotations

import argparse
import datetime as dt

from _common import clock, temp_sqlite_url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=125)
    args = parser.parse_args()
    from stdnum.cn import ric

    from coop import create_app
    from coop.documents import portal_letters
    from coop.core.extensions import db
    from coop.services import members, orgs, portal_accounts, users

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=temp_sqlite_url(), SERVER_NAME="coop.bench",
                     PASSWORD_HASH_METHOD="scrypt")  # production's hash: it is most of the first half
    with app.app_context():
        db.create_all()
        county = orgs.create_county("基准县")
        org = orgs.create_organization(orgs.create_township(county, "基准镇"), name="基准村", books_start_year=2026)
        acct = users.create_user("kuaiji", "会计", "password1")
        users.assign_role(acct, "accountant", org)
        for h in range(args.households):
            base = f"110105{1950 + h % 40}{1 + h % 12:02d}{1 + h % 28:02d}{h % 1000:03d}"
            hh = members.create_household(org)
            m = members.add_member(hh, name=f"户主{h}", id_number=base + ric.calc_check_digit(base + "0"), relation="户主")
            members.record_membership_event(m, "confirmed", date=dt.date(2026, 1, 1), evidence="决议", user=acct)
        db.session.commit()
        w0, c0 = clock()
        opened = portal_accounts.open_accounts(org, user=acct)
        w1, c1 = clock()
        with app.test_request_context():
            pdf = portal_letters.letters_pdf(org, opened)
        w2, c2 = clock()
        db.session.commit()
    print(f"{len(opened)} accounts opened (scrypt): {w1 - w0:.1f}s wall, {c1 - c0:.1f}s CPU")
    print(f"{len(opened)}-page letters PDF ({len(pdf) // 1024} KiB): {w2 - w1:.1f}s wall, {c2 - c1:.1f}s CPU")


if __name__ == "__main__":
    main()
