"""Counties, townships and organizations."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from stdnum.cn import uscc

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.models import County, Organization, Township
from coop.models.org import ORG_KINDS
from coop.services.accounts import seed_chart


#: GB 32100-2015: the first two characters (登记管理部门 and 机构类别) may be letters — 农村集体经济组织 codes start
#: with "N2" — which stdnum.cn.uscc.validate does not allow; its check-digit function handles them
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def validate_uscc(value: str | None) -> str | None:
    """Compact and check a 统一社会信用代码; raises ValidationFailed at field `uscc`."""
    if value is None or not str(value).strip():
        return None
    number = uscc.compact(str(value).strip().upper())
    if len(number) != 18:
        reason = "长度应为18位"
    elif any(c not in _USCC_ALPHABET for c in number) or not number[2:8].isdigit():
        reason = "包含不允许的字符或行政区划码不正确"
    elif number[-1] != uscc.calc_check_digit(number):
        reason = "校验码不正确"
    else:
        return number
    raise ValidationFailed.field("uscc", f"统一社会信用代码无效：{reason}")


def create_county(name: str, **defaults) -> County:
    """A county; `code_scheme` ("2-2-2" by default, "3-3" for legacy books) fixes how 明细科目 codes nest."""
    from coop.ledger import codes

    if "code_scheme" in defaults:
        key = defaults["code_scheme"] or codes.DEFAULT_KEY
        if key not in codes.CHOICES:
            raise ValidationFailed.field("code_scheme", f"科目编码方案应为 {'、'.join(codes.CHOICES)} 之一")
        defaults["code_scheme"] = key
    county = County(name=name, **defaults)
    db.session.add(county)
    db.session.flush()
    return county


def create_township(county: County, name: str) -> Township:
    t = Township(county=county, name=name)
    db.session.add(t)
    db.session.flush()
    return t


def create_organization(
    township: Township,
    *,
    name: str,
    kind: str = "village_shareholding",
    books_start_year: int,
    books_start_month: int = 1,
    cun_she_he_yi: bool = False,
    uscc: str | None = None,
    legal_representative: str | None = None,
    **charter,
) -> Organization:
    """Create an organization with the 42-account chart and the required 322 details."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["请填写组织名称"]
    if kind not in ORG_KINDS:
        errors["kind"] = ["组织类型不正确"]
    if not 1 <= int(books_start_month) <= 12:
        errors["books_start_month"] = ["月份应在1到12之间"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    code = validate_uscc(uscc)
    if code and db.session.scalar(sa.select(Organization.id).where(Organization.uscc == code)):
        raise ValidationFailed.field("uscc", "该统一社会信用代码已被其他组织使用")
    org = Organization(
        township=township,
        name=name.strip(),
        kind=kind,
        books_start_year=int(books_start_year),
        books_start_month=int(books_start_month),
        cun_she_he_yi=bool(cun_she_he_yi),
        uscc=code,
        legal_representative=legal_representative,
        **charter,
    )
    db.session.add(org)
    db.session.flush()
    seed_chart(org)
    return org


def update_charter(org: Organization, **params) -> None:
    """Set 章程 parameters; None falls back to the county default."""
    for key in ("reserve_rate", "cadre_reward_cap", "collective_share_ratio", "buyback_limit"):
        if key in params and params[key] is not None and not (Decimal(0) <= Decimal(params[key]) <= 1):
            raise ValidationFailed.field(key, "比例应在0到100%之间")
    for key, value in params.items():
        setattr(org, key, value)
    db.session.flush()
