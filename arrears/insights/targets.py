"""Targets and their attainment: seed 000's 回款金额目标, 欠费率 ≤ 5%, 成功率 ≥ 90%, per community and collector.

A manager sets, for a month or a quarter, an amount to recover and two rate targets for a
community or for one collector in it; where none is set the seed's rates apply and the amount is
"not set". Attainment is read from the same KPIs as every report (`kpis.Figures`), per building
through `snapshots.current`, and summed:

- recovered: a month's is `recovered` (principal and late fee paid in the month on charges already
  overdue) as of the month's end, or as of today while it runs; a quarter's is the sum of its
  months', each as of its end (the current one as of today).
- arrears rate (金额) and success rate as of the period's end, or as of today while it runs.
- a collector's row: the ledger of the buildings assigned to them in the community
  (`CollectorAssignment`), and the cases assigned to them in the buildings shown
  (`kpis.collector_figures`, as the KPI report's collector rows).

Reads are a fixed number of queries whatever the number of collectors: one figures read per date
(one for a month, up to three for a quarter) and a handful of scope reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from arrears.collection.models import CollectorAssignment
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import ZERO, MoneyError, to_money
from arrears.core.xlsx import MONEY, NUMBER, TEXT, Book
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Building, Community, StaffScope
from arrears.insights import kpis, snapshots
from arrears.insights.kpis import Figures
from arrears.insights.models import (
    DEFAULT_ARREARS_RATE_MAX,
    DEFAULT_SUCCESS_RATE_MIN,
    QUARTER_MONTHS,
    PeriodKind,
    Target,
)
from arrears.ledger.rules import add_months

PERMISSION = "insights.change_target"
VIEW_PERMISSION = "insights.view_target"
RATE_PLACES = Decimal("0.0001")


# -- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: date

    @property
    def end(self) -> date:
        last = add_months(self.start, 3 if self.kind == PeriodKind.QUARTER else 1)
        return date.fromordinal(last.toordinal() - 1)

    def month_starts(self) -> list[date]:
        return [add_months(self.start, n) for n in range(3 if self.kind == PeriodKind.QUARTER else 1)]

    def measured_on(self, as_of: date) -> date:
        """The date the figures are read as of: the period's end once it is over, else `as_of`."""
        return min(self.end, as_of)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year} Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def shifted(self, steps: int) -> Period:
        return Period(self.kind, add_months(self.start, steps * (3 if self.kind == PeriodKind.QUARTER else 1)))


