"""Demo data: 青山县 with two townships, four villages and users for every role.

Everything goes through the services (the same checks as real use), seeded so two builds are identical, and
with a fixed "today" so closing never depends on the clock. `build_demo` is idempotent: when the county
exists it only returns the logins.
"""
from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import click
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import County, Organization, ProjectReturn, User, Voucher
from coop.models.ledger import VoucherStatus
from coop.models.shares import QuantificationStatus
from coop.ledger import roles as R
from coop.services import accounts, closing, joint, loans, opening, orgs, periods, reports, roles, users, vouchers
from coop.demo.sanzi import build_sanzi

COUNTY = "青山县"
PASSWORD = "demo2026"
#: the demo's "today": October 2026 is the last month that can be closed
TODAY = dt.date(2026, 11, 20)
LAST_CLOSED = (2026, 10)
Y = Decimal("1")

# (parent, code, name) every village gets; households, tenants and extras come from the village spec
COMMON_DETAILS = (
    ("101", "10101", "村部现金"),
    ("101", "10102", "报账员备用金"),
    ("102", "10201", "农业银行"),
    ("102", "10202", "农村信用社"),
    ("501", "50101", "发包收入（承包金）"),
    ("501", "50102", "资产租赁收入"),
    ("503", "50301", "贴息"),
    ("503", "50302", "村级组织运转经费"),
    ("504", "50401", "利息收入"),
    ("513", "51301", "干部报酬"),
    ("513", "51302", "办公费"),
    ("513", "51303", "折旧费"),
    ("513", "51304", "水电费"),
    ("514", "51401", "道路维修"),
    ("514", "51402", "环境卫生"),
    ("515", "51501", "利息支出"),
    ("515", "51502", "银行手续费"),
    ("514", "51403", "其他公益支出"),  # 报账 categories (#22) need a leaf of their own
    ("515", "51504", "其他支出"),
    # as real villages keep them (issue #14): every account the system posts to has 明细科目
    ("112", "11201", "应收单位款"),
    ("112", "11202", "应收个人款"),
    ("141", "14101", "对外股权投资"),
    ("141", "14102", "飞地抱团项目"),
    ("201", "20101", "农业银行贷款"),
    ("201", "20102", "农商银行专项贷款"),
    ("211", "21101", "应付单位款"),
    ("211", "21102", "应付收益"),
    ("212", "21201", "干部报酬"),
    ("212", "21202", "干部奖励分红"),
    ("311", "31101", "公积金"),
    ("311", "31102", "公益金"),
    ("502", "50201", "对外投资收益"),
    ("502", "50202", "飞地抱团收益"),
)
#: the leaf the demo's hand-written vouchers and opening balances mean when they name a first-level account
LEAF = {"101": "10101", "112": "11201", "141": "14101", "201": "20101", "211": "21101", "212": "21201",
        "311": "31101", "502": "50201"}
#: the counterparty (辅助核算) of the hand-written lines on 112/211 leaves; 113 leaves name their household
COUNTERPARTY = {"11201": "青山县城投公司", "21101": "青山建工公司", "21102": "应付收益", "20101": "农业银行"}
#: the counterparties of the 2004 books' balances on 应收款, 应付款 and 长期借款 (the old 科目余额表's 明细)
COUNTERPARTY_2004 = {"112": "西河物流公司", "202": "西河建材店", "212": "原应付福利费", "221": "青山农商银行"}
#: posting roles (科目对照) of every demo village
ROLE_LEAVES = {R.CASH: "10101", R.BANK: "10201", R.RECEIVABLE: "11201", R.LONG_INVESTMENT: "14102",
               R.SHORT_LOAN: "20102", R.PAYABLE: "21101", R.DIVIDENDS_PAYABLE: "21102",
               R.CADRE_REWARD_PAYABLE: "21202", R.RESERVE: "31101", R.INVESTMENT_INCOME: "50202",
               R.SUBSIDY_INCOME: "50301", R.INTEREST_EXPENSE: "51501",
               # 报账 (#22): the expense a spending request books, by its category
               R.EXPENSE_ADMIN: "51302", R.EXPENSE_PUBLIC: "51403", R.EXPENSE_OTHER: "51504"}
#: 2004 old code → the 2023 leaf its balance goes to (the bank to 农业银行; 应付福利费, deleted in 2023, to 应付款)
CHOICES_2004 = {"101": "10101", "102": "10201", "112": "11201", "202": "21101", "211": "21201", "212": "21101",
                "311": "31101"}


@dataclass(frozen=True)
class VillageSpec:
    key: str  # pinyin, used in usernames
    name: str
    township: str
    kind: str
    start: tuple[int, int]
    households: tuple[str, ...]
    tenants: tuple[tuple[str, int], ...]  # (tenant, monthly rent)
    contract_total: int  # 承包金 per year
    salary: int  # 干部报酬 per month
    depreciation: int  # per month
    cun_she_he_yi: bool = False
    legal_representative: str = ""
    opening: dict = field(default_factory=dict)  # hand-set 期初余额 without 311 (computed to balance)
    opening_2004: tuple = ()  # 2004-system 科目余额表 rows without 311
    loan: int = 0  # 20101 农业银行贷款 at the start (村社合一 special loan with 贴息)
    investment: int = 0  # 141 飞地抱团 stake with a 10% 保底 return declared each December
    machinery: bool = False  # runs a 农机服务 business (501/511)
    seed: int = 0


