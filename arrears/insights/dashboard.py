"""The dashboard (报表): every chart's numbers as plain, JSON-ready data, scoped like the staff pages.

One function, `dashboard_data`, reads each figure once: the ledger's sums through
`insights.snapshots` (stored month ends where fresh, live otherwise: always equal to the live
computation), the open cases' snapshot for aging and tiers, `kpis` for collectors and reasons. The
page draws charts and tables from the same dict and the workbook is written from it, so chart,
table and export cannot disagree. Amounts are two-decimal strings and rates four-decimal strings
(None when there is nothing to measure), labels are translated in the active language: the page's
JavaScript holds no words of its own.

The query count does not grow with the buildings or collectors in scope: every read is grouped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils.translation import gettext as _

from arrears.collection import selectors as collection_selectors
from arrears.collection.models import Bucket, Tier
from arrears.collection.selectors import NOT_RECORDED
from arrears.core import roles
from arrears.core.money import ZERO
from arrears.core.text import natural_key
from arrears.core.xlsx import MONEY, NUMBER, TEXT, Book
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Building, Unit
from arrears.insights import kpis, snapshots
from arrears.insights.kpis import Figures
from arrears.ledger import selectors as ledger_selectors

TREND_MONTHS = 24
FIELDS = tuple(field.name for field in fields(Figures))
# The cases that missed a recovery window: still open 6–10 days (7-day) and 11–30 days (15-day) after the due date.
RECOVERY_LISTS = {"recovery_7d": Bucket.D6_10, "recovery_15d": Bucket.D11_30}
# The heat map's colour steps of the 12-month arrears rate: the seeds' target is 5% or less, 10–20% is common.
HEAT_STEPS = (Decimal("0.02"), Decimal("0.05"), Decimal("0.10"), Decimal("0.15"), Decimal("0.20"))
COLLECTOR_RATES = ("period_collection_rate", "arrears_rate_amount", "recovery_7d", "recovery_15d", "success_rate",
                   "promise_kept_rate")


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _amount(value) -> str:
    return f"{kpis._money(value):.2f}"


def visible_buildings(user, *, community: int | None = None) -> list[Building]:
    """The buildings with units the staff pages show the user (`units_visible_to`'s grant), community first."""
    buildings = (Building.objects.filter(estate_selectors.scope_q(user, building="pk"))
                 .filter(Exists(Unit.objects.filter(building_id=OuterRef("pk"))))
                 .select_related("community"))
    if community is not None:
        buildings = buildings.filter(community_id=community)
    return sorted(buildings, key=lambda b: (natural_key(b.community.name), b.community_id, b.sort_key, b.pk))


def labels() -> dict[str, str]:
    """Every word the charts show, in the active language (the JavaScript has none of its own)."""
    return {
        "loading": _("加载中…"),
        "no_data": _("暂无数据"),
        "month": _("月份"),
        "trend": _("近 24 个月趋势"),
        "collection_rate": str(kpis.KPI_LABELS["period_collection_rate"]),
        "arrears_rate": str(kpis.KPI_LABELS["arrears_rate_amount"]),
        "recovered": _("回款金额"),
        "rate": _("比率"),
        "amount": _("金额（元）"),
        "recovery": _("7/15 天回收率与基准"),
        "benchmark": _("基准"),
        "actual": _("实际"),
        "window": _("回收窗口"),
        "aging": _("账龄分布"),
        "bucket": _("账龄"),
        "cases": _("案件数"),
        "principal": _("欠费本金"),
        "tiers": _("A/B/C 分类"),
        "tier": _("分类"),
        "heatmap": _("楼栋欠费率（金额）"),
        "community": _("小区"),
        "building": _("楼栋"),
        "year_due": _("12 个月应收"),
        "year_outstanding": _("12 个月未缴"),
        "heatmap_as_table": _("楼栋较多，手机上以下表显示。"),
        "collectors": _("催收员"),
        "collector": _("催收员"),
        "open_cases": _("在办案件"),
        "reasons": _("欠费原因"),
        "reason": _("原因 · 性质"),
        "list": _("查看列表"),
        "open_month": _("查看该月报表"),
    }


def dashboard_data(user, *, as_of: date, community: int | None = None) -> dict:
    """Every chart of the dashboard as of `as_of` over what the user may see (one community when given)."""
    buildings = visible_buildings(user, community=community)
    whole_company = user.is_superuser and community is None
    building_ids = None if whole_company else [b.pk for b in buildings]
    # The trend's last point is as_of with the cases' sums too (`snapshots.current`): read once, not twice.
    points = snapshots.monthly(building_ids, as_of=as_of, months=TREND_MONTHS)
    current = points[-1][1]
    whole = _sum(current.values())
    scope = {"community": community} if community is not None else {}
    cases = _open_case_groups(user, as_of=as_of, community=community)
    return {
        "as_of": as_of.isoformat(),
        "community": community,
        "labels": labels(),
        "kpis": _kpis(whole),
        "trend": _trend(points),
        "recovery": _recovery(whole, scope),
        "aging": _aging(cases, scope),
        "tiers": _tiers(cases, scope),
        "heatmap": _heatmap(buildings, current),
        "collectors": _collectors(as_of, building_ids, current, cases, scope),
        "collector_columns": [str(kpis.KPI_LABELS[key]) for key in COLLECTOR_RATES],
        "reasons": [{"label": row.label, "cases": row.cases, "principal": _amount(row.principal),
                     "list": {**scope, "reason": row.reason or NOT_RECORDED, "intent": row.intent or NOT_RECORDED}}
                    for row in kpis.arrears_by_reason(as_of, building_ids)],
        "incentives": _incentives(as_of, None if whole_company else buildings),
        "risk": _risk_reports(buildings),
    }


def _incentives(as_of: date, buildings: list[Building] | None) -> list[dict]:
    """Each incentive programme's uptake and cost this year up to `as_of` (seed 000's 激励政策, measured).

    Programmes belong to communities; the grants and owners counted are those of the buildings the
    user sees (all of a community's, or some), so a building-scoped user never sees the community's.
    """
    community_ids = building_ids = None
    if buildings is not None:
        community_ids = sorted({b.community_id for b in buildings})
        building_ids = [b.pk for b in buildings]
    rows = ledger_selectors.incentive_figures(start=date(as_of.year, 1, 1), end=as_of, community_ids=community_ids,
                                              building_ids=building_ids)
    return [{"name": row["name"], "kind": row["kind"], "grants": row["grants"], "units": row["units"],
             "eligible_units": row["eligible_units"], "cost": _amount(row["cost"]),
             "uptake": _rate(kpis.ratio(row["units"], row["eligible_units"]))} for row in rows]


RISK_ROWS = (("gradient_boosting", "梯度提升"), ("logistic_regression", "逻辑回归"), ("late_last_time", "上期逾期（朴素基准）"))


def _risk_reports(buildings: list[Building]) -> list[dict]:
    """The active early-warning model's hold-out report of each company in view, beside the naive baseline."""
    from arrears.insights import risk

    companies = sorted({b.community.company_id for b in buildings})
    reports = []
    for company_id in companies:
        report = risk.latest_report(company_id)
        if not report:
            continue
        metrics = report.get("metrics", {})
        reports.append({
            "algorithm": report.get("algorithm"), "cut_off": report.get("cut_off"), "trained_on": report.get("trained_on"),
            "train": report.get("train", {}), "test": report.get("test", {}),
            "rows": [{"label": _(label), "chosen": code == report.get("algorithm"), **metrics[code]}
                     for code, label in RISK_ROWS if code in metrics],
        })
    return reports


def _kpis(whole: Figures) -> list[dict]:
    """The headline figures, each with the sums it is the ratio of."""
    rows = []
    for key in ("period_collection_rate", "arrears_rate_amount", "arrears_rate_households", "recovery_7d",
                "recovery_15d", "success_rate", "promise_kept_rate", "satisfaction_rate"):
        rows.append({"key": key, "label": str(kpis.KPI_LABELS[key]), "kind": "rate", "value": _rate(getattr(whole, key))})
    parts = {
        "period_collection_rate": (_amount(whole.period_paid), _amount(whole.period_due)),
        "arrears_rate_amount": (_amount(whole.year_outstanding), _amount(whole.year_due)),
        "arrears_rate_households": (whole.households_owing, whole.households_billed),
        "recovery_7d": (_amount(whole.recovered_7d), _amount(whole.recovery_base)),
        "recovery_15d": (_amount(whole.recovered_15d), _amount(whole.recovery_base)),
        "success_rate": (whole.cases_paid, whole.cases_closed),
        "promise_kept_rate": (whole.promises_kept, whole.promises_kept + whole.promises_broken),
        "satisfaction_rate": (whole.satisfied + whole.survey_satisfied, whole.answers + whole.survey_answers),
    }
    for row in rows:
        row["part"], row["whole"] = parts[row["key"]]
    days = whole.avg_days_to_pay
    rows.append({"key": "avg_days_to_pay", "label": str(kpis.KPI_LABELS["avg_days_to_pay"]), "kind": "days",
                 "value": None if days is None else str(days)})
    rows.append({"key": "recovered", "label": str(kpis.KPI_LABELS["recovered"]), "kind": "money",
                 "value": _amount(whole.recovered)})
    return rows


def _sum(figures) -> Figures:
    """The buildings' figures added up in place (`kpis.total` makes a new object per building)."""
    result = Figures()
    for item in figures:
        result.add(item, FIELDS)
    return result


def _trend(points) -> list[dict]:
    """收缴率, 欠费率 and the month's recovery at each of the 24 month ends up to as_of (the last is as_of)."""
    rows = []
    for day, figures in points:
        whole = _sum(figures.values())
        rows.append({"as_of": day.isoformat(), "month": f"{day:%Y-%m}",
                       "period_collection_rate": _rate(whole.period_collection_rate),
                       "arrears_rate_amount": _rate(whole.arrears_rate_amount),
                       "recovered": _amount(whole.recovered)})
    return rows


def _recovery(whole: Figures, scope: dict) -> list[dict]:
    benchmarks = {"recovery_7d": kpis.BENCHMARK_7D, "recovery_15d": kpis.BENCHMARK_15D}
    recovered = {"recovery_7d": whole.recovered_7d, "recovery_15d": whole.recovered_15d}
    rows = []
    for key, benchmark in benchmarks.items():
        rate = getattr(whole, key)
        rows.append({"key": key, "label": str(kpis.KPI_LABELS[key]), "rate": _rate(rate), "benchmark": _rate(benchmark),
                     "met": None if rate is None else rate >= benchmark, "base": _amount(whole.recovery_base),
                     "recovered": _amount(recovered[key]), "list_label": str(Bucket(RECOVERY_LISTS[key]).label),
                     "list": {**scope, "bucket": RECOVERY_LISTS[key].value}})
    return rows


def _open_case_groups(user, *, as_of: date, community: int | None) -> list[dict]:
    """The arrears list's open cases (the daily run's snapshot) counted by bucket, tier and collector.

    The same selector as the list, so a bar's count is the count the list behind it shows."""
    found = collection_selectors.open_cases(user, collection_selectors.CaseFilters(community=community), today=as_of)
    return list(found.order_by().values("bucket", "tier", "collector_id")
                .annotate(cases=Count("id"), principal=Sum("principal")))


def _grouped(cases: list[dict], key: str) -> dict:
    counts: dict = defaultdict(lambda: [0, ZERO])
    for row in cases:
        counts[row[key]][0] += row["cases"]
        counts[row[key]][1] += kpis._money(row["principal"])
    return counts


def _aging(cases: list[dict], scope: dict) -> list[dict]:
    counts = _grouped(cases, "bucket")
    return [{"bucket": bucket.value, "label": str(bucket.label), "cases": counts[bucket.value][0],
             "principal": _amount(counts[bucket.value][1]), "list": {**scope, "bucket": bucket.value}}
            for bucket in Bucket]


def _tiers(cases: list[dict], scope: dict) -> list[dict]:
    counts = _grouped(cases, "tier")
    return [{"tier": tier.value, "label": str(tier.label), "cases": counts[tier.value][0],
             "principal": _amount(counts[tier.value][1]), "list": {**scope, "tier": tier.value}}
            for tier in Tier]


def _heatmap(buildings: list[Building], current: dict[int, Figures]) -> dict:
    """Community (rows) × building name (columns): each building's 12-month arrears rate by amount."""
    communities = list(dict.fromkeys(b.community.name for b in buildings))
    names = sorted({b.name for b in buildings}, key=natural_key)
    column = {name: i for i, name in enumerate(names)}
    row_of = {name: i for i, name in enumerate(communities)}
    cells = []
    for b in buildings:
        figures = current.get(b.pk, Figures())
        cells.append({"community_id": b.community_id, "community": b.community.name, "building_id": b.pk,
                      "building": b.name, "x": column[b.name], "y": row_of[b.community.name],
                      "rate": _rate(figures.arrears_rate_amount), "year_due": _amount(figures.year_due),
                      "year_outstanding": _amount(figures.year_outstanding),
                      "level": heat_level(_rate(figures.arrears_rate_amount)),
                      "list": {"community": b.community_id, "building": b.pk}})
    return {"communities": communities, "buildings": names, "cells": cells, "steps": [_rate(step) for step in HEAT_STEPS]}


def heat_level(rate: str | None) -> int | None:
    """The colour step of a rate (0 below 2% … 5 at 20% and more); None when unmeasured."""
    if rate is None:
        return None
    return sum(1 for step in HEAT_STEPS if Decimal(rate) >= step)


def _collectors(as_of: date, building_ids, current: dict[int, Figures], cases: list[dict], scope: dict) -> list[dict]:
    """Each collector's figures over the buildings and cases in scope; their open cases link to the list."""
    people = kpis.collector_figures(as_of, building_ids, by_building=current)
    open_cases = _grouped(cases, "collector_id")
    ids = set(people) | {pk for pk in open_cases if pk is not None}
    users = get_user_model().objects.in_bulk(sorted(ids))
    rows = []
    for pk in ids:
        figures = people.get(pk, Figures())
        count, principal = open_cases[pk] if pk in open_cases else (0, ZERO)
        rows.append({"id": pk, "name": roles.staff_label(users.get(pk)),
                     **{key: _rate(getattr(figures, key)) for key in COLLECTOR_RATES},
                     "recovered": _amount(figures.recovered), "open_cases": count, "principal": _amount(principal),
                     # the list's collector filter offers those with open cases in scope only
                     "list": {**scope, "collector": pk} if count else None})
    return sorted(rows, key=lambda row: (natural_key(row["name"]), row["id"]))


# -- the workbook ----------------------------------------------------------------------------------------


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def write_dashboard_xlsx(data: dict, path_or_file) -> None:
    """The dashboard as a workbook: one sheet per chart, the numbers of its table, in the page's language."""
    words = data["labels"]
    book = Book()
    sheet = book.sheet(_("指标"), [(_("指标"), TEXT, 20), (_("数值"), NUMBER, 12), (_("分子"), NUMBER, 16),
                                 (_("分母"), NUMBER, 16)])
    for row in data["kpis"]:
        sheet.append([row["label"], _number(row["value"]), _number_or_count(row.get("part")),
                      _number_or_count(row.get("whole"))])
    sheet = book.sheet(_("趋势"), [(words["month"], TEXT, 10), (_("截至日期"), TEXT, 12), (words["collection_rate"], NUMBER, 14),
                                 (words["arrears_rate"], NUMBER, 14), (words["recovered"], MONEY, 16)])
    for point in data["trend"]:
        sheet.append([point["month"], point["as_of"], _number(point["period_collection_rate"]),
                      _number(point["arrears_rate_amount"]), Decimal(point["recovered"])])
    sheet = book.sheet(_("回收率"), [(words["window"], TEXT, 14), (words["rate"], NUMBER, 10), (words["benchmark"], NUMBER, 10),
                                  (_("到期未缴本金"), MONEY, 16), (words["recovered"], MONEY, 16)])
    for row in data["recovery"]:
        sheet.append([row["label"], _number(row["rate"]), Decimal(row["benchmark"]), Decimal(row["base"]),
                      Decimal(row["recovered"])])
    for title, rows, name in ((_("账龄"), data["aging"], words["bucket"]), (_("分类"), data["tiers"], words["tier"])):
        sheet = book.sheet(title, [(name, TEXT, 16), (words["cases"], NUMBER, 10), (words["principal"], MONEY, 16)])
        for row in rows:
            sheet.append([row["label"], row["cases"], Decimal(row["principal"])])
        sheet.close()
    sheet = book.sheet(_("楼栋欠费率"), [(words["community"], TEXT, 16), (words["building"], TEXT, 12), (words["arrears_rate"], NUMBER, 14),
                                    (words["year_due"], MONEY, 16), (words["year_outstanding"], MONEY, 16)])
    for cell in data["heatmap"]["cells"]:
        sheet.append([cell["community"], cell["building"], _number(cell["rate"]), Decimal(cell["year_due"]),
                      Decimal(cell["year_outstanding"])])
    sheet = book.sheet(words["collectors"], [(words["collector"], TEXT, 14)]
                       + [(str(kpis.KPI_LABELS[key]), NUMBER, 12) for key in COLLECTOR_RATES]
                       + [(words["recovered"], MONEY, 14), (words["open_cases"], NUMBER, 10), (words["principal"], MONEY, 14)])
    for row in data["collectors"]:
        sheet.append([row["name"], *[_number(row[key]) for key in COLLECTOR_RATES], Decimal(row["recovered"]),
                      row["open_cases"], Decimal(row["principal"])])
    sheet = book.sheet(words["reasons"], [(words["reason"], TEXT, 24), (words["cases"], NUMBER, 10),
                                          (words["principal"], MONEY, 16)])
    for row in data["reasons"]:
        sheet.append([row["label"], row["cases"], Decimal(row["principal"])])
    sheet = book.sheet(_("优惠活动"), [(_("活动"), TEXT, 20), (_("发放笔数"), NUMBER, 10), (_("享受户数"), NUMBER, 10),
                                   (_("可享受户数"), NUMBER, 10), (_("参与率"), NUMBER, 10), (_("优惠金额"), MONEY, 14)])
    for row in data["incentives"]:
        sheet.append([row["name"], row["grants"], row["units"], row["eligible_units"], _number(row["uptake"]),
                      Decimal(row["cost"])])
    sheet = book.sheet(_("风险模型"), [(_("分界日"), TEXT, 12), (_("模型"), TEXT, 20), (_("在用"), TEXT, 6), ("ROC AUC", NUMBER, 10),
                                   (_("前 10% 精确率"), NUMBER, 12), (_("前 10% 召回率"), NUMBER, 12), ("Brier", NUMBER, 10)])
    for report in data["risk"]:
        for row in report["rows"]:
            sheet.append([report["cut_off"], str(row["label"]), "✓" if row["chosen"] else "",
                          *[_metric(row.get(key)) for key in ("auc", "top_decile_precision", "top_decile_recall", "brier")]])
    sheet.close()
    book.notes([(_("报表"), _("报表（仪表盘）")), (_("截至日期"), data["as_of"]),
                (_("格式"), _("比率为小数（0.0526 即 5.26%）；无可计算的数据时留空"))], title=_("说明"))
    book.save(path_or_file)


def _metric(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _number_or_count(value):
    if value is None or isinstance(value, int):
        return value
    return Decimal(value)

