"""The county's view over the API (RULES §16): villages by 经营收益 band with the 倍增 target, and the consolidated
statements (per organization, total, eliminations, consolidated). County admins: their county or one township;
township auditors: their township (township_id required)."""
from __future__ import annotations

from flask_smorest import Blueprint

from ..ledger import consolidation as core
from ..ledger.statements import BALANCE_SHEET_LAYOUT, INCOME_LAYOUT
from ..schemas.county import BandsSchema, ConsolidatedSchema, ScopeQuerySchema, StatementQuerySchema
from ..services import consolidation
from . import current_api_user
from .. import clock

URL = ""
blp = Blueprint("api_county", __name__, description="县级汇总 County view: income bands, consolidated statements")


@blp.route("/counties/<int:county_id>/bands")
@blp.arguments(ScopeQuerySchema, location="query")
@blp.response(200, BandsSchema)
def bands(args, county_id: int):
    """Every village's 经营收益 per year of the 倍增 window (base year … target year, up to `year`), its band and target."""
    sc = consolidation.scope_for(current_api_user(), county_id, args.get("township_id"))
    today = clock.today()
    target = consolidation.target_of(sc.county, today)
    r = consolidation.bands(sc, target, upto=args.get("year") or today.year)
    last = r.years[-1] if r.years else None
    return {
        "scope": sc.name, "base_year": target.base_year, "factor": target.factor, "target_year": target.target_year,
        "years": r.years, "counts": {str(y): r.counts(y) for y in r.years},
        "villages": [{"organization_id": v.org.id, "name": v.org.name, "township": v.org.township.name,
                      "profits": {str(y): p for y, p in v.profits.items()},
                      "closed": {str(y): c for y, c in v.closed.items()},
                      "band": v.band(last) if last else core.band_of(0), "target": v.target} for v in r.rows],
    }


@blp.route("/counties/<int:county_id>/consolidated")
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, ConsolidatedSchema)
def consolidated(args, county_id: int):
    """汇总资产负债表 (期末) or 汇总收益及收益分配表 (本年累计) to the month's end."""
    sc = consolidation.scope_for(current_api_user(), county_id, args.get("township_id"))
    today = clock.today()
    year = args.get("year") or today.year
    month = args.get("month") or (12 if year < today.year else today.month)
    c = consolidation.consolidate(sc, year, month)
    if args["statement"] == "balance":
        values, (total, elim, net), layout = c.end, c.balance_sheet(), BALANCE_SHEET_LAYOUT
    else:
        values, (total, elim, net), layout = c.income, c.income_statement(), INCOME_LAYOUT
    lines = [{"key": key, "label": label, "values": {str(o.id): values[o.id][key] for o in sc.orgs},
              "total": total[key], "eliminations": elim[key], "consolidated": net[key]}
             for key, label, kind, _ in layout if kind != "header"]
    return {"scope": sc.name, "statement": args["statement"], "year": year, "month": month,
            "organizations": {str(o.id): o.name for o in sc.orgs}, "closed": sorted(c.closed), "lines": lines}