VILLAGES = (
    VillageSpec(
        key="qingshi", name="青石村股份经济合作社", township="东山镇", kind="village_shareholding",
        start=(2025, 1), cun_she_he_yi=True, legal_representative="陈志强", loan=300000, machinery=True,
        investment=200000,
        households=("张建国", "李秀英", "王德福", "陈桂兰", "刘永福", "赵玉梅"),
        tenants=(("青山竹木加工厂", 8500), ("东山农资超市", 2600)),
        contract_total=186000, salary=13800, depreciation=6200, seed=11,
        opening={"101": "2860.00", "10201": "568420.35", "10202": "126300.00", "112": "18000.00",
                 "11301": "3500.00", "11302": "-1200.00", "121": "12400.00", "141": "200000.00",
                 "151": "2360000.00", "152": "-486000.00", "20101": "-300000.00", "211": "-35600.00",
                 "301": "-1500000.00", "32202": "-156000.00"},
    ),
    VillageSpec(
        key="liuxi", name="柳溪村经济合作社", township="东山镇", kind="village_economic",
        start=(2025, 1), legal_representative="周国平",
        households=("周大海", "吴春花", "郑长林", "孙淑芬", "钱立新"),
        tenants=(("柳溪农家乐", 3200),),
        contract_total=98000, salary=9600, depreciation=2400, seed=22,
        opening={"101": "1530.20", "10201": "236800.00", "10202": "41250.60", "11301": "1800.00",
                 "151": "860000.00", "152": "-214500.00", "211": "-12000.00", "231": "-8000.00",
                 "301": "-600000.00", "32202": "-64300.00"},
    ),
    VillageSpec(
        key="shiqiao", name="石桥村股份经济合作社", township="西河乡", kind="village_shareholding",
        start=(2024, 1), legal_representative="黄海生",
        households=("黄德明", "林玉珍", "何建华", "罗金凤", "马春生", "朱桂香", "胡志远"),
        tenants=(("西河物流公司", 6800), ("石桥小学食堂", 1500)),
        contract_total=142000, salary=11400, depreciation=4300, seed=33,
        # 2023-12-31 科目余额表 of the old (2004) books: signed, debit positive; zero rows as printed
        opening_2004=(("101", "3260.50"), ("102", "486320.75"), ("111", "0.00"), ("112", "25000.00"),
                      ("113", "0.00"), ("121", "8600.00"), ("151", "1280000.00"), ("152", "-312400.00"),
                      ("154", "0.00"), ("202", "-46500.00"), ("211", "-18000.00"), ("212", "-4200.00"),
                      ("221", "-100000.00"), ("231", "-20000.00"), ("301", "-800000.00"),
                      ("321", "0.00"), ("322", "-201000.00"), ("502", "0.00"), ("511", "0.00"),
                      ("522", "0.00"), ("541", "0.00"), ("551", "0.00")),
    ),
    VillageSpec(
        key="fenglin", name="枫林村经济合作社", township="西河乡", kind="village_economic",
        start=(2025, 1), legal_representative="郭建军",
        households=("郭长顺", "高玉兰", "梁国庆", "宋小燕"),
        tenants=(("枫林茶叶合作社", 2800),),
        contract_total=76000, salary=8400, depreciation=1900, seed=44,
        opening={"101": "980.00", "10201": "152300.40", "10202": "20000.00", "112": "6000.00",
                 "151": "540000.00", "152": "-128000.00", "211": "-9800.00", "301": "-420000.00",
                 "32202": "-38200.00"},
    ),
)

# 青石村's 专项贷款 in the loan register (贴息 applies: 村社合一), and the county's LPR table (1-year LPR, 20th)
LOAN = dict(lender="青山农商银行", contract_no="QSNS-2025-0318", principal=Decimal("500000.00"),
            annual_rate=Decimal("0.0385"), start_date=dt.date(2025, 3, 5), maturity_date=dt.date(2026, 3, 4))
LOAN_DRAWDOWNS = ((dt.date(2025, 3, 5), Decimal("300000.00")), (dt.date(2025, 6, 5), Decimal("200000.00")))
LOAN_END = dt.date(2026, 3, 4)
LPR = [(dt.date(y, m, 20), Decimal("0.031") if (y, m) < (2025, 5) else Decimal("0.030"))
       for y, m in [(2024, 12)] + [(2025, m) for m in range(1, 13)] + [(2026, m) for m in range(1, 11)]]
#: the 2025 贴息 claim: filed in January 2026, paid into the village in February
CLAIM_PERIOD = (dt.date(2025, 3, 5), dt.date(2025, 12, 21))
# 飞地抱团: three villages put cash into the township's standard-factory project run by the county's 强村公司
PROJECT = dict(name="东山镇飞地抱团标准厂房", operator_name="青山县强村发展有限公司", guarantor="青山县城投公司",
               start_date=dt.date(2025, 3, 1), fixed_rate=Decimal("0.08"))
CONTRIBUTIONS = (("qingshi", Decimal("100000.00")), ("liuxi", Decimal("150000.00")), ("fenglin", Decimal("80000.00")))
CONTRIBUTED_ON = dt.date(2025, 3, 10)
PROJECT_PROFIT_2025 = Decimal("40000.00")