def period_of(kind: str, day: date) -> Period:
    """The month or quarter that holds `day`."""
    if kind not in PeriodKind.values:
        raise DomainError("周期只能是月度或季度", "the period is a month or a quarter", code="kind")
    if kind == PeriodKind.QUARTER:
        return Period(kind, date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
    return Period(kind, day.replace(day=1))


def check_period_start(kind: str, start: date) -> Period:
    """A target's period opens on the 1st of a month, and a quarter's in January, April, July or October."""
    period = period_of(kind, start)
    if start < kpis.EARLIEST:  # as the page and the report: no figures mean anything before it
        raise DomainError(f"周期不能早于 {kpis.EARLIEST.isoformat()}", f"a period cannot start before {kpis.EARLIEST.isoformat()}",
                          code="period_start")
    if start.day != 1:
        raise DomainError("周期开始日必须是某月 1 日", "a period starts on the 1st of a month", code="period_start")
    if kind == PeriodKind.QUARTER and start.month not in QUARTER_MONTHS:
        raise DomainError("季度开始日必须是 1、4、7 或 10 月 1 日",
                          "a quarter starts on the 1st of January, April, July or October", code="period_start")
    return period


# -- scope -----------------------------------------------------------------------------------------


def may_set(user) -> bool:
    return user.is_active and user.has_perm(PERMISSION)


def communities_for(user):
    """The communities whose targets a manager sets and sees: those granted whole (every one for a superuser).

    A building-only grant is not enough: a community's target answers for all its buildings.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.order_by("name", "pk")
    whole = StaffScope.objects.filter(user_id=user.pk, building__isnull=True).values("community_id")
    return Community.objects.filter(pk__in=whole).order_by("name", "pk")


def collector_choices(community_ids):
    """Active collectors with scope in the communities, with the community they may get a target in."""
    return (StaffScope.objects.filter(community_id__in=list(community_ids), user__is_active=True,
                                      user__groups__name=roles.COLLECTOR)
            .select_related("user").order_by("community_id", "user__username").distinct())


# -- writes ----------------------------------------------------------------------------------------


def _rate(value, *, default: Decimal, zh: str, en: str) -> Decimal:
    if value is None or value == "":
        return default
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or rate < 0 or rate > 1:
        raise DomainError(f"{zh}必须在 0 到 1 之间（0.05 即 5%）", f"the {en} must be between 0 and 1 (0.05 is 5%)",
                          code="rate")
    if rate != rate.quantize(RATE_PLACES):
        raise DomainError(f"{zh}最多四位小数（0.01%）", f"the {en} has at most four decimals (0.01%)", code="rate")
    return rate.quantize(RATE_PLACES)


def _amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = to_money(value)
    except MoneyError as error:
        raise DomainError("回款目标不是有效金额（最多两位小数）", "the amount to recover is not an amount (two decimals at most)",
                          code="amount") from error
    if amount < 0:
        raise DomainError("回款目标不能为负数", "the amount to recover cannot be negative", code="amount")
    return amount


def _values(target: Target | None) -> dict | None:
    if target is None:
        return None
    return {"amount": None if target.amount is None else f"{target.amount:.2f}",
            "arrears_rate_max": f"{target.arrears_rate_max:.4f}", "success_rate_min": f"{target.success_rate_min:.4f}"}


def check_target(*, staff, community: Community, kind: str, period_start: date, amount=None, collector=None,
                 arrears_rate_max=None, success_rate_min=None) -> tuple[Period, dict]:
    """Refuse what may not be set; return the period and the values as they will be stored."""
    if not may_set(staff):
        raise DomainError("只有经理可以设定目标", "only a manager may set targets", code="permission")
    if not communities_for(staff).filter(pk=community.pk).exists():
        raise DomainError("该小区不在您的管辖范围内", "this community is outside your scope", code="scope")
    if collector is not None and not collector_choices([community.pk]).filter(user_id=collector.pk).exists():
        raise DomainError("所选员工不是本小区的催收员", "the chosen user is not a collector of this community", code="collector")
    period = check_period_start(kind, period_start)
    return period, {
        "amount": _amount(amount),
        "arrears_rate_max": _rate(arrears_rate_max, default=DEFAULT_ARREARS_RATE_MAX, zh="欠费率上限",
                                  en="arrears rate limit"),
        "success_rate_min": _rate(success_rate_min, default=DEFAULT_SUCCESS_RATE_MIN, zh="成功率下限",
                                  en="success rate floor"),
    }


def set_target(*, staff, community: Community, kind: str, period_start: date, amount=None, collector=None,
               arrears_rate_max=None, success_rate_min=None) -> Target:
    """Create or change a target; a change is an audit event with the old and the new values.

    Only a manager, only in a community of their scope, only for a collector of that community.
    Setting the same values again changes nothing and logs nothing.
    """
    period, wanted = check_target(staff=staff, community=community, kind=kind, period_start=period_start, amount=amount,
                                  collector=collector, arrears_rate_max=arrears_rate_max,
                                  success_rate_min=success_rate_min)
    key = {"community": community, "collector": collector, "kind": kind, "period_start": period.start}
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _write(staff, key, wanted)
        except IntegrityError:
            if attempt:  # the same target created by someone else at the same moment: the second try updates it
                raise
    raise AssertionError("unreachable")


def _write(staff, key: dict, wanted: dict) -> Target:
    current = Target.objects.select_for_update().filter(**key).order_by("pk").first()
    old = _values(current)
    if current is not None and all(getattr(current, name) == value for name, value in wanted.items()):
        return current
    target = current or Target(**key)
    for name, value in wanted.items():
        setattr(target, name, value)
    target.set_by, target.set_at = staff, timezone.now()
    target.save()
    record(actor=staff, action="insights.target_set", community_id=key["community"].pk, target=target.pk,
           collector=getattr(key["collector"], "pk", None), kind=key["kind"], period_start=key["period_start"].isoformat(),
           old=old, new=_values(target))
    return target


# -- attainment ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One community's or one collector's targets and what they reached."""

    community_id: int
    community: str
    collector_id: int | None
    collector: str
    period: Period
    measured_on: date
    target: Target | None
    recovered: Decimal
    arrears_rate: Decimal | None
    success_rate: Decimal | None

    @property
    def amount(self) -> Decimal | None:
        return self.target.amount if self.target is not None else None

    @property
    def arrears_rate_max(self) -> Decimal:
        return self.target.arrears_rate_max if self.target is not None else DEFAULT_ARREARS_RATE_MAX

    @property
    def success_rate_min(self) -> Decimal:
        return self.target.success_rate_min if self.target is not None else DEFAULT_SUCCESS_RATE_MIN

    @property
    def share(self) -> Decimal | None:
        """Recovered over the amount to recover (four decimals); None when no amount is set (or it is 0)."""
        return kpis.ratio(self.recovered, self.amount) if self.amount else None

    @property
    def percent(self) -> Decimal | None:
        share = self.share
        return None if share is None else (share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def bar(self) -> int:
        """The progress bar's width in percent, 0 to 100 (the text beside it says how far past 100%)."""
        if self.amount is not None and not self.amount:
            return 100
        percent = self.percent
        return 0 if percent is None else int(min(Decimal(100), percent))

    @property
    def amount_met(self) -> bool | None:
        return None if self.amount is None else self.recovered >= self.amount

    @property
    def arrears_met(self) -> bool | None:
        return None if self.arrears_rate is None else self.arrears_rate <= self.arrears_rate_max

    @property
    def success_met(self) -> bool | None:
        return None if self.success_rate is None else self.success_rate >= self.success_rate_min

    @property
    def is_community(self) -> bool:
        return self.collector_id is None


def _month_dates(period: Period, measured_on: date) -> list[date]:
    """The dates each month's recovery is read as of: its end, or `measured_on` for the running month."""
    dates = []
    for start in period.month_starts():
        if start > measured_on:
            break
        dates.append(min(kpis.month_end(start.year, start.month), measured_on))
    return dates


def attainment(user, *, as_of: date, kind: str = PeriodKind.MONTH, community=None,
               period_start: date | None = None) -> list[Row]:
    """The targets and attainment the user may see for the period holding `period_start` (else `as_of`).

    A manager (insights.change_target) gets every community of their scope and each collector
    assigned in it; anyone else with insights.view_target their own rows only. `community`
    (an id or a Community) narrows to one; one outside the user's scope is refused.
    """
    period = period_of(kind, period_start or as_of)
    if period.start > as_of:
        raise DomainError("该周期尚未开始", "this period has not started yet", code="period")
    measured_on = period.measured_on(as_of)
    manager = may_set(user)
    if not manager and not user.has_perm(VIEW_PERMISSION):
        return []
    communities = communities_for(user) if manager else estate_selectors.communities_visible_to(user)
    if community is not None:
        community_id = getattr(community, "pk", community)
        communities = communities.filter(pk=community_id)
    names = dict(communities.values_list("pk", "name"))
    if community is not None and not names:
        raise DomainError("该小区不在您的管辖范围内", "this community is outside your scope", code="scope")
    assignments = CollectorAssignment.objects.filter(community_id__in=list(names)).order_by()
    targets = Target.objects.filter(kind=kind, period_start=period.start, community_id__in=list(names))
    if manager:
        buildings = dict(Building.objects.filter(community_id__in=list(names)).values_list("pk", "community_id"))
    else:
        assignments = assignments.filter(user_id=user.pk)
        targets = targets.filter(collector_id=user.pk)
    pairs: dict[tuple[int, int], list[int]] = defaultdict(list)  # (community, collector) → buildings
    for user_id, building_id, community_id in assignments.values_list("user_id", "building_id", "community_id"):
        pairs[(community_id, user_id)].append(building_id)
    if not manager:
        buildings = {building_id: community_id for (community_id, _), ids in pairs.items() for building_id in ids}
    by_key = {(t.community_id, t.collector_id): t for t in targets}
    for community_id, collector_id in by_key:
        if collector_id is not None:
            pairs.setdefault((community_id, collector_id), [])
    people = get_user_model().objects.in_bulk([user_id for _, user_id in pairs])

    building_ids = sorted(buildings)
    dates = _month_dates(period, measured_on)
    read = {day: snapshots.current(building_ids, as_of=day) for day in dates}
    recovered: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for figures in read.values():
        for building_id, figure in figures.items():
            recovered[building_id] += figure.recovered
    at_end = read[measured_on]
    cases = kpis.collector_figures(measured_on, building_ids, by_building=at_end) if pairs else {}

    rows: list[Row] = []
    for community_id in sorted(names, key=lambda pk: (names[pk], pk)):
        if manager:
            mine = [pk for pk, owner in buildings.items() if owner == community_id]
            figures = kpis.total(at_end.get(pk, Figures()) for pk in mine)
            rows.append(Row(community_id, names[community_id], None, "", period, measured_on,
                            by_key.get((community_id, None)), sum((recovered[pk] for pk in mine), ZERO),
                            figures.arrears_rate_amount, figures.success_rate))
        collectors = []
        for (owner, user_id), ids in pairs.items():
            if owner != community_id:
                continue
            figures = Figures()
            for pk in ids:
                figures.add(at_end.get(pk, Figures()), kpis.LEDGER_FIELDS)
            figures.add(cases.get(user_id, Figures()), kpis.CASE_FIELDS)
            collectors.append(Row(community_id, names[community_id], user_id, roles.staff_label(people.get(user_id)),
                                  period, measured_on, by_key.get((community_id, user_id)),
                                  sum((recovered[pk] for pk in ids), ZERO), figures.arrears_rate_amount,
                                  figures.success_rate))
        rows.extend(sorted(collectors, key=lambda row: (row.collector, row.collector_id)))
    return rows


# -- the performance review's workbook ---------------------------------------------------------------


MET_TEXT = {True: "达标", False: "未达标", None: "无数据"}


def _fraction(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def write_review_xlsx(rows: list[Row], *, period: Period, as_of: date, path_or_file) -> None:
    """月度（季度）绩效考核表: each row as the page shows it, and how each figure is counted."""
    book = Book()
    title = "月度绩效考核表" if period.kind == PeriodKind.MONTH else "季度绩效考核表"
    sheet = book.sheet(title, [
        ("小区", TEXT, 16), ("催收员", TEXT, 14), ("周期", TEXT, 10), ("回款目标", MONEY, 14), ("已回款", MONEY, 14),
        ("完成率", NUMBER, 10), ("回款达标", TEXT, 10), ("欠费率", NUMBER, 10), ("欠费率上限", NUMBER, 10),
        ("欠费率达标", TEXT, 10), ("成功率", NUMBER, 10), ("成功率下限", NUMBER, 10), ("成功率达标", TEXT, 10),
    ])
    for row in rows:
        sheet.append([
            row.community, row.collector or "（小区）", period.label,
            row.amount, row.recovered, _fraction(row.share),
            MET_TEXT[row.amount_met] if row.amount is not None else "未设定",
            _fraction(row.arrears_rate), _fraction(row.arrears_rate_max), MET_TEXT[row.arrears_met],
            _fraction(row.success_rate), _fraction(row.success_rate_min), MET_TEXT[row.success_met],
        ])
    book.notes([
        ("报表", title),
        ("周期", f"{period.label}（{period.start.isoformat()} 至 {period.end.isoformat()}）"),
        ("截至日期", period.measured_on(as_of).isoformat()),
        ("已回款", "周期内各月 1 日至月末（本月至截至日），缴入已过到期日应收的本金与违约金"),
        ("完成率", "已回款 ÷ 回款目标；未设定目标时回款目标与完成率留空，回款达标为“未设定”"),
        ("欠费率", "截至日前 12 个月内到期的应收，截至日未缴本金 ÷ 其金额；不高于上限为达标"),
        ("成功率", "截至日前 90 天内结案的案件中，因缴清或分期完成而结案的比例；不低于下限为达标"),
        ("默认目标", "未设定时欠费率上限 5%、成功率下限 90%，回款目标显示“未设定”"),
        ("催收员", "楼栋按“楼栋催收员”分配计入；案件按经办催收员计入"),
        ("格式", "比率为小数（0.0526 即 5.26%）；无可计算的数据时留空"),
    ])
    book.save(path_or_file)
