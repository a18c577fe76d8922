"""The figures a property company is judged by (seed 000, seed 003), defined once.

Every KPI is a ratio of sums that add up across buildings, so the live read groups by building in
a handful of set-based queries and a community, a collector's buildings or the company is the sum
of its buildings' `Figures`; the dashboard's monthly snapshots store the same sums
(`insights.snapshots`). Windows, all as of a date D (value dates, decision dates: never write
times), each documented in the README beside its formula:

- 本期收缴率 period_collection_rate: principal paid by D on charges due from the 1st of D's month
  to D, over their amount.
- 欠费率（金额） arrears_rate_amount: principal left on D of the charges due in the 12 months up
  to D (due date after D less 12 months, up to D), over their amount.
- 欠费率（户数） arrears_rate_households: of the owner-units billed a charge due in those 12 months,
  the share with principal overdue on D (on any charge: the ledger's one definition of arrears).
- recovery_7d / recovery_15d (seed 003): charges due from D−105 to D−16; of the principal still
  unpaid at the end of the due date, the share paid in the 7 / 15 days after it.
- 催收成功率 success_rate: cases closed in the 90 days up to D because they were paid (in full, or
  by a completed plan), over all cases closed then. promise_kept_rate: kept over kept and broken
  promises resolved then. avg_days_to_pay: principal paid then, weighted by amount, days from the
  due date to the value date (0 when paid in time). satisfaction_rate: 满意 among the follow-up
  answers and the portal surveys' service answers given then.
- recovered: principal and late fee paid from the 1st of D's month to D on charges already past
  their due date when paid: the month's recovery that targets are set against.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.collection.models import (
    Case,
    CaseStatus,
    CloseReason,
    CollectorAssignment,
    Intent,
    Promise,
    PromiseStatus,
    Reason,
    SatisfactionRating,
)
from arrears.core.money import CENT, ZERO
from arrears.estate.models import Satisfaction, Unit
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Allocation, Charge, Component, Waiver, WaiverStatus
from arrears.ledger.rules import add_months
from arrears.portal.models import SurveyResponse

RATE = Decimal("0.0001")
# The figures look back up to 24 months and 105 days; before this day they mean nothing and the
# month arithmetic would run below year 1.
EARLIEST = date(2000, 1, 1)
WINDOW_DAYS = 90  # success, promises, days to pay and satisfaction look back this far
RECOVERY_FROM, RECOVERY_TO = 105, 16  # seed 003's window: every charge in it has had its 15 days
BENCHMARK_7D, BENCHMARK_15D = Decimal("0.60"), Decimal("0.80")  # seed 003: 60% in 7 days, 80% in 15
GROUPINGS = ("community", "building", "collector")

MONEY_FIELDS = ("period_due", "period_paid", "year_due", "year_outstanding", "recovery_base", "recovered_7d",
                "recovered_15d", "recovered", "paid_for_days", "paid_day_weight")
COUNT_FIELDS = ("households_billed", "households_owing", "cases_closed", "cases_paid", "promises_kept",
                "promises_broken", "answers", "satisfied", "survey_answers", "survey_satisfied")
LEDGER_FIELDS = MONEY_FIELDS + ("households_billed", "households_owing", "survey_answers", "survey_satisfied")
CASE_FIELDS = ("cases_closed", "cases_paid", "promises_kept", "promises_broken", "answers", "satisfied")


def ratio(part, whole) -> Decimal | None:
    """A rate to four decimals, half up; None when there is nothing to measure (never a false 0%)."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """The additive sums behind every KPI: a group's figures are the sum of its buildings'."""

    period_due: Decimal = ZERO
    period_paid: Decimal = ZERO
    year_due: Decimal = ZERO
    year_outstanding: Decimal = ZERO
    households_billed: int = 0
    households_owing: int = 0
    recovery_base: Decimal = ZERO
    recovered_7d: Decimal = ZERO
    recovered_15d: Decimal = ZERO
    recovered: Decimal = ZERO
    paid_for_days: Decimal = ZERO
    paid_day_weight: Decimal = ZERO
    cases_closed: int = 0
    cases_paid: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    answers: int = 0  # follow-up calls after payment (by the case)
    satisfied: int = 0
    survey_answers: int = 0  # the portal's survey after payment (by the payment's building)
    survey_satisfied: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def add(self, other: Figures, names) -> None:
        for name in names:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def period_collection_rate(self) -> Decimal | None:
        return ratio(self.period_paid, self.period_due)

    @property
    def arrears_rate_amount(self) -> Decimal | None:
        return ratio(self.year_outstanding, self.year_due)

    @property
    def arrears_rate_households(self) -> Decimal | None:
        return ratio(self.households_owing, self.households_billed)

    @property
    def recovery_7d(self) -> Decimal | None:
        return ratio(self.recovered_7d, self.recovery_base)

    @property
    def recovery_15d(self) -> Decimal | None:
        return ratio(self.recovered_15d, self.recovery_base)

    @property
    def success_rate(self) -> Decimal | None:
        return ratio(self.cases_paid, self.cases_closed)

    @property
    def promise_kept_rate(self) -> Decimal | None:
        return ratio(self.promises_kept, self.promises_kept + self.promises_broken)

    @property
    def avg_days_to_pay(self) -> Decimal | None:
        if not self.paid_for_days or self.paid_for_days <= 0:
            return None
        return (self.paid_day_weight / self.paid_for_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return ratio(self.satisfied + self.survey_satisfied, self.answers + self.survey_answers)

    def as_dict(self) -> dict:
        """Amounts as two-decimal strings, rates as four-decimal strings (None when unmeasured)."""
        rates = {name: _text(getattr(self, name)) for name in RATE_NAMES}
        rates["avg_days_to_pay"] = _text(self.avg_days_to_pay)
        figures = {name: f"{getattr(self, name).quantize(CENT, rounding=ROUND_HALF_UP):.2f}" for name in MONEY_FIELDS}
        figures.update({name: getattr(self, name) for name in COUNT_FIELDS})
        return {**rates, "figures": figures}


RATE_NAMES = ("period_collection_rate", "arrears_rate_amount", "arrears_rate_households", "recovery_7d",
              "recovery_15d", "success_rate", "promise_kept_rate", "satisfaction_rate")
KPI_LABELS = {
    "period_collection_rate": _("本期收缴率"),
    "arrears_rate_amount": _("欠费率（金额）"),
    "arrears_rate_households": _("欠费率（户数）"),
    "recovery_7d": _("7 天回收率"),
    "recovery_15d": _("15 天回收率"),
    "success_rate": _("催收成功率"),
    "promise_kept_rate": _("承诺兑现率"),
    "satisfaction_rate": _("满意率"),
    "avg_days_to_pay": _("平均缴费天数"),
    "recovered": _("本月回款"),
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# -- reading the ledger ------------------------------------------------------------------------------


def _money(value) -> Decimal:
    """A SQL sum as money: SQLite returns floats, PostgreSQL exact numerics; both end at the fen."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _plus(column: str, days: int) -> str:
    if connection.vendor == "sqlite":
        return f"date({column}, '{days:+d} days')"
    return f"({column} + {days})"


