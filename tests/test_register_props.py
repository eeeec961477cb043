"""Property: after any sequence of register events the total equals the issued total, no holding goes negative,
and the register as of an earlier date is reproduced exactly after later events."""
import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.services import members, opening, orgs, shares, users

TODAY = dt.date(2026, 11, 1)
_SERIAL = itertools.count()  # unique 身份证 numbers across examples
EVENT = st.tuples(st.sampled_from(["transfer", "split", "merge", "nominee", "release", "buyback", "reverse"]),
                  st.integers(0, 4), st.integers(0, 4), st.integers(1, 40))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(events=st.lists(EVENT, min_size=1, max_size=8))
def test_register_total_never_drifts_and_the_past_is_reproduced(books, events):
    org = orgs.create_organization(books.township, name=f"村{len(events)}-{id(events)}", books_start_year=2025)
    users.assign_role(books.accountant, "accountant", org)
    opening.set_opening_balances(org, {"102": Decimal("100000.00"), "301": Decimal("-100000.00")},
                                 user=books.accountant)
    opening.lock_opening_balances(org, user=books.accountant)
    h1, h2 = members.create_household(org), members.create_household(org)
    people = []
    for i, h in enumerate((h1, h1, h1, h2, h2)):
        c = next(_SERIAL)
        body = f"110105{1950 + c // 1000}0101{c % 1000:03d}"
        number = body + ric.calc_check_digit(body + "0")
        people.append(members.add_member(h, name=f"成员{i}", id_number=number, relation="户主" if i in (0, 3) else "其他"))
        members.record_membership_event(people[-1], "confirmed", date=dt.date(2024, 6, 1), evidence="决议",
                                        today=TODAY)
    plan = shares.create_plan(org, name="量化", base_date=dt.date(2024, 12, 31), net_assets=Decimal("100000"),
                              rules={"population_units": "10", "collective_ratio": "0.2"}, approval_ref="决议",
                              user=books.accountant)
    shares.issue_plan(plan, user=books.accountant)
    issued = plan.total_units
    history = []  # (date, holdings as of that date)
    day = dt.date(2025, 1, 1)
    actions = []
    for kind, a, b, n in events:
        day += dt.timedelta(days=3)
        history.append((day - dt.timedelta(days=1), shares.holdings(org, day - dt.timedelta(days=1))))
        units = Decimal(n) / 10
        src, dst = people[a], people[b]
        try:
            # services check everything before they write, so a refusal leaves nothing behind
            if kind == "transfer":
                actions.append(shares.transfer_shares(org, from_member_id=src.id, to_member_id=dst.id,
                                                      share_class="population", units=units, date=day,
                                                      reference="转让", user=books.accountant, today=TODAY))
            elif kind == "split":
                shares.split_household(org, household_id=src.household_id, member_ids=[src.id], date=day,
                                       reference="分户", user=books.accountant, today=TODAY)
            elif kind == "merge" and src.household_id != dst.household_id:
                shares.merge_households(org, source_id=src.household_id, target_id=dst.household_id,
                                        date=day, reference="合户", user=books.accountant, today=TODAY)
            elif kind == "nominee":
                actions.append(shares.start_nominee(org, holder_id=None, beneficiary_id=dst.id,
                                                    share_class="collective", units=units, date=day,
                                                    reference="代持协议", user=books.accountant, today=TODAY))
            elif kind == "release":
                shares.release_nominee(org, holder_id=None, beneficiary_id=dst.id, share_class="collective",
                                       date=day, reference="解除", user=books.accountant, today=TODAY)
            elif kind == "buyback":
                shares.buy_back(org, member_id=src.id, share_class="population", units=units / 10,
                                price=Decimal("100.00"), date=day, reference="退出", user=books.accountant,
                                today=TODAY)
            elif kind == "reverse" and actions:
                shares.reverse_action(org, action_id=actions[-1].id, date=day, reason="冲正",
                                      user=books.accountant, today=TODAY)
        except CoopError:
            pass  # a refused event changes nothing: the invariants below must still hold
        assert shares.register_total(org) == issued
        assert all(h.units > 0 for h in shares.holdings(org))
    for date, before in history:
        assert shares.holdings(org, date) == before
