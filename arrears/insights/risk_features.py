"""The early-warning model's features, each computed as of a prediction date from rows dated before it.

Every ledger and case row becomes a dated event of an owner-unit (an "account": one unit, one
owner): a payment on its date, a reversal on its date with the amount negative, money put on a
charge on the later of the charge's due date and the allocation's value date (only then is it
money spent on a charge due before P), a closed case on its closing date, and so on. A feature as
of P is a sum, count or last value over the account's events dated strictly before P, found by
binary search on a line sorted by (account, day): the rows are read once with a handful of grouped
queries, the examples are numpy arrays, and nothing dated on or after P can reach a feature
(tests/insights/test_features.py adds later rows and sees every feature unchanged).

What is not dated cannot be read as of P, so it is used only where its date says it applies: the
unit's status counts from `status_since` (the history of earlier statuses is not kept), a closed
case's tier is its tier at closing. Tickets belong to the unit, not to one owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from django.db.models import Min, Sum
from django.utils.translation import gettext_noop as N_

from arrears.collection.models import Case, CaseStatus, ChargeDispute, Promise, PromiseStatus
from arrears.estate.models import Community, Ownership, ServiceTicket, TicketKind, Unit, UnitStatus
from arrears.ledger.models import (
    Allocation,
    Charge,
    Component,
    Payment,
    PaymentReversal,
    Waiver,
    WaiverStatus,
)

LATE_AFTER_DAYS = 30  # the label: principal still outstanding 30 days after the due date
RECENT = 6  # "recent" lateness: the last six charges whose outcome was known
HALF_FEN = 0.005  # the ledger's own zero (ledger.selectors.HALF_FEN): SQLite sums decimals as floats
SPAN = 1 << 18  # days per account on the sorted line: 1900 to 2617
DAY0 = date(1900, 1, 1).toordinal()

# (code, label msgid). The order is the columns' order; labels are shown through gettext.
FEATURES = [
    ("late_share", N_("过往逾期比例")),
    ("late_last", N_("上期逾期")),
    ("late_recent", N_("近 6 期逾期比例")),
    ("history", N_("已有缴费记录期数")),
    ("overdue_months", N_("当前欠费（月数）")),
    ("prepaid_months", N_("预存可抵（月数）")),
    ("tenure_years", N_("持有年限")),
    ("bill_size", N_("每期金额")),
    ("vacant", N_("房屋空置")),
    ("let", N_("房屋出租")),
    ("past_cases", N_("以往催收案件")),
    ("worst_tier", N_("以往案件最高分类")),
    ("broken_promises", N_("违约承诺")),
    ("disputes", N_("费用异议")),
    ("complaints", N_("投诉与整改")),
]
FEATURE_CODES = [code for code, _label in FEATURES]
SHARES = {"late_share", "late_recent"}
COUNTS = {"history", "past_cases", "broken_promises", "disputes", "complaints"}  # stored as log(1 + n)
FLAGS = {"late_last", "vacant", "let"}
FEATURE_LABELS = dict(FEATURES)


def display_value(code: str, value: float) -> str:
    """A feature's value as staff read it: a share as a percent, a count whole, a flag as ✓ or ✗."""
    if code in SHARES:
        return f"{value:.0%}"
    if code in COUNTS:
        return f"{round(float(np.expm1(value)))}"
    if code in FLAGS:
        return "✓" if value else "✗"
    if code == "bill_size":
        return f"¥{np.expm1(value):,.2f}"
    if code == "worst_tier":
        return {2: "A", 1: "B"}.get(int(value), "—")
    return f"{value:.1f}"


def account_key(unit_ids, owner_ids) -> np.ndarray:
    return np.asarray(unit_ids, dtype=np.int64) * (1 << 32) + np.asarray(owner_ids, dtype=np.int64)


def _days(values) -> np.ndarray:
    return np.fromiter((value.toordinal() for value in values), dtype=np.int64)


def _floats(values) -> np.ndarray:
    return np.fromiter((float(value) for value in values), dtype=np.float64)


def _columns(rows, count: int) -> list[list]:
    rows = list(rows)
    return [[row[i] for row in rows] for i in range(count)]