def _param(value):
    return value.isoformat() if connection.vendor == "sqlite" and isinstance(value, date) else value


def _building_filter(building_ids, params: list, column: str = "u.building_id") -> str:
    if building_ids is None:
        return ""
    return " AND " + ledger_selectors._in_ids(connection, column, sorted(set(building_ids)) or [0], params)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _charge_sums_sql(as_of: date, building_ids) -> tuple[str, list]:
    """One statement: the window's charges, their principal allocations and approved principal waivers
    as signed rows, summed straight into each building's figures (no per-charge grouping to spill)."""
    year_after = add_months(as_of, -12)
    month_start = as_of.replace(day=1)
    recovery_from, recovery_to = as_of - timedelta(days=RECOVERY_FROM), as_of - timedelta(days=RECOVERY_TO)
    window = "c.due_date > %s AND c.due_date <= %s"
    params: list = []
    parts = []
    for source, select, extra in (
        ("", "'c' AS kind, c.amount AS amount, c.due_date AS on_date", ""),
        (f"JOIN {_table(Allocation)} a ON a.charge_id = c.id", "'a', a.amount, a.value_date",
         f" AND a.component = '{Component.PRINCIPAL}' AND a.value_date <= %s"),
        (f"JOIN {_table(Waiver)} w ON w.charge_id = c.id", "'w', w.amount, w.decided_on",
         f" AND w.component = '{Component.PRINCIPAL}' AND w.status = '{WaiverStatus.APPROVED}' AND w.decided_on <= %s"),
    ):
        params += [_param(year_after), _param(as_of)]
        scope = _building_filter(building_ids, params)
        if extra:
            params.append(_param(as_of))
        parts.append(f"SELECT u.building_id, c.due_date, {select} FROM {_table(Charge)} c {source} "
                     f"JOIN {_table(Unit)} u ON u.id = c.unit_id WHERE {window}{scope}{extra}")
    rows = " UNION ALL ".join(parts)
    recovery = "x.due_date >= %s AND x.due_date <= %s"
    sql = f"""
        SELECT x.building_id,
            SUM(CASE WHEN x.kind = 'c' AND x.due_date >= %s THEN x.amount ELSE 0 END),
            SUM(CASE WHEN x.kind = 'a' AND x.due_date >= %s THEN x.amount ELSE 0 END),
            SUM(CASE WHEN x.kind = 'c' THEN x.amount ELSE 0 END),
            SUM(CASE WHEN x.kind = 'c' THEN x.amount ELSE -x.amount END),
            SUM(CASE WHEN {recovery} AND x.kind = 'c' THEN x.amount
                     WHEN {recovery} AND x.on_date <= x.due_date THEN -x.amount ELSE 0 END),
            SUM(CASE WHEN {recovery} AND x.kind = 'a' AND x.on_date > x.due_date
                     AND x.on_date <= {_plus('x.due_date', 7)} THEN x.amount ELSE 0 END),
            SUM(CASE WHEN {recovery} AND x.kind = 'a' AND x.on_date > x.due_date
                     AND x.on_date <= {_plus('x.due_date', 15)} THEN x.amount ELSE 0 END)
        FROM ({rows}) x
        GROUP BY x.building_id
    """
    window_params = [_param(recovery_from), _param(recovery_to)]
    outer = [_param(month_start), _param(month_start)] + window_params * 4
    return sql, outer + params