def loan_interest_periods() -> list[tuple[dt.date, dt.date]]:
    ends = [dt.date(2025, 6, 21), dt.date(2025, 9, 21), dt.date(2025, 12, 21), LOAN_END]
    return list(zip([LOAN["start_date"]] + ends[:-1], ends))


def loan_interest(start: dt.date, end: dt.date) -> Decimal:
    """Interest the bank charges for [start, end): principal × rate × days ÷ 360, a part per principal change."""
    cuts = sorted({start, end} | {d for d, _ in LOAN_DRAWDOWNS if start < d < end})
    total = Decimal(0)
    for a, b in zip(cuts, cuts[1:]):
        principal = sum((x for d, x in LOAN_DRAWDOWNS if d <= a), Decimal(0))
        total += _yuan(principal * LOAN["annual_rate"] * (b - a).days / 360)
    return total


# (username, display name, role, where): where is a village key, a township name or the county
USERS = (
    ("qs_admin", "县农经站管理员", "county_admin", COUNTY),
    ("jg_dongshan", "东山镇经管站", "township_auditor", "东山镇"),
    ("jg_xihe", "西河乡经管站", "township_auditor", "西河乡"),
    ("kj_wang", "王会计", "accountant", "qingshi"),  # 村账镇管: one accountant, two villages
    ("kj_wang", "王会计", "accountant", "liuxi"),
    ("kj_li", "李会计", "accountant", "shiqiao"),
    ("kj_zhao", "赵会计", "accountant", "fenglin"),
    ("sh_qingshi", "陈志强", "reviewer", "qingshi"),
    ("sh_liuxi", "周国平", "reviewer", "liuxi"),
    ("sh_shiqiao", "黄海生", "reviewer", "shiqiao"),
    ("sh_fenglin", "郭建军", "reviewer", "fenglin"),
    ("lc_qingshi", "王德福", "finance_group", "qingshi"),
    ("cy_qingshi", "张建国", "member", "qingshi"),
)


def credentials() -> list[tuple[str, str, str, str]]:
    names = {v.key: v.name for v in VILLAGES}
    return [(u, role, names.get(where, where), PASSWORD) for u, _, role, where in USERS]


def _yuan(x) -> Decimal:
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def months(start: tuple[int, int], end: tuple[int, int]):
    y, m = start
    while (y, m) <= end:
        yield y, m
        y, m = periods.next_month(y, m)