class Line:
    """Events (key, day) sorted on one line; for queries (key, day) the events of the key before the day."""

    def __init__(self, keys, days, query_keys, query_days):
        keys, query_keys = np.asarray(keys, dtype=np.int64), np.asarray(query_keys, dtype=np.int64)
        known = np.unique(np.concatenate([keys, query_keys]))
        rank, query_rank = np.searchsorted(known, keys), np.searchsorted(known, query_keys)
        position = rank * SPAN + _offset(days)
        self.order = np.argsort(position, kind="stable")
        line = position[self.order]
        self.lo = np.searchsorted(line, query_rank * SPAN, "left")
        self.hi = np.searchsorted(line, query_rank * SPAN + _offset(query_days), "left")
        self.end = np.searchsorted(line, (query_rank + 1) * SPAN, "left")

    def count(self) -> np.ndarray:
        return (self.hi - self.lo).astype(np.float64)

    def sum(self, values) -> np.ndarray:
        total = np.concatenate([[0.0], np.cumsum(np.asarray(values, dtype=np.float64)[self.order])])
        return total[self.hi] - total[self.lo]

    def recent(self, values, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count of the last `n` events before the day."""
        start = np.maximum(self.lo, self.hi - n)
        total = np.concatenate([[0.0], np.cumsum(np.asarray(values, dtype=np.float64)[self.order])])
        return total[self.hi] - total[start], (self.hi - start).astype(np.float64)

    def last(self, values, default=np.nan) -> np.ndarray:
        """The value of the latest event before the day (ties: the last read)."""
        ordered = np.asarray(values, dtype=np.float64)[self.order]
        found = np.full(len(self.hi), default, dtype=np.float64)
        has = self.hi > self.lo
        found[has] = ordered[self.hi[has] - 1]
        return found

    def next(self, values, default=np.nan) -> np.ndarray:
        """The value of the first event on or after the day."""
        ordered = np.asarray(values, dtype=np.float64)[self.order]
        found = np.full(len(self.hi), default, dtype=np.float64)
        has = self.hi < self.end
        found[has] = ordered[self.hi[has]]
        return found


@dataclass
class Groups:
    """The charges of each account that share a due date: one bill, one example."""

    key: np.ndarray
    unit: np.ndarray
    owner: np.ndarray
    community: np.ndarray
    due: np.ndarray  # ordinal days
    amount: np.ndarray
    left: np.ndarray  # principal outstanding on due + 30 (meaningful once that day has passed)

    @property
    def late(self) -> np.ndarray:
        return (self.left > HALF_FEN).astype(np.float64)


@dataclass
class History:
    """A company's dated rows, as arrays: read once, then any number of feature matrices."""

    groups: Groups
    principal: tuple  # (key, due, value_date, amount): principal put on charges, net of reversals
    spent: tuple  # (payment key, due, value_date, amount): every component, by the payer's account
    paid: tuple  # (key, day, amount): payments, and reversals as negative amounts on their date
    waived: tuple  # (key, due, decided_on, amount): approved principal waivers
    ownership: tuple  # (key, start)
    unit_status: tuple  # (unit id, since, vacant, let)
    cases_opened: tuple  # (key, opened_on)
    cases_closed: tuple  # (key, closed_on, tier A, tier B)
    broken: tuple  # (key, resolved_on)
    disputes: tuple  # (key, opened_on)
    complaints: tuple  # (unit id, opened_on)


def read_history(company_id: int) -> History:
    """Every dated row of the company that a feature or a label reads: one grouped query per kind."""
    communities = list(Community.objects.filter(company_id=company_id).values_list("pk", flat=True))
    scope = {"community_id__in": communities}
    rows = _columns(Charge.objects.filter(**scope).order_by().values_list("unit_id", "owner_id", "due_date")
                    .annotate(total=Sum("amount"), place=Min("community_id")), 5)
    unit, owner = np.asarray(rows[0], dtype=np.int64), np.asarray(rows[1], dtype=np.int64)
    groups = Groups(account_key(unit, owner), unit, owner, np.asarray(rows[4], dtype=np.int64), _days(rows[2]),
                    _floats(rows[3]), np.zeros(len(unit)))

    principal = _columns(Allocation.objects.filter(**scope, component=Component.PRINCIPAL).order_by()
                         .values_list("charge__unit_id", "charge__owner_id", "charge__due_date", "value_date")
                         .annotate(total=Sum("amount")), 5)
    spent = _columns(Allocation.objects.filter(**scope).order_by()
                     .values_list("payment__unit_id", "payment__owner_id", "charge__due_date", "value_date")
                     .annotate(total=Sum("amount")), 5)
    payments = _columns(Payment.objects.filter(**scope).order_by().values_list("unit_id", "owner_id", "paid_on")
                        .annotate(total=Sum("amount")), 4)
    reversals = _columns(PaymentReversal.objects.filter(**scope).order_by()
                         .values_list("payment__unit_id", "payment__owner_id", "reversed_on")
                         .annotate(total=Sum("payment__amount")), 4)
    waivers = _columns(Waiver.objects.filter(**scope, status=WaiverStatus.APPROVED, component=Component.PRINCIPAL)
                       .order_by().values_list("charge__unit_id", "charge__owner_id", "charge__due_date", "decided_on")
                       .annotate(total=Sum("amount")), 5)
    owned = _columns(Ownership.objects.filter(**scope).order_by().values_list("unit_id", "owner_id", "start"), 3)
    units = _columns(Unit.objects.filter(**scope, status_since__isnull=False).order_by()
                     .values_list("pk", "status", "status_since"), 3)
    cases = _columns(Case.objects.filter(**scope).order_by()
                     .values_list("unit_id", "owner_id", "opened_on", "status", "closed_on", "tier"), 6)
    broken = _columns(Promise.objects.filter(**scope, status=PromiseStatus.BROKEN, resolved_on__isnull=False).order_by()
                      .values_list("case__unit_id", "case__owner_id", "resolved_on"), 3)
    disputes = _columns(ChargeDispute.objects.filter(**scope).order_by()
                        .values_list("charge__unit_id", "charge__owner_id", "opened_on"), 3)
    tickets = _columns(ServiceTicket.objects.filter(**scope, kind__in=[TicketKind.COMPLAINT, TicketKind.RECTIFICATION])
                       .order_by().values_list("unit_id", "opened_on"), 2)

    closed = [i for i, status in enumerate(cases[3]) if status == CaseStatus.CLOSED and cases[4][i] is not None]
    history = History(
        groups=groups,
        principal=(account_key(principal[0], principal[1]), _days(principal[2]), _days(principal[3]), _floats(principal[4])),
        spent=(account_key(spent[0], spent[1]), _days(spent[2]), _days(spent[3]), _floats(spent[4])),
        paid=(np.concatenate([account_key(payments[0], payments[1]), account_key(reversals[0], reversals[1])]),
              np.concatenate([_days(payments[2]), _days(reversals[2])]),
              np.concatenate([_floats(payments[3]), -_floats(reversals[3])])),
        waived=(account_key(waivers[0], waivers[1]), _days(waivers[2]), _days(waivers[3]), _floats(waivers[4])),
        ownership=(account_key(owned[0], owned[1]), _days(owned[2])),
        unit_status=(np.asarray(units[0], dtype=np.int64), _days(units[2]),
                     np.asarray([s == UnitStatus.VACANT for s in units[1]], dtype=np.float64),
                     np.asarray([s == UnitStatus.LET for s in units[1]], dtype=np.float64)),
        cases_opened=(account_key(cases[0], cases[1]), _days(cases[2])),
        cases_closed=(account_key([cases[0][i] for i in closed], [cases[1][i] for i in closed]),
                      _days(cases[4][i] for i in closed),
                      np.asarray([cases[5][i] == "A" for i in closed], dtype=np.float64),
                      np.asarray([cases[5][i] == "B" for i in closed], dtype=np.float64)),
        broken=(account_key(broken[0], broken[1]), _days(broken[2])),
        disputes=(account_key(disputes[0], disputes[1]), _days(disputes[2])),
        complaints=(np.asarray(tickets[0], dtype=np.int64), _days(tickets[1])),
    )
    _label_groups(history)
    return history


def _label_groups(history: History) -> None:
    """Each bill's principal left on due + 30: its amount less principal valued and waivers decided by then."""
    groups = history.groups
    if not len(groups.key):
        return
    position = _positions(groups.key, groups.due, groups.key)  # unique: one bill per (account, due)
    order = np.argsort(position)
    line = position[order]
    reduction = np.zeros(len(groups.key))
    for key, due, day, amount in (history.principal, history.waived):
        if not len(key):
            continue
        wanted = _positions(key, due, groups.key)
        index = np.minimum(np.searchsorted(line, wanted), len(line) - 1)
        found = (day <= due + LATE_AFTER_DAYS) & (wanted >= 0) & (line[index] == wanted)
        np.add.at(reduction, order[index[found]], amount[found])
    groups.left = groups.amount - reduction


def _offset(days) -> np.ndarray:
    return np.clip(np.asarray(days, dtype=np.int64) - DAY0, 0, SPAN - 1)


def _positions(keys, days, universe) -> np.ndarray:
    """Each (key, day) on the line of `universe`'s keys; −1 for a key not in it."""
    keys = np.asarray(keys, dtype=np.int64)
    known = np.unique(np.asarray(universe, dtype=np.int64))
    rank = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return np.where(known[rank] == keys, rank * SPAN + _offset(days), -1)


def feature_matrix(history: History, keys: np.ndarray, units: np.ndarray, days: np.ndarray) -> np.ndarray:
    """One row per (account, prediction day), the columns of FEATURES, from events dated before the day."""
    keys, days = np.asarray(keys, dtype=np.int64), np.asarray(days, dtype=np.int64)
    groups = history.groups
    n = len(keys)
    # Outcomes known before P: bills whose 30th day after due passed before P.
    known = Line(groups.key, groups.due + LATE_AFTER_DAYS + 1, keys, days)
    count = known.count()
    late_total = known.sum(groups.late)
    late_share = np.divide(late_total, count, out=np.zeros(n), where=count > 0)
    late_last = known.last(groups.late, 0.0)
    recent_late, recent_count = known.recent(groups.late, RECENT)
    late_recent = np.divide(recent_late, recent_count, out=np.zeros(n), where=recent_count > 0)
    # The bill's size: the last bill due before P, else the first one on or after it.
    billed = Line(groups.key, groups.due, keys, days)
    bill = billed.last(groups.amount)
    bill = np.where(np.isnan(bill), billed.next(groups.amount, 0.0), bill)
    # Principal overdue on P: bills due before P, less principal put on them and waived before P.
    owed = billed.sum(groups.amount)
    for key, due, day, amount in (history.principal, history.waived):
        owed -= Line(key, np.maximum(due, day), keys, days).sum(amount)
    # Money paid before P and not spent on bills due before P: unallocated credit and money already
    # put on bills not yet due.
    key, day, amount = history.paid
    credit = Line(key, day, keys, days).sum(amount)
    key, due, day, amount = history.spent
    credit -= Line(key, np.maximum(due, day), keys, days).sum(amount)

    def per_bill(value):
        return np.clip(np.divide(value, bill, out=np.zeros(n), where=bill > 0), 0, 60)

    key, start = history.ownership
    since = Line(key, start, keys, days).last(start, np.nan)
    tenure = np.where(np.isnan(since), 0.0, (days - np.nan_to_num(since, nan=0.0)) / 365.25)
    unit_key, status_since, vacant, let = history.unit_status
    status = Line(unit_key, status_since, units, days)
    key, closed_on, tier_a, tier_b = history.cases_closed
    closed = Line(key, closed_on, keys, days)
    worst_tier = np.where(closed.sum(tier_a) > 0, 2.0, np.where(closed.sum(tier_b) > 0, 1.0, 0.0))
    columns = {
        "late_share": late_share,
        "late_last": late_last,
        "late_recent": late_recent,
        "history": np.log1p(count),
        "overdue_months": per_bill(np.maximum(owed, 0.0)),
        "prepaid_months": per_bill(np.maximum(credit, 0.0)),
        "tenure_years": np.maximum(tenure, 0.0),
        "bill_size": np.log1p(np.maximum(bill, 0.0)),
        "vacant": status.last(vacant, 0.0),
        "let": status.last(let, 0.0),
        "past_cases": np.log1p(Line(*history.cases_opened, keys, days).count()),
        "worst_tier": worst_tier,
        "broken_promises": np.log1p(Line(*history.broken, keys, days).count()),
        "disputes": np.log1p(Line(*history.disputes, keys, days).count()),
        "complaints": np.log1p(Line(*history.complaints, units, days).count()),
    }
    return np.column_stack([columns[code] for code in FEATURE_CODES]) if n else np.zeros((0, len(FEATURE_CODES)))


def open_accounts(company_id: int, on: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit, owner, community) of every ownership in force on `on`: the owner-units scored."""
    rows = _columns(
        Ownership.objects.filter(community__company_id=company_id, start__lte=on).exclude(end__lt=on)
        .order_by("unit_id", "owner_id").values_list("unit_id", "owner_id", "community_id").distinct(), 3)
    return tuple(np.asarray(column, dtype=np.int64) for column in rows)