def _charge_sums(as_of: date, building_ids, into: dict[int, Figures]) -> set[tuple[int, int, int]]:
    """The period, 12-month and recovery sums per building, and the owner-units billed in 12 months."""
    sql, params = _charge_sums_sql(as_of, building_ids)
    year_after = add_months(as_of, -12)
    billed_sql = f"""
        SELECT DISTINCT u.building_id, c.unit_id, c.owner_id
        FROM {_table(Charge)} c JOIN {_table(Unit)} u ON u.id = c.unit_id
        WHERE c.due_date > %s AND c.due_date <= %s{{scope}}
    """
    billed_params: list = [_param(year_after), _param(as_of)]
    billed_sql = billed_sql.replace("{scope}", _building_filter(building_ids, billed_params))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for building_id, period_due, period_paid, year_due, outstanding, base, r7, r15 in cursor.fetchall():
            figures = into[building_id]
            figures.period_due += _money(period_due)
            figures.period_paid += _money(period_paid)
            figures.year_due += _money(year_due)
            figures.year_outstanding += _money(outstanding)
            figures.recovery_base += _money(base)
            figures.recovered_7d += _money(r7)
            figures.recovered_15d += _money(r15)
        cursor.execute(billed_sql, billed_params)
        return {(building_id, unit_id, owner_id) for building_id, unit_id, owner_id in cursor.fetchall()}


def _payment_sums(as_of: date, building_ids, into: dict[int, Figures]) -> None:
    """This month's recovery and the 90-day amount-weighted days from due date to payment."""
    month_start = as_of.replace(day=1)
    window_start = as_of - timedelta(days=WINDOW_DAYS - 1)
    first = min(month_start, window_start)
    params: list = [_param(first), _param(as_of)]
    scope = _building_filter(building_ids, params)
    late = ledger_selectors._days(connection, "a.value_date", "c.due_date")
    sql = f"""
        SELECT u.building_id,
            SUM(CASE WHEN a.value_date >= %s AND a.value_date > c.due_date THEN a.amount ELSE 0 END),
            SUM(CASE WHEN a.value_date >= %s AND a.component = '{Component.PRINCIPAL}' THEN a.amount ELSE 0 END),
            SUM(CASE WHEN a.value_date >= %s AND a.component = '{Component.PRINCIPAL}' AND a.value_date > c.due_date
                     THEN a.amount * {late} ELSE 0 END)
        FROM {_table(Allocation)} a JOIN {_table(Charge)} c ON c.id = a.charge_id
        JOIN {_table(Unit)} u ON u.id = c.unit_id
        WHERE a.value_date >= %s AND a.value_date <= %s{scope}
        GROUP BY u.building_id
    """
    params = [_param(month_start), _param(window_start), _param(window_start)] + params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for building_id, recovered, paid, weight in cursor.fetchall():
            figures = into[building_id]
            figures.recovered += _money(recovered)
            figures.paid_for_days += _money(paid)
            figures.paid_day_weight += _money(weight)


