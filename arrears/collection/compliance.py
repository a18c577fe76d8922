"""Reads of the compliance page: logged contacts that broke a contact rule at their time of contact.

A contact is evidence of what happened: one made outside the hours, on a holiday, past a cap or
after the owner asked not to be contacted is recorded as made, with its rule and reason (see
`services.log_attempt`). Managers see them here by collector, by rule and by week, within
their scope (`units_visible_to`). Each contact counts once, by its latest version that broke a
rule: a correction that re-dates a contact is judged again, and when it no longer breaks a rule
the version that did stays listed, marked as corrected away (a collector cannot take their own
violation off this page by correcting its time); both versions stay on the unit page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from arrears.collection.guard import LOCAL, GuardRule
from arrears.collection.models import ContactAttempt
from arrears.core import roles
from arrears.estate import selectors as estate_selectors

DEFAULT_WEEKS = 12


@dataclass
class ComplianceReport:
    since: date
    until: date
    total: int
    by_collector: list[tuple[str, int]]
    by_rule: list[tuple[str, str, int]]  # rule, label, count
    by_week: list[tuple[date, int]]  # Monday of the week, count
    violations: QuerySet[ContactAttempt]


def default_period(today: date) -> tuple[date, date]:
    """The last `DEFAULT_WEEKS` whole weeks and this one: from a Monday to today."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=DEFAULT_WEEKS - 1), today


def violations_for(user, *, since: date, until: date, nobody: str = "—") -> ComplianceReport:
    """Violations in the user's scope with a time of contact between `since` and `until` (local dates), in four queries."""
    start = datetime.combine(since, time(0, 0), tzinfo=LOCAL)
    end = datetime.combine(until + timedelta(days=1), time(0, 0), tzinfo=LOCAL)
    # A later version of the same contact that also broke a rule replaces this one; one that did not, does not.
    later_violation = ContactAttempt.objects.filter(
        corrects_id=Coalesce(OuterRef("corrects_id"), OuterRef("pk")), pk__gt=OuterRef("pk"),
    ).exclude(violation_rule="")
    rows = (
        ContactAttempt.objects.filter(unit__in=estate_selectors.units_visible_to(user), at__gte=start, at__lt=end)
        .exclude(violation_rule="")
        .exclude(Exists(later_violation))
    )
    by_collector = [
        (roles.join_name(row["staff__last_name"], row["staff__first_name"]) or row["staff__username"] or nobody,
         row["n"])
        for row in rows.values("staff__username", "staff__first_name", "staff__last_name").annotate(n=Count("pk"))
        .order_by("-n", "staff__username")
    ]
    labels = dict(GuardRule.choices)
    by_rule = [
        (rule, str(labels.get(rule, rule)), count)
        for rule, count in rows.values_list("violation_rule").annotate(n=Count("pk")).order_by("-n", "violation_rule")
    ]
    by_week = [
        (timezone.localtime(week, LOCAL).date() if isinstance(week, datetime) else week, count)
        for week, count in rows.annotate(week=TruncWeek("at", tzinfo=LOCAL)).values_list("week")
        .annotate(n=Count("pk")).order_by("-week")
    ]
    return ComplianceReport(
        since=since, until=until, total=sum(count for _rule, _label, count in by_rule), by_collector=by_collector, by_rule=by_rule,
        by_week=by_week,
        violations=rows.with_versions().select_related("unit__building", "unit__community", "owner", "staff", "contact").order_by("-at", "-pk"),
    )
