"""Each KPI computed by hand on a small ledger, matched to the fen and the fourth decimal.

D = 2026-06-20. Twelve months up to D: due after 2025-06-20. Period: due 06-01..06-20. Recovery
window: due 2026-03-07..2026-06-04. The 90-day window: 2026-03-23..2026-06-20. No late fees (no
tariff), so every payment is principal. Building 1: U1 U2 U3; building 2: U4 U5 U6 U7.

  U1  c1 300.00 due 06-05; 100.00 paid on the due date (a part payment on the due date)
  U2  500.00 paid 05-20 before c2 existed (prepaid credit); c2 200.00 due 06-10 (period 06-01..) paid
      from it on 06-01
  U3  c3 400.00 due 04-01; 150.00 on 04-01, 100.00 on 04-08 (day 7), 50.00 on 04-09 (day 8)
  U4  c4 1,000.00 due 05-01, unpaid; open case; promises kept 05-20, broken 06-10, kept 02-01 (outside)
  U5  c5 600.00 due 03-15, paid by an instalment plan 200.00 on 04-15, 05-15, 06-15; case closed
      plan_completed 06-15
  U6  c6 80.00 due 02-01, waived 05-10; case closed waived 05-10
  U7  c7 120.00 due 2025-03-01 (older than 12 months, unpaid); c8 90.00 due 01-10 paid that day
  Closed paid: a case of U2 closed 04-10 (inside), one of U7 closed 03-01 (outside the window).

  year_due   = 300+200+400+1000+600+80+90 = 2,670.00; left = 200+100+1000 = 1,300.00 → 0.4869
  period     = (100+200) / (300+200) = 0.6000
  households = owing U1 U3 U4 U7 (U7 by its old charge) / billed 7 = 0.5714
  recovery   = base c3 250 + c4 1000 + c5 600 = 1,850.00; 7 days 100.00 → 0.0541; 15 days 150.00 → 0.0811
  success    = (U5 plan completed + U2 paid) / 3 closed in the window = 0.6667
  promises   = 1 kept / 2 = 0.5000
  satisfied  = survey 满意 (U3) + survey 一般 (U5) + follow-up 满意 (U4) = 2/3 = 0.6667
  recovered  = 200.00 (U5's 06-15 instalment; U1's 06-05 money came on the due date, not after)
  days       = (100×7 + 50×8 + 200×31 + 200×61 + 200×92) / (150+100+50+600+100+200) = 37,900 / 1,200 = 31.6
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from arrears.collection.models import (
    Case,
    Channel,
    CollectorAssignment,
    ContactAttempt,
    InstalmentPlan,
    Outcome,
    OwnerProfile,
    PlanStatus,
    Promise,
    SatisfactionRating,
)
from arrears.estate.models import Satisfaction
from arrears.insights import kpis
from arrears.insights.reports import kpi_report
from arrears.ledger import services
from arrears.ledger.models import ChargeType
from arrears.portal.models import SurveyResponse
from tests import factories

D = date(2026, 6, 20)
pytestmark = pytest.mark.django_db


def _case(unit, owner, *, opened, closed=None, reason="", collector=None):
    return Case.objects.create(
        community=unit.community, unit=unit, owner=owner, opened_on=opened, collector=collector,
        status="closed" if closed else "open", closed_on=closed, close_reason=reason, as_of=opened,
        principal=Decimal("1.00"), late_fee=Decimal("0.00"), oldest_due=opened, days_overdue=1, months_overdue=1,
        bucket="1-5", tier="A")


def _charge(unit, owner, amount, due, *, start=None):
    start = start or due.replace(day=1)
    return services.create_charge(unit_id=unit.pk, owner_id=owner.pk, charge_type_id=ChargeType.objects.get(code="property_fee").pk,
                                  period_start=start, period_end=start.replace(day=28), amount=Decimal(amount), due_date=due)


def _pay(unit, owner, amount, on, **extra):
    return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=Decimal(amount), paid_on=on,
                                   method="cash", **extra)


@pytest.fixture
def ledger():
    community = factories.community()
    units, owners = [], []
    for number, building in enumerate(["1栋", "1栋", "1栋", "2栋", "2栋", "2栋", "2栋"], start=1):
        unit = factories.unit(community, building=building, room=f"{number}01")
        units.append(unit)
        owners.append(factories.owner(unit, name=f"业主{number}"))
    u1, u2, u3, u4, u5, u6, u7 = units
    o1, o2, o3, o4, o5, o6, o7 = owners
    collector = factories.user("collector")
    manager = factories.user("manager")
    CollectorAssignment.objects.create(community=community, building=u4.building, user=collector)
    with time_machine.travel(timezone.make_aware(datetime(2026, 6, 20, 12)), tick=False):
        _charge(u1, o1, "300.00", date(2026, 6, 5))
        _pay(u1, o1, "100.00", date(2026, 6, 5))
        _pay(u2, o2, "500.00", date(2026, 5, 20))
        _charge(u2, o2, "200.00", date(2026, 6, 10))
        _charge(u3, o3, "400.00", date(2026, 4, 1))
        _pay(u3, o3, "150.00", date(2026, 4, 1))
        day7 = _pay(u3, o3, "100.00", date(2026, 4, 8))
        _pay(u3, o3, "50.00", date(2026, 4, 9))
        _charge(u4, o4, "1000.00", date(2026, 5, 1))
        _charge(u5, o5, "600.00", date(2026, 3, 15))
        last = None
        for day in (date(2026, 4, 15), date(2026, 5, 15), date(2026, 6, 15)):
            last = _pay(u5, o5, "200.00", day)
        c6 = _charge(u6, o6, "80.00", date(2026, 2, 1))
        waiver = services.request_waiver(charge_id=c6.pk, component="principal", amount=Decimal("80.00"), reason="困难",
                                         requested_by=collector, requested_on=date(2026, 5, 10))
        services.approve_waiver(waiver_id=waiver.pk, approved_by=manager, decided_on=date(2026, 5, 10))
        _charge(u7, o7, "120.00", date(2025, 3, 1), start=date(2025, 3, 1))
        c8 = _charge(u7, o7, "90.00", date(2026, 1, 10), start=date(2026, 1, 1))
        _pay(u7, o7, "90.00", date(2026, 1, 10), designation=[c8.pk])

        open_case = _case(u4, o4, opened=date(2026, 5, 2), collector=collector)
        _case(u3, o3, opened=date(2026, 4, 2))
        plan_case = _case(u5, o5, opened=date(2026, 3, 16), closed=date(2026, 6, 15), reason="plan_completed",
                          collector=collector)
        InstalmentPlan.objects.create(community=community, case=plan_case, total=Decimal("600.00"),
                                      status=PlanStatus.COMPLETED, proposed_on=date(2026, 4, 1),
                                      accepted_on=date(2026, 4, 2), resolved_on=date(2026, 6, 15))
        _case(u6, o6, opened=date(2026, 2, 2), closed=date(2026, 5, 10), reason="waived", collector=collector)
        _case(u2, o2, opened=date(2026, 3, 1), closed=date(2026, 4, 10), reason="paid")
        _case(u7, o7, opened=date(2026, 1, 11), closed=date(2026, 3, 1), reason="paid")
        for status, resolved in (("kept", date(2026, 5, 20)), ("broken", date(2026, 6, 10)), ("kept", date(2026, 2, 1)),
                                 ("open", None)):
            Promise.objects.create(community=community, case=open_case, amount=Decimal("100.00"), due_on=resolved or D,
                                   made_on=date(2026, 1, 1), status=status, resolved_on=resolved)
        OwnerProfile.objects.create(community=community, owner=o4, reason="economic", intent="ignorant")
        SurveyResponse.objects.create(community=community, payment=day7, payment_experience="satisfied",
                                      service=Satisfaction.SATISFIED, answered_at=timezone.make_aware(datetime(2026, 4, 8, 10)))
        SurveyResponse.objects.create(community=community, payment=last, payment_experience="satisfied",
                                      service=Satisfaction.NEUTRAL, answered_at=timezone.make_aware(datetime(2026, 6, 15, 23, 30)))
        attempt = ContactAttempt.objects.create(community=community, case=open_case, unit=u4, owner=o4, channel=Channel.CALL,
                                                at=timezone.make_aware(datetime(2026, 6, 19, 10)), outcome=Outcome.ANSWERED)
        SatisfactionRating.objects.create(community=community, case=open_case, attempt=attempt, rating=Satisfaction.SATISFIED)
    return {"community": community, "units": units, "collector": collector}


def test_each_kpi_matches_the_hand_computation(ledger):
    whole = kpis.total(kpis.building_figures(D).values())
    assert whole.year_due == Decimal("2670.00")
    assert whole.year_outstanding == Decimal("1300.00")
    assert whole.arrears_rate_amount == Decimal("0.4869")
    assert (whole.period_due, whole.period_paid) == (Decimal("500.00"), Decimal("300.00"))
    assert whole.period_collection_rate == Decimal("0.6000")
    assert (whole.households_owing, whole.households_billed) == (4, 7)
    assert whole.arrears_rate_households == Decimal("0.5714")
    assert (whole.recovery_base, whole.recovered_7d, whole.recovered_15d) == (
        Decimal("1850.00"), Decimal("100.00"), Decimal("150.00"))
    assert (whole.recovery_7d, whole.recovery_15d) == (Decimal("0.0541"), Decimal("0.0811"))
    assert (whole.cases_paid, whole.cases_closed) == (2, 3)
    assert whole.success_rate == Decimal("0.6667")
    assert whole.promise_kept_rate == Decimal("0.5000")
    assert whole.satisfaction_rate == Decimal("0.6667")
    assert whole.recovered == Decimal("200.00")
    assert (whole.paid_for_days, whole.paid_day_weight) == (Decimal("1200.00"), Decimal("37900.00"))
    assert whole.avg_days_to_pay == Decimal("31.6")


def test_buildings_and_collectors_split_the_whole(ledger):
    by_building = kpis.building_figures(D)
    one, two = (by_building[unit.building_id] for unit in (ledger["units"][0], ledger["units"][3]))
    assert (one.year_due, one.year_outstanding) == (Decimal("900.00"), Decimal("300.00"))
    assert (two.year_due, two.year_outstanding) == (Decimal("1770.00"), Decimal("1000.00"))
    assert (one.households_owing, one.households_billed, two.households_owing, two.households_billed) == (2, 3, 2, 4)
    assert (one + two).year_due == Decimal("2670.00")
    # The collector answers for building 2's ledger and for the cases assigned to them.
    mine = kpis.collector_figures(D)[ledger["collector"].pk]
    assert (mine.year_due, mine.households_owing) == (Decimal("1770.00"), 2)
    assert (mine.cases_paid, mine.cases_closed) == (1, 2)  # U5 completed its plan, U6 was waived
    assert mine.success_rate == Decimal("0.5000")
    assert (mine.promises_kept, mine.promises_broken, mine.answers, mine.satisfied) == (1, 1, 1, 1)
    # The portal's survey of U5 (building 2) counts for the collector of building 2.
    assert (mine.survey_answers, mine.survey_satisfied) == (1, 0)


def test_the_day_seven_payment_counts_in_seven_days_and_day_eight_only_in_fifteen(ledger):
    # As of 2026-04-25 c3 is the only charge in the recovery window (due 2026-01-10..2026-04-09).
    figures = kpis.total(kpis.building_figures(date(2026, 4, 25), [ledger["units"][2].building_id]).values())
    assert figures.recovery_base == Decimal("250.00")
    assert (figures.recovery_7d, figures.recovery_15d) == (Decimal("0.4000"), Decimal("0.6000"))


def test_nothing_to_measure_is_none_never_zero(db):
    figures = kpis.total(kpis.building_figures(D).values())
    assert figures.period_collection_rate is None and figures.success_rate is None
    assert figures.avg_days_to_pay is None


def test_reasons_group_open_cases_with_the_ledger_principal(ledger):
    rows = {(row.reason, row.intent): row for row in kpis.arrears_by_reason(D)}
    assert rows[("economic", "ignorant")].cases == 1
    assert rows[("economic", "ignorant")].principal == Decimal("1000.00")
    assert rows[("", "")].principal == Decimal("100.00")  # U3, no profile recorded


def test_the_command_prints_strings_to_the_fen_and_the_fourth_decimal(ledger, capsys):
    call_command("report", "kpis", "--date", "2026-06-20", "--by", "building")
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["kpis"]["arrears_rate_amount"] == "0.4869"
    assert report["kpis"]["figures"]["year_outstanding"] == "1300.00"
    assert report["kpis"]["avg_days_to_pay"] == "31.6"
    assert [row["name"] for row in report["rows"]] == ["阳光花园 1栋", "阳光花园 2栋"]
    assert report == kpi_report(D, by="building")


def test_the_command_writes_a_workbook(ledger, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "kpis.xlsx"
    call_command("report", "kpis", "--date", "2026-06-20", "--format", "xlsx", "--by", "collector", "--output", str(path))
    book = load_workbook(path)
    rows = list(book["指标"].iter_rows(values_only=True))
    assert rows[0][0] == "范围" and rows[1][0] == "合计"
    assert rows[1][2] == pytest.approx(0.4869)
