"""The demo's 三资台账 (#21): every village has contracts (one overdue), asset cards that reconcile to its ledger,
and parcels; the 三色预警 shows the overdue pond rent and nothing else of the 三资 rules."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Organization
from coop.services import roles, sanzi
from tests.test_demo import demo  # noqa: F401  (module fixture: the demo built once)

TODAY = dt.date(2026, 12, 7)


def test_every_demo_village_has_its_sanzi(demo):
    villages = [o for o in db.session.scalars(sa.select(Organization).order_by(Organization.id))
                if o.kind.startswith("village")]
    assert len(villages) == 4
    for org in villages:
        assert [s.key for s in roles.problems(org)] in ([], ["internal"]), org.name
        contracts = sanzi.list_contracts(org)
        assert len(contracts) >= 3 and all(c.status == "effective" for c in contracts)
        assert len(sanzi.list_assets(org)) == 3 and len(sanzi.list_parcels(org)) == 4
        assert [r.ok for r in sanzi.reconcile(org, TODAY)] == [True], org.name
        codes = {w.code: w for w in sanzi.warnings(org, TODAY)}
        assert set(codes) == {"contract_overdue_red", "contract_overdue"}, (org.name, codes)
        # the pond's first quarter, 9,600.00 / 4, due 1 August 2026: 128 days by 7 December (red); the second,
        # due 1 November: 36 days (yellow)
        [fact] = codes["contract_overdue_red"].facts
        assert "ZL-2026-09" in str(fact) and "第1期" in str(fact) and "2,400.00" in str(fact) and "128 天" in str(fact)
        [fact] = codes["contract_overdue"].facts
        assert "ZL-2026-09" in str(fact) and "第2期" in str(fact) and "36 天" in str(fact)
        [row] = sanzi.ageing(org, TODAY)
        assert row.counterparty == "东山水产养殖户" and row.total == Decimal("4800.00")