def _households_owing(as_of: date, building_ids, billed: set[tuple[int, int, int]], into: dict[int, Figures]) -> None:
    charges = ledger_selectors.overdue_principal_charges(as_of)
    if building_ids is not None:
        charges = charges.filter(unit__building_id__in=sorted(set(building_ids)))
    owing = set(charges.order_by().values_list("unit__building_id", "unit_id", "owner_id").distinct())
    for building_id, _unit, _owner in billed:
        into[building_id].households_billed += 1
    for key in owing & billed:
        into[key[0]].households_owing += 1


def _window(as_of: date) -> tuple[date, date]:
    return as_of - timedelta(days=WINDOW_DAYS - 1), as_of


def _local_range(start: date, end: date) -> tuple[datetime, datetime]:
    """Calendar days in Asia/Shanghai as an aware datetime range [start 00:00, end+1 00:00)."""
    return (timezone.make_aware(datetime.combine(start, time.min)),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)))


def _case_sums(as_of: date, building_ids, key: str, into: dict) -> None:
    """Closed cases, promises and follow-up answers in the window, grouped by `key` (a building or collector)."""
    start, end = _window(as_of)
    scope = Q() if building_ids is None else Q(unit__building_id__in=sorted(set(building_ids)))
    group = "unit__building_id" if key == "building" else "collector_id"
    closed = (Case.objects.filter(scope, status=CaseStatus.CLOSED, closed_on__gte=start, closed_on__lte=end)
              .order_by().values(group)
              .annotate(total=Count("id"),
                        paid=Count("id", filter=Q(close_reason__in=[CloseReason.PAID, CloseReason.PLAN_COMPLETED]))))
    for row in closed:
        if row[group] is not None:
            into[row[group]].cases_closed += row["total"]
            into[row[group]].cases_paid += row["paid"]
    case_scope = Q() if building_ids is None else Q(case__unit__building_id__in=sorted(set(building_ids)))
    promises = (Promise.objects.filter(case_scope, status__in=[PromiseStatus.KEPT, PromiseStatus.BROKEN],
                                       resolved_on__gte=start, resolved_on__lte=end)
                .order_by().values(f"case__{group}")
                .annotate(kept=Count("id", filter=Q(status=PromiseStatus.KEPT)),
                          broken=Count("id", filter=Q(status=PromiseStatus.BROKEN))))
    for row in promises:
        if row[f"case__{group}"] is not None:
            into[row[f"case__{group}"]].promises_kept += row["kept"]
            into[row[f"case__{group}"]].promises_broken += row["broken"]
    low, high = _local_range(start, end)
    ratings = (SatisfactionRating.objects.filter(case_scope, created_at__gte=low, created_at__lt=high)
               .order_by().values(f"case__{group}")
               .annotate(total=Count("id"), satisfied=Count("id", filter=Q(rating=Satisfaction.SATISFIED))))
    for row in ratings:
        if row[f"case__{group}"] is not None:
            into[row[f"case__{group}"]].answers += row["total"]
            into[row[f"case__{group}"]].satisfied += row["satisfied"]


def _survey_sums(as_of: date, building_ids, into: dict[int, Figures]) -> None:
    """The portal's survey after a payment: its answer about the service, by the payment's building."""
    start, end = _window(as_of)
    low, high = _local_range(start, end)
    scope = Q() if building_ids is None else Q(payment__unit__building_id__in=sorted(set(building_ids)))
    rows = (SurveyResponse.objects.filter(scope, answered_at__gte=low, answered_at__lt=high)
            .order_by().values("payment__unit__building_id")
            .annotate(total=Count("id"), satisfied=Count("id", filter=Q(service=Satisfaction.SATISFIED))))
    for row in rows:
        into[row["payment__unit__building_id"]].survey_answers += row["total"]
        into[row["payment__unit__building_id"]].survey_satisfied += row["satisfied"]


