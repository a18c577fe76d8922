"""`arrears report kpis`: the KPIs as of a date, for the whole, and by community, building or collector."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.contrib.auth import get_user_model

from arrears.core import roles
from arrears.core.xlsx import MONEY, NUMBER, TEXT, Book
from arrears.estate.models import Building
from arrears.insights import kpis
from arrears.insights.kpis import Figures

RATE_COLUMNS = kpis.RATE_NAMES + ("avg_days_to_pay",)


def building_ids_of(community_ids) -> list[int] | None:
    if community_ids is None:
        return None
    return list(Building.objects.filter(community_id__in=list(community_ids)).values_list("pk", flat=True))


def grouped(as_of: date, by: str, building_ids=None, *, by_building: dict[int, Figures] | None = None
            ) -> list[tuple[int, str, Figures]]:
    """(id, label, figures) per community, building or collector, in a stable order."""
    by_building = by_building if by_building is not None else kpis.building_figures(as_of, building_ids)
    if by == "collector":
        people = kpis.collector_figures(as_of, building_ids, by_building=by_building)
        users = get_user_model().objects.in_bulk(list(people))
        rows = [(user_id, roles.staff_label(users.get(user_id)), figures) for user_id, figures in people.items()]
        return sorted(rows, key=lambda row: (row[1], row[0]))
    buildings = Building.objects.select_related("community")
    if building_ids is not None:
        buildings = buildings.filter(pk__in=list(building_ids))
    if by == "building":
        return [(b.pk, f"{b.community.name} {b.name}", by_building.get(b.pk, Figures()))
                for b in sorted(buildings, key=lambda b: (b.community.name, b.sort_key, b.pk))]
    sums: dict[int, Figures] = defaultdict(Figures)
    names = {}
    for b in buildings:
        names[b.community_id] = b.community.name
        sums[b.community_id] = sums[b.community_id] + by_building.get(b.pk, Figures())
    return sorted(((pk, names[pk], sums[pk]) for pk in sums), key=lambda row: (row[1], row[0]))


def kpi_report(as_of: date, *, community_ids=None, by: str | None = None) -> dict:
    """The KPIs of the whole scope (and of each group when `by` is given), and arrears by reason."""
    building_ids = building_ids_of(community_ids)
    by_building = kpis.building_figures(as_of, building_ids)
    whole = kpis.total(by_building.values())
    report = {
        "date": as_of.isoformat(),
        "scope": {"communities": sorted(community_ids) if community_ids is not None else "all"},
        "kpis": whole.as_dict(),
        "arrears_by_reason": [row.as_dict() for row in kpis.arrears_by_reason(as_of, building_ids)],
        "benchmarks": {"recovery_7d": str(kpis.BENCHMARK_7D), "recovery_15d": str(kpis.BENCHMARK_15D)},
    }
    if by:
        report["by"] = by
        report["rows"] = [{"id": pk, "name": label, **figures.as_dict()}
                          for pk, label, figures in grouped(as_of, by, building_ids, by_building=by_building)]
    return report


def _rate_cells(data: dict) -> list:
    return [float(data[name]) if data[name] is not None else None for name in RATE_COLUMNS]


def write_kpi_xlsx(report: dict, path_or_file) -> None:
    """The report as a workbook: the KPIs, each group's row, reasons, and how each figure is counted."""
    from decimal import Decimal

    book = Book()
    columns = [("范围", TEXT, 24)] + [(str(kpis.KPI_LABELS[name]), NUMBER, 12) for name in RATE_COLUMNS] + [
        ("本月回款", MONEY, 14), ("12个月应收", MONEY, 14), ("12个月未缴", MONEY, 14)]
    sheet = book.sheet("指标", columns)
    rows = [("合计" if report.get("by") else "全部", report["kpis"])] + [(row["name"], row) for row in report.get("rows", [])]
    for label, data in rows:
        figures = data["figures"]
        sheet.append([label, *_rate_cells(data), Decimal(figures["recovered"]), Decimal(figures["year_due"]),
                      Decimal(figures["year_outstanding"])])
    reasons = book.sheet("欠费原因", [("原因 · 性质", TEXT, 24), ("案件数", NUMBER, 10), ("欠费本金", MONEY, 14)])
    for row in report["arrears_by_reason"]:
        reasons.append([row["label"], row["cases"], Decimal(row["principal"])])
    reasons.close()
    book.notes([
        ("报表", "经营指标 / KPIs"),
        ("截至日期", report["date"]),
        ("本期收缴率", "本月 1 日至截至日到期的应收，截至日前（按起息日）已缴本金 ÷ 其金额"),
        ("欠费率（金额）", "截至日前 12 个月内到期的应收，截至日未缴本金 ÷ 其金额"),
        ("欠费率（户数）", "12 个月内有应收的业主-房屋中，截至日有逾期本金的户数 ÷ 户数"),
        ("7/15 天回收率", "截至日前 105 至 16 天到期的应收，到期日结束时未缴本金中，到期后 7/15 天内缴纳的比例（基准 60%/80%）"),
        ("催收成功率", "截至日前 90 天内结案的案件中，因缴清或分期完成而结案的比例"),
        ("承诺兑现率", "截至日前 90 天内有结果的承诺中，兑现的比例"),
        ("满意率", "截至日前 90 天内回访与业主端评价（物业服务）中“满意”的比例"),
        ("平均缴费天数", "截至日前 90 天内缴纳的本金，按金额加权的到期日至起息日天数（按时为 0）"),
        ("本月回款", "本月 1 日至截至日，缴入已过到期日应收的本金与违约金"),
        ("格式", "比率为小数（0.0526 即 5.26%）；无可计算的数据时留空"),
    ])
    book.save(path_or_file)