class VillageBooks:
    """Keeps one village's books: posts a month of typical business, then closes it."""

    def __init__(self, org: Organization, spec: VillageSpec, accountant: User, reviewer: User):
        self.org, self.spec, self.accountant, self.reviewer = org, spec, accountant, reviewer
        self.rng = random.Random(spec.seed)
        self.bal: dict[str, Decimal] = {}  # opening + this keeper's posted vouchers (not the carry-over)
        self.stages: list[str] | None = None  # None: post everything; else the status of each next voucher
        self.unpaid_dividend = Decimal(0)  # 向成员分配 of last December, paid in January
        self.dividend_plan = None  # or the posted plan of last December, paid in January through its 分红清册
        self.return_due = Decimal(0)  # 飞地抱团 return declared last December, received in January
        self.schedule: list = []
        #: drafts the county wrote into these books (贴息, 飞地抱团), reviewed and posted in their month
        self.inbox: list[Voucher] = []
        self.loan = None  # the 专项贷款 in the loan register (村社合一 village)

    # -- chart and opening balances
    def setup(self) -> None:
        org, spec = self.org, self.spec
        details = list(COMMON_DETAILS)
        details += [("113", f"113{i:02d}", f"{h}户") for i, h in enumerate(spec.households, start=1)]
        if spec.machinery:
            details += [("501", "50103", "农机服务收入"), ("511", "51101", "农机服务支出")]
        for parent, code, name in details:
            accounts.add_detail_account(org, parent, code, name)
        if spec.opening_2004:
            rows = [(c, Decimal(a), COUNTERPARTY_2004.get(c)) for c, a in spec.opening_2004]
            rows.append(("311", -sum((a for _, a, _ in rows), Decimal(0)), None))  # 公积公益金 balances the table
            opening.import_2004_opening(org, rows, user=self.accountant, choices=CHOICES_2004)
        else:
            bal = {LEAF.get(c, c): Decimal(a) for c, a in spec.opening.items()}
            bal[LEAF["311"]] = -sum(bal.values(), Decimal(0))
            # 往来 balances name their counterparty or household (辅助核算)
            bal = {((c, self._counterparty(c)) if self._counterparty(c) else c): a for c, a in bal.items()}
            opening.set_opening_balances(org, bal, user=self.accountant)
            opening.lock_opening_balances(org, user=self.accountant)
        for key, code in ROLE_LEAVES.items():
            roles.set_mapping(org, key, code, user=self.accountant)
        if spec.machinery:  # 511 has 明细科目 here
            roles.set_mapping(org, R.EXPENSE_OPERATING, "51101", user=self.accountant)
        self.bal = dict(opening.opening_balances(org))

    # -- vouchers
    def amount(self, lo: int, hi: int, cents: bool = True) -> Decimal:
        if cents:
            return Decimal(self.rng.randint(lo * 100, hi * 100)) / 100
        return Decimal(self.rng.randint(lo, hi))

    def at(self, date: dt.date, action) -> None:
        """Run `action()` when the month is written out; entries go in date order so numbers follow dates."""
        if date <= TODAY:
            self.schedule.append((date, action))

    def post(self, date: dt.date, summary: str, dr: dict, cr: dict, attachments: int = 1) -> None:
        self.at(date, lambda: self.post_now(date, summary, dr, cr, attachments))

    def post_now(self, date: dt.date, summary: str, dr: dict, cr: dict, attachments: int = 1) -> Voucher:
        """One voucher: 制单 by the accountant, 审核 by the reviewer, 记账 by the accountant."""
        lines = [{"summary": summary, "account_code": LEAF.get(c, c), "debit": _yuan(a), "credit": Decimal(0),
                  "counterparty": self._counterparty(LEAF.get(c, c))} for c, a in dr.items()]
        lines += [{"summary": summary, "account_code": LEAF.get(c, c), "debit": Decimal(0), "credit": _yuan(a),
                   "counterparty": self._counterparty(LEAF.get(c, c))} for c, a in cr.items()]
        v = vouchers.create_draft(self.org, {"date": date, "attachment_count": attachments, "lines": lines},
                                  user=self.accountant)
        return self._advance(v)

    def _counterparty(self, code: str) -> str | None:
        if code.startswith("113") and len(code) > 3:
            return f"{self.spec.households[int(code[3:]) - 1]}户"
        return COUNTERPARTY.get(code)

    def _advance(self, v: Voucher) -> Voucher:
        if self.stages is None:
            stage = VoucherStatus.POSTED
        else:
            stage = self.stages.pop(0) if self.stages else VoucherStatus.DRAFT
        if stage in (VoucherStatus.REVIEWED, VoucherStatus.POSTED):
            vouchers.review_voucher(v, user=self.reviewer)
        if stage == VoucherStatus.POSTED:
            vouchers.post_voucher(v, user=self.accountant)
            for line in v.lines:
                code = line.account.code
                self.bal[code] = self.bal.get(code, Decimal(0)) + line.debit - line.credit
        return v

    def month(self, y: int, m: int) -> None:
        self.schedule = []
        for v in [v for v in self.inbox if (v.year, v.month) == (y, m)]:
            self.at(v.date, lambda v=v: self._advance(v))
        self.inbox = [v for v in self.inbox if (v.year, v.month) != (y, m)]
        self._plan(y, m)
        for _, action in sorted(self.schedule, key=lambda e: e[0]):  # stable: same-day entries keep their order
            action()

    def _plan(self, y: int, m: int) -> None:
        """A month of typical village business."""
        s, last = self.spec, calendar.monthrange(y, m)[1]

        def d(day: int) -> dt.date:
            return dt.date(y, m, min(day, last))

        hh = [f"113{i:02d}" for i in range(1, len(s.households) + 1)]
        withdraw = self.amount(20, 35, cents=False) * 100
        self.post(d(2), "提取备用金", {"101": withdraw}, {"10201": withdraw})
        if m == 1 and (y, m) > s.start:
            # 干部奖励分红 and wages still owed from last year
            owed = {c: -self._balance_of(c) for c in ("21201", "21202") if self._balance_of(c) < 0}
            if owed:
                self.post(d(6), "发放上年干部奖励分红及欠发报酬", owed, {"10201": sum(owed.values())}, attachments=2)
            if self.return_due:
                self.post(d(15), "收到飞地抱团项目上年保底收益", {"10201": self.return_due}, {"112": self.return_due})
                self.return_due = Decimal(0)
        if m == 1:
            if self.dividend_plan is not None:  # a posted plan's dividends are paid through its 分红清册
                self.at(d(8), lambda: _pay_plan(self, d(8)))
            if self.unpaid_dividend:
                self.post(d(8), f"支付{y - 1}年成员分红", {"21102": self.unpaid_dividend}, {"10201": self.unpaid_dividend},
                          attachments=len(s.households))
                self.unpaid_dividend = Decimal(0)
            # 承包金: most households pay by bank transfer, two owe until spring
            owed = {hh[0]: self.amount(1200, 2600, cents=False), hh[-1]: self.amount(800, 1800, cents=False)}
            paid = s.contract_total - sum(owed.values())
            self.post(d(10), f"收取{y}年度土地承包金", {"10201": paid, **owed}, {"50101": s.contract_total},
                      attachments=len(s.households))
        if m == 3:
            for code in (hh[0], hh[-1]):
                # the households owing from January pay in cash
                due = self._balance_of(code)
                if due > 0:
                    self.post(d(12), f"收回{s.households[int(code[3:]) - 1]}户欠交承包金", {"101": due}, {code: due})
        for tenant, rent in s.tenants:
            self.post(d(5), f"收到{tenant}{m}月租金", {"10201": rent}, {"50102": rent})
        for _ in range(self.rng.randint(1, 2)):
            a = self.amount(150, 900)
            self.post(d(self.rng.randint(6, 24)), self.rng.choice(["购买办公用品", "打印复印费", "报刊订阅费", "村部电脑维修"]),
                      {"51302": a}, {"101": a})
        a = self.amount(380, 920)
        self.post(d(15), f"支付{m}月村部水电费", {"51304": a}, {"10201": a})
        self.post(d(25), f"计提{m}月干部报酬", {"51301": s.salary}, {"212": s.salary})
        self.post(d(26), f"发放{m}月干部报酬", {"212": s.salary}, {"10201": s.salary})
        self.post(d(last), f"计提{m}月固定资产折旧", {"51303": s.depreciation}, {"152": s.depreciation}, attachments=0)
        if s.machinery and 4 <= m <= 10:
            income = self.amount(6000, 16000, cents=False)
            self.post(d(18), "农机作业服务收入", {"10201": income}, {"50103": income})
            cost = _yuan(income * Decimal("0.55"))
            self.post(d(19), "农机燃油及维修费", {"51101": cost}, {"10201": cost})
        if m in (3, 6, 9, 12):
            interest = self.amount(180, 620)
            self.post(d(21), "银行存款结息", {"10201": interest}, {"50401": interest}, attachments=1)
            fee = self.amount(20, 60)
            self.post(d(21), "银行账户管理费", {"51502": fee}, {"10201": fee})
            if s.loan:
                loan_interest = _yuan(Decimal(s.loan) * Decimal("0.0345") / 4)
                self.post(d(20), "支付农业银行贷款利息", {"51501": loan_interest}, {"10201": loan_interest})
            tax = _yuan(sum(r for _, r in s.tenants) * 3 * Decimal("0.12"))
            self.post(d(last), f"计提第{m // 3}季度房产税", {"512": tax}, {"214": tax}, attachments=0)
        if m in (1, 4, 7, 10) and (y, m) > s.start:
            tax = self._balance_of("214")
            if tax < 0:
                self.post(d(15), "缴纳上季度房产税", {"214": -tax}, {"10201": -tax})
        if s.loan and m in (1, 7):
            subsidy = _yuan(Decimal(s.loan) * Decimal("0.0345") / 2)
            self.post(d(22), "收到县财政贷款贴息", {"10201": subsidy}, {"50301": subsidy})
        if m in (4, 10):
            grant = Decimal(30000 + 5000 * (len(s.households) % 3))
            self.post(d(9), "收到上级拨付村级组织运转经费", {"10201": grant}, {"50302": grant})
        if m in (4, 11):
            repair = self.amount(4000, 12000, cents=False)
            self.post(d(16), "村组道路维修", {"51401": repair}, {"10201": repair}, attachments=2)
        if m == 5:
            self._wrong_then_corrected(y)
        if m == 8:
            a = self.amount(900, 2400)
            self.post(d(12), "暂借款（村民修缮住房）", {hh[1]: a}, {"10201": a})
        if m == 11:
            due = self._balance_of(hh[1])
            if due > 0:
                self.post(d(10), f"收回{s.households[1]}户借款", {"10201": due}, {hh[1]: due})
        if y == 2025 or (y == 2024 and s.start[0] == 2024):
            self._yishiyiyi(m, d)
        if self.loan is not None:
            self._loan_events(y, m)
        self.at(d(last), lambda: self._bank_surplus_cash(d(last)))
        if m == 12:
            if s.investment:
                self.return_due = _yuan(Decimal(s.investment) / 10)  # 10% 保底
                self.post(d(20), "确认飞地抱团项目本年保底收益", {"112": self.return_due}, {"502": self.return_due})
            self.at(d(31), lambda: self._distribute(y, d(31)))  # last: after every December income and cost

    def _loan_events(self, y: int, m: int) -> None:
        """The 专项贷款 through the loan register: two drawdowns, interest each quarter on the 21st (with the bank's
        结息单), repaid at maturity; each event drafts its voucher, reviewed and posted like any other."""
        loan = self.loan

        def event(date: dt.date, kind: str, amount: Decimal, **kw) -> None:
            def run():
                e = loans.record_loan_event(loan, kind=kind, date=date, amount=amount, user=self.accountant, **kw)
                self._advance(db.session.get(Voucher, e.voucher_id))
            self.at(date, run)

        for when, amount in LOAN_DRAWDOWNS:
            if (when.year, when.month) == (y, m):
                event(when, "drawdown", amount)
        for start, end in loan_interest_periods():
            if (end.year, end.month) == (y, m):
                event(end, "interest", loan_interest(start, end), period_start=start, period_end=end,
                      evidence=f"农商银行结息单{end:%Y%m%d}")
        if (y, m) == (LOAN_END.year, LOAN_END.month):
            event(LOAN_END, "repayment", sum((a for _, a in LOAN_DRAWDOWNS), Decimal(0)))

    def _bank_surplus_cash(self, date: dt.date) -> None:
        cash = self._balance_of("101")
        if cash > self.org.policy()["cash_limit"]:  # over the 库存现金限额: bank the surplus
            surplus = (cash - 2000).quantize(Y)
            self.post_now(date, "库存现金超限额存入银行", {"10201": surplus}, {"101": surplus}, 0)

    def _yishiyiyi(self, m: int, d) -> None:
        """一事一议 road project: households' contributions and the fiscal reward build a road that becomes an asset."""
        raised, reward = Decimal(600 * len(self.spec.households) * 10), Decimal(80000)
        if m == 3:
            self.post(d(18), "收取一事一议筹资款（村道硬化）", {"10201": raised}, {"231": raised},
                      attachments=len(self.spec.households))
        elif m == 6:
            self.post(d(10), "收到一事一议财政奖补资金", {"10201": reward}, {"241": reward})
            self.post(d(20), "支付村道硬化工程进度款", {"153": Decimal(60000)}, {"10201": Decimal(60000)}, attachments=3)
        elif m == 8:
            rest = raised + reward - 60000
            self.post(d(20), "支付村道硬化工程尾款", {"153": rest}, {"10201": rest}, attachments=3)
        elif m == 9:
            total = raised + reward
            self.post(d(10), "村道硬化工程竣工验收转入固定资产", {"151": total}, {"153": total}, attachments=2)
            self.post(d(10), "一事一议资金形成资产转入公积公益金", {"231": raised, "241": reward}, {"311": total},
                      attachments=0)

    def _wrong_then_corrected(self, y: int) -> None:
        """保洁费 booked as 办公费: 红字冲销 the wrong voucher, then the right blue one."""
        a = self.amount(1200, 2400)
        wrong: list[Voucher] = []
        self.at(dt.date(y, 5, 8), lambda: wrong.append(self.post_now(dt.date(y, 5, 8), "支付村庄保洁费",
                                                                    {"51302": a}, {"10201": a})))
        self.at(dt.date(y, 5, 20), lambda: self._advance(
            vouchers.reverse_voucher(wrong[0], user=self.accountant, date=dt.date(y, 5, 20))))
        self.post(dt.date(y, 5, 20), "支付村庄保洁费（更正）", {"51402": a}, {"10201": a})

    def _distribute(self, y: int, date: dt.date) -> None:
        """December: 提取公积公益金, 干部奖励分红 (村社合一) and 向成员分配 from 可分配收益 (RULES §7)."""
        if (self.spec.key, y) in PLAN_YEARS:
            return _distribute_by_plan(self, y)
        inc = reports.income_statement(self.org, y, 12)
        distributable, operating = inc.value("distributable", 1), inc.value("operating_profit", 1)
        profit = inc.value("net_profit", 1)
        if distributable <= 0 or profit <= 0:
            return
        reserve = _yuan(distributable * self.org.policy()["reserve_rate"]).quantize(Y)
        self.post_now(date, "提取公积公益金", {"3220101": reserve}, {"311": reserve}, attachments=1)
        left = distributable - reserve
        if self.spec.cun_she_he_yi and operating > 0:
            cadre = min(_yuan(operating * Decimal("0.15")).quantize(Y), left)
            if cadre > 0:
                self.post_now(date, "计提村两委干部奖励分红", {"3220102": cadre}, {"21202": cadre}, attachments=1)
                left -= cadre
        member = Decimal(int(min(profit * Decimal("0.4"), left) // 100) * 100)  # whole hundreds
        if member > 0:
            self.post_now(date, "向成员分配收益", {"3220103": member}, {"21102": member}, attachments=1)
            self.unpaid_dividend = member

    def _balance_of(self, code: str) -> Decimal:
        """Balance as kept by `_advance`; right for the accounts asked about, which carry-over never touches."""
        return self.bal.get(LEAF.get(code, code), Decimal(0))

    def close(self, y: int, m: int) -> None:
        closing.close_period(self.org, y, m, user=self.accountant, today=TODAY)

    def pending_month(self, y: int, m: int) -> None:
        """The month in progress: a few vouchers posted, some reviewed, the rest still drafts."""
        self.stages = [VoucherStatus.POSTED] * 2 + [VoucherStatus.REVIEWED] * 2
        self.month(y, m)
        self.stages = None


def build_demo(progress: bool = True) -> list[tuple[str, str, str, str]]:
    """Build the demo county once; return (username, role, where, password) for every demo login."""
    if db.session.scalar(sa.select(County.id).where(County.name == COUNTY)) is not None:
        return credentials()
    county = orgs.create_county(COUNTY, reserve_rate=Decimal("0.30"), cadre_reward_cap=Decimal("0.20"),
                                cash_limit=Decimal("5000.00"))
    townships = {name: orgs.create_township(county, name) for name in ("东山镇", "西河乡")}
    villages = {}
    for spec in VILLAGES:
        villages[spec.key] = orgs.create_organization(
            townships[spec.township], name=spec.name, kind=spec.kind, books_start_year=spec.start[0],
            books_start_month=spec.start[1], cun_she_he_yi=spec.cun_she_he_yi,
            legal_representative=spec.legal_representative)
    scope = {COUNTY: county, **townships, **villages}
    people: dict[str, User] = {}
    for username, display, role, where in USERS:
        if username not in people:
            people[username] = users.create_user(username, display, PASSWORD)
        users.assign_role(people[username], role, scope[where])

    def staff(key: str, role: str) -> User:
        return next(people[u] for u, _, r, w in USERS if w == key and r == role)

    keepers = [VillageBooks(villages[s.key], s, staff(s.key, "accountant"), staff(s.key, "reviewer")) for s in VILLAGES]
    # month by month across the villages: the county's actions (飞地抱团, 贴息) touch several villages' books at once
    steps = sorted(((y, m, i) for i, k in enumerate(keepers) for y, m in months(k.spec.start, LAST_CLOSED)))
    bar = click.progressbar(length=len(steps) + len(keepers), label="构建演示数据") if progress else None
    desk = CountyDesk(county, people, {k.spec.key: k for k in keepers})
    with bar if bar is not None else contextlib.nullcontext():
        for k in keepers:
            k.setup()
        desk.setup()
        seen = None
        for y, m, i in steps:
            if (y, m) != seen:  # the county acts first in each month
                desk.month(y, m)
                seen = (y, m)
            keepers[i].month(y, m)
            keepers[i].close(y, m)
            if bar is not None:
                bar.update(1)
        for k in keepers:
            k.pending_month(*periods.next_month(*LAST_CLOSED))
            if bar is not None:
                bar.update(1)
    build_sanzi(keepers, TODAY)  # 三资台账 (#21)
    _showcase(villages["qingshi"], people, keepers[0])
    db.session.flush()
    return credentials()


class CountyDesk:
    """What the county and township do in the villages' books: the LPR table and 贴息 policy, the 专项贷款's claim
    (filed by the village, reviewed by the township, approved, allocated and paid by the county), and the
    飞地抱团 project (contributions, the 2025 return declared at the year end and received in January). The
    vouchers it writes are drafts prepared by the county administrator, which each village reviews and posts."""

    def __init__(self, county: County, people: dict[str, User], keepers: dict[str, VillageBooks]):
        self.county, self.keepers = county, keepers
        self.admin = people["qs_admin"]
        self.township = {"东山镇": people["jg_dongshan"], "西河乡": people["jg_xihe"]}
        self.project = None
        self.claim = None

    def setup(self) -> None:
        for published_on, rate in LPR:
            loans.set_lpr(self.county, published_on, rate, user=self.admin)
        for year in (2025, 2026):
            loans.set_policy(self.county, year, fund=Decimal("5000000.00"), user=self.admin)
        qingshi = self.keepers["qingshi"]
        qingshi.loan = loans.create_loan(qingshi.org, special=True, user=qingshi.accountant, **LOAN)

    def _inbox(self, key: str, v: Voucher | None = None) -> None:
        """Hand the drafts the county just wrote into a village's books to its keeper."""
        k = self.keepers[key]
        drafts = [v] if v is not None else list(db.session.scalars(sa.select(Voucher).where(
            Voucher.organization_id == k.org.id, Voucher.status == VoucherStatus.DRAFT,
            Voucher.preparer_id == self.admin.id)))
        k.inbox += [d for d in drafts if d not in k.inbox]

    def month(self, y: int, m: int) -> None:
        if (y, m) == (2025, 3):
            self.project = joint.create_project(self.county, user=self.admin, **PROJECT)
            for key, amount in CONTRIBUTIONS:
                part = joint.add_participant(self.project, self.keepers[key].org, user=self.admin)
                joint.contribute(self.project, part, kind="cash", amount=amount, date=CONTRIBUTED_ON, user=self.admin)
                self._inbox(key)
        if (y, m) == (2025, 12):
            joint.declare_return(self.project, year=2025, profit=PROJECT_PROFIT_2025, date=dt.date(2025, 12, 31),
                                 user=self.admin)
            for key, _ in CONTRIBUTIONS:
                self._inbox(key)
        if (y, m) == (2026, 1):
            ret = db.session.scalar(sa.select(ProjectReturn).where(ProjectReturn.project_id == self.project.id,
                                                                   ProjectReturn.year == 2025))
            for line in ret.lines:
                joint.receive_return(line, date=dt.date(2026, 1, 15), user=self.admin)
            for key, _ in CONTRIBUTIONS:
                self._inbox(key)
        if (y, m) == (2026, 2):
            self._subsidy_claim()

    def _subsidy_claim(self) -> None:
        k = self.keepers["qingshi"]
        start, end = CLAIM_PERIOD
        calc, _ = loans.check_claim(k.org, k.loan, start=start, end=end)
        claim = loans.file_claim(k.org, k.loan, start=start, end=end, claimed=calc.eligible, user=k.accountant)
        loans.review_claim(claim, user=self.township[k.spec.township], approve=True)
        loans.approve_claim(claim, user=self.admin)
        loans.run_allocation(claim.policy, user=self.admin)
        v = loans.disburse_claim(claim, date=dt.date(2026, 2, 10), user=self.admin)
        self._inbox("qingshi", v)
        self.claim = claim


def _id_number(seq: int, birth: dt.date, male: bool) -> str:
    """A valid 18-digit 居民身份证号 (region 520203 六枝特区, the check digit computed) for demo people."""
    from stdnum.cn import ric

    order = (seq * 2 + (1 if male else 0)) % 1000
    base = f"520203{birth:%Y%m%d}{order:03d}"
    return base + ric.calc_check_digit(base + "0")


def _showcase(org: Organization, people: dict[str, User], keeper: "VillageBooks") -> None:
    """青石村 also gets a roster and an issued share register (the member login sees its own household) and a
    published 财务公开 sheet for 2026 Q2, so every part of the system has something to show."""
    from coop.documents import disclosure as disclosure_pdf
    from coop.services import disclosure

    heads = _roster(org, keeper)
    member_user = people["cy_qingshi"]
    heads[0].user_id = member_user.id  # 张建国 logs in to the member portal
    sheet = disclosure.create_sheet(org, kind="income_expense", start=dt.date(2026, 4, 1), end=dt.date(2026, 6, 30),
                                    user=keeper.accountant)
    disclosure.finance_group_review(sheet, user=people["lc_qingshi"], approve=True)
    disclosure.township_approve(sheet, user=people["jg_dongshan"])
    from flask import current_app

    # the PDF's QR code carries an absolute verify URL: outside a request, the configured public address
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        disclosure.publish(sheet, user=keeper.accountant, date=dt.date(2026, 7, 10), channel="村务公开栏",
                           render_pdf=lambda d: disclosure_pdf.render_sheet_pdf(d, accountant=keeper.accountant))


def _roster(org: Organization, keeper: "VillageBooks") -> list:
    """青石村's roster and issued share register (base date 2024-12-31); made once, when first needed (the 2025
    distribution plan needs the register on its record date), and the household heads returned."""
    from coop.models import Household, QuantificationPlan
    from coop.services import members, shares

    if db.session.scalar(sa.select(QuantificationPlan.id).where(QuantificationPlan.organization_id == org.id,
                                                               QuantificationPlan.status == QuantificationStatus.ISSUED)):
        return [h.head for h in db.session.scalars(sa.select(Household).where(Household.organization_id == org.id)
                                                   .order_by(Household.id))]
    rng = random.Random(99)
    confirmed_on, base = dt.date(2024, 12, 1), dt.date(2024, 12, 31)
    seq = 0
    heads = []
    for surname_head in keeper.spec.households:
        h = members.create_household(org)
        seq += 1
        head = members.add_member(h, name=surname_head, id_number=_id_number(seq, dt.date(1958 + seq * 3, 3, seq), True),
                                  relation="户主")
        heads.append(head)
        family = [head]
        for relation, given, male, year in (("配偶", "秀兰", False, 1962), ("子", "志明", True, 1988),
                                            ("女", "小燕", False, 1992))[: rng.randint(1, 3)]:
            seq += 1
            family.append(members.add_member(h, name=surname_head[0] + given, relation=relation,
                                             id_number=_id_number(seq, dt.date(year + seq % 5, 6, seq % 28 + 1), male)))
        for m in family:
            members.record_membership_event(m, "confirmed", date=confirmed_on, evidence="2024年第1号成员大会决议",
                                            user=keeper.accountant, today=TODAY)
    plan = shares.create_plan(org, name="2024年折股量化方案", base_date=base, net_assets=Decimal("1500000.00"),
                              rules={"population_units": "1", "labour_units_per_year": "0.1",
                                     "labour_cap_years": 30, "collective_ratio": "0.2"},
                              approval_ref="2024年第2号成员大会决议", user=keeper.accountant)
    for i, head in enumerate(heads):
        shares.set_member_input(plan, head, labour_start=dt.date(1978 + i * 2, 1, 1))
    shares.issue_plan(plan, user=keeper.accountant)
    return heads


#: (village, year) whose distribution is a plan made through the December sequence (RULES §4, §7)
PLAN_YEARS = {("qingshi", 2025)}


def _distribute_by_plan(keeper: "VillageBooks", y: int) -> None:
    """青石村 2025 through the December sequence: (1) 损益结转 as its own step, (2) the plan — drafted with the
    caps, discussed by the 党组织, materials and notice ≥ 10 days before the 成员代表大会, approved by the reviewer —
    posts on 31 December from the figures after the carry-over, (3) 结账 follows with the month. January pays the
    households through the 分红清册."""
    from coop.services import distribution

    org, acc = keeper.org, keeper.accountant
    _roster(org, keeper)
    closing.carry_over(org, y, user=acc, today=dt.date(y, 12, 31))
    yr = distribution.year_result(org, y)
    if yr.distributable <= 0 or yr.net_profit <= 0:
        return
    w = distribution.core.waterfall(yr, distribution.policy_for(org), distribution.core.Scenario())
    cadre = min(_yuan(yr.operating_profit * Decimal("0.15")), w.cadre_cap).quantize(Y, rounding=ROUND_DOWN)
    cadre = max(cadre, Decimal(0)) if keeper.spec.cun_she_he_yi else Decimal(0)
    left = w.distributable - w.reserve - cadre
    member = Decimal(int(min(yr.net_profit * Decimal("0.4"), left) // 100) * 100)  # whole hundreds
    cadres = [{"name": "王德明", "title": "党支部书记、村委会主任", "start": dt.date(2021, 1, 1), "weight": Decimal(100)},
              {"name": "刘春华", "title": "村委会委员", "start": dt.date(2021, 1, 1), "weight": Decimal(80)}]
    plan = distribution.create_plan(org, year=y, name=f"{y}年度收益分配方案", record_date=dt.date(y, 12, 31),
                                    member_pool=member, cadre_reward=cadre, cadres=cadres if cadre else [], user=acc)
    distribution.record_approval(plan, step="party_proposal", date=dt.date(y, 12, 2), reference="党支部委员会会议记录",
                                 user=acc)
    distribution.record_approval(plan, step="assembly", date=dt.date(y, 12, 20), reference=f"{y}年第3号成员代表大会决议",
                                 entitled=45, present=41, votes_for=39, materials_date=dt.date(y, 12, 5),
                                 notice_date=dt.date(y, 12, 8), user=acc)
    distribution.approve_plan(plan, method="assembly", user=keeper.reviewer)
    v = distribution.post_plan(plan, user=acc)
    for line in v.lines:  # the keeper's running balances (wages owed are paid in January from them)
        keeper.bal[line.account.code] = keeper.bal.get(line.account.code, Decimal(0)) + line.debit - line.credit
    keeper.dividend_plan = plan


def _pay_plan(keeper: "VillageBooks", date: dt.date) -> None:
    from coop.services import distribution

    plan, keeper.dividend_plan = keeper.dividend_plan, None
    v = distribution.pay_dividends(plan, household_ids=None, date=date, pay_from="10201",
                                   user=keeper.accountant)
    keeper._advance(v)