def ledger_figures(as_of: date, building_ids=None) -> dict[int, Figures]:
    """Every building's ledger sums as of `as_of` (what the snapshots store): four grouped queries."""
    figures: dict[int, Figures] = defaultdict(Figures)
    billed = _charge_sums(as_of, building_ids, figures)
    _households_owing(as_of, building_ids, billed, figures)
    _payment_sums(as_of, building_ids, figures)
    return dict(figures)


def add_case_figures(as_of: date, building_ids, into: dict[int, Figures]) -> dict[int, Figures]:
    """Add the cases', promises' and answers' sums (small tables, always read live) to `into`."""
    figures: dict[int, Figures] = defaultdict(Figures, into)
    _survey_sums(as_of, building_ids, figures)
    _case_sums(as_of, building_ids, "building", figures)
    return dict(figures)


def building_figures(as_of: date, building_ids=None) -> dict[int, Figures]:
    """Every building's sums as of `as_of` (None: every building): seven grouped queries in all."""
    return add_case_figures(as_of, building_ids, ledger_figures(as_of, building_ids))


def collector_figures(as_of: date, building_ids=None, *, by_building: dict[int, Figures] | None = None) -> dict[int, Figures]:
    """Per collector: the ledger's sums over the buildings assigned to them, the case sums of their cases.

    A building worked by two collectors counts in both rows (each answers for all of it).
    """
    by_building = by_building if by_building is not None else building_figures(as_of, building_ids)
    result: dict[int, Figures] = defaultdict(Figures)
    assignments = CollectorAssignment.objects.all()
    if building_ids is not None:
        assignments = assignments.filter(building_id__in=sorted(set(building_ids)))
    for building_id, user_id in assignments.values_list("building_id", "user_id"):
        result[user_id].add(by_building.get(building_id, Figures()), LEDGER_FIELDS)
    cases: dict[int, Figures] = defaultdict(Figures)
    _case_sums(as_of, building_ids, "collector", cases)
    for user_id, figures in cases.items():
        result[user_id].add(figures, CASE_FIELDS)
    return dict(result)


def total(figures) -> Figures:
    result = Figures()
    for item in figures:
        result = result + item
    return result


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# -- reasons ---------------------------------------------------------------------------------------------


@dataclass
class ReasonRow:
    reason: str
    intent: str
    cases: int = 0
    principal: Decimal = ZERO
    label: str = field(default="")

    def as_dict(self) -> dict:
        return {"reason": self.reason, "intent": self.intent, "label": self.label, "cases": self.cases,
                "principal": f"{self.principal:.2f}"}


def arrears_by_reason(as_of: date, building_ids=None) -> list[ReasonRow]:
    """Cases open on D and their principal overdue on D, by the owner's recorded reason and intent."""
    scope = Q() if building_ids is None else Q(unit__building_id__in=sorted(set(building_ids)))
    open_on = Q(opened_on__lte=as_of) & (Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
    cases = list(Case.objects.filter(scope, open_on).order_by()
                 .values_list("unit_id", "owner_id", "owner__collection_profile__reason",
                              "owner__collection_profile__intent"))
    units = None if building_ids is None else Unit.objects.filter(building_id__in=sorted(set(building_ids)))
    owed = ledger_selectors.arrears_by_owner_unit(as_of, units=units)
    rows: dict[tuple[str, str], ReasonRow] = {}
    for unit_id, owner_id, reason, intent in cases:
        key = (reason or "", intent or "")
        row = rows.setdefault(key, ReasonRow(*key))
        row.cases += 1
        row.principal += owed.get((unit_id, owner_id), ZERO)
    reasons, intents = dict(Reason.choices), dict(Intent.choices)
    for (reason, intent), row in rows.items():
        row.label = " · ".join(str(part) for part in (reasons.get(reason, _("未记录原因")),
                                                      intents.get(intent, _("未记录性质"))))
    return sorted(rows.values(), key=lambda row: (-row.principal, -row.cases, row.reason, row.intent))
