"""Record a year's holiday arrangement: validate it against the law, then save who entered and confirmed it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.core.models import record as audit_record

from .holidays import arrangement_problems, parse_days
from .models import HolidayArrangement

# The law's statutory days are computed from 2008 on (the 2007 reform); an arrangement is entered
# for a year whose notice is out: this year or the next (the State Council publishes in the autumn).
FIRST_YEAR = 2008


def year_problem(year) -> tuple[str, str] | None:
    """Why no arrangement can be entered for this year (Chinese, English), or None."""
    last = timezone.localdate().year + 1
    if not isinstance(year, int) or not FIRST_YEAR <= year <= last:
        return (f"年份须在 {FIRST_YEAR} 至 {last} 年之间（国务院通知只发布到明年）：{year}",
                f"The year must lie between {FIRST_YEAR} and {last} (the State Council's notice covers next year at most): {year}")
    return None


def problems(arrangement: HolidayArrangement) -> list[tuple[str, str]]:
    """Why the arrangement cannot be saved (Chinese, English); empty when it can."""
    bad_year = year_problem(arrangement.year)
    if bad_year is not None:
        return [bad_year]
    days_off, bad_off = parse_days(arrangement.days_off or "")
    working_days, bad_working = parse_days(arrangement.working_days or "")
    found = [(f"放假日期：{zh}", f"Days off: {en}") for zh, en in bad_off]
    found += [(f"调休上班日：{zh}", f"Working days: {en}") for zh, en in bad_working]
    found += arrangement_problems(arrangement.year, days_off, working_days)
    if arrangement.confirmed and (arrangement.notice_date is None or not arrangement.notice_reference.strip()):
        found.append(("确认前须填写国务院办公厅通知的日期和文号",
                      "Enter the State Council notice's date and reference before confirming"))
    return found


def save_arrangement(arrangement: HolidayArrangement, *, actor) -> HolidayArrangement:
    """Validate and save an arrangement; the first save records who entered it, confirming records who confirmed.

    Refused (DomainError, nothing written) when a statutory day is not off, a 调休 working day is
    not a Saturday or Sunday, a date lies outside the year, or a confirmation lacks its notice.
    """
    found = problems(arrangement)
    if found:
        raise DomainError("；".join(zh for zh, _ in found), "; ".join(en for _, en in found), code="holiday_arrangement")
    with transaction.atomic():
        was_confirmed = (
            arrangement.pk is not None
            and HolidayArrangement.objects.select_for_update().filter(pk=arrangement.pk, confirmed=True).exists()
        )
        if arrangement.pk is None:
            arrangement.entered_by = actor
        if arrangement.confirmed and not was_confirmed:
            arrangement.confirmed_by, arrangement.confirmed_at = actor, timezone.now()
        elif not arrangement.confirmed:
            arrangement.confirmed_by, arrangement.confirmed_at = None, None
        arrangement.save()
        audit_record(actor=actor, action="holiday_arrangement.saved", year=arrangement.year,
                     confirmed=arrangement.confirmed, days_off=arrangement.days_off,
                     working_days=arrangement.working_days, notice_reference=arrangement.notice_reference)
    return arrangement
