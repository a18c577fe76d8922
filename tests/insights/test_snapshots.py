"""The dashboard's stored figures equal the live computation, before and after the ledger moves."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from arrears.insights import kpis, snapshots
from arrears.insights.models import KpiSnapshot
from arrears.ledger import services
from arrears.ledger.models import Charge
from tests import factories
from tests.insights.test_kpis import D, _pay, ledger  # noqa: F401  (the hand-computed ledger)

pytestmark = pytest.mark.django_db
DATES = snapshots.month_ends(D)


def _noon(day: date):
    return time_machine.travel(timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=12))), tick=False)


def _same(stored: dict, live: dict) -> None:
    for building_id in set(stored) | set(live):
        a, b = stored.get(building_id, kpis.Figures()), live.get(building_id, kpis.Figures())
        assert [getattr(a, name) for name in snapshots.STORED] == [getattr(b, name) for name in snapshots.STORED], building_id


@pytest.fixture
def no_live(monkeypatch):
    """Fail any live read of the ledger: what is asked must come from the stored rows."""
    calls = []

    def refuse(day, building_ids=None):
        calls.append(day)
        return real(day, building_ids)

    real = kpis.ledger_figures
    monkeypatch.setattr(kpis, "ledger_figures", refuse)
    return calls


def test_the_trend_points_are_month_ends_then_the_day():
    points = snapshots.month_ends(date(2026, 6, 20))
    assert len(points) == 24
    assert points[0] == date(2024, 7, 31) and points[-2] == date(2026, 5, 31) and points[-1] == date(2026, 6, 20)
    assert snapshots.month_ends(date(2026, 3, 31), 3) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_stored_figures_equal_the_live_ones_and_are_read_without_the_ledger(ledger, no_live):  # noqa: F811
    written = snapshots.refresh(as_of=D)
    assert written == len(DATES) * 2  # two buildings, every point
    live_calls = len(no_live)
    stored = snapshots.ledger_on(None, DATES)
    assert len(no_live) == live_calls  # nothing read live: every point was fresh
    for day in DATES:
        _same(stored[day], kpis.building_figures(day))
    assert snapshots.refresh(as_of=D) == 0  # idempotent: nothing moved, nothing written


def test_the_last_point_carries_the_live_case_figures(ledger):  # noqa: F811
    snapshots.refresh(as_of=D)
    last_day, last = snapshots.monthly(None, as_of=D)[-1]
    assert last_day == D
    whole, live = kpis.total(last.values()), kpis.total(kpis.building_figures(D).values())
    assert whole == live
    assert whole.success_rate == Decimal("0.6667") and whole.arrears_rate_amount == Decimal("0.4869")
    assert kpis.total(snapshots.current(None, as_of=D).values()) == live


def test_a_payment_dated_back_makes_its_date_and_every_later_point_live(ledger, no_live):  # noqa: F811
    snapshots.refresh(as_of=D)
    u3 = ledger["units"][2]
    with _noon(D):
        _pay(u3, u3.ownerships.get().owner, "60.00", date(2026, 4, 20))  # entered today, valued in April
    before = len(no_live)
    stored = snapshots.ledger_on(None, DATES)
    assert sorted(set(no_live[before:])) == [date(2026, 4, 30), date(2026, 5, 31), D]
    for day in DATES:
        _same(stored[day], kpis.building_figures(day))
    # The next refresh writes those three points again, and only them.
    assert snapshots.refresh(as_of=D) == 3 * 2
    assert kpis.total(snapshots.ledger_on(None, [D])[D].values()).year_outstanding == Decimal("1240.00")
    assert snapshots.refresh(as_of=D) == 0


def test_the_trend_adds_the_stored_points_per_community_and_equals_the_live_sums(ledger, no_live):  # noqa: F811
    # given stored points, then a payment dated back to April: April's end onwards are live, the rest stored
    snapshots.refresh(as_of=D)
    u3 = ledger["units"][2]
    with _noon(D):
        _pay(u3, u3.ownerships.get().owner, "60.00", date(2026, 4, 20))
    before = len(no_live)
    # when the trend is read
    points = snapshots.monthly(None, as_of=D)
    # then the stored points come summed per community, the live ones per building, and every total is the live one
    assert sorted(set(no_live[before:])) == [date(2026, 4, 30), date(2026, 5, 31), D]
    assert all(isinstance(key, tuple) for key in points[0][1]) and all(isinstance(key, int) for key in points[-1][1])
    for day, figures in points:
        whole, live = kpis.total(figures.values()), kpis.total(kpis.ledger_figures(day).values())
        assert [getattr(whole, name) for name in snapshots.STORED] == [getattr(live, name) for name in snapshots.STORED], day


def test_a_waiver_waiting_at_the_refresh_and_approved_back_dated_is_seen(ledger):  # noqa: F811
    u1 = ledger["units"][0]
    charge = Charge.objects.get(unit=u1)
    with _noon(D):
        waiver = services.request_waiver(charge_id=charge.pk, component="principal", amount=Decimal("50.00"),
                                         reason="维修补偿", requested_by=ledger["collector"], requested_on=date(2026, 6, 6))
    snapshots.refresh(as_of=D)
    with _noon(D):
        services.approve_waiver(waiver_id=waiver.pk, approved_by=factories.user("boss"), decided_on=date(2026, 6, 6))
    assert snapshots.stale_since([u1.community_id]) == {u1.community_id: date(2026, 6, 6)}
    stored = snapshots.ledger_on(None, [D])
    _same(stored[D], kpis.building_figures(D))
    assert kpis.total(stored[D].values()).year_outstanding == Decimal("1250.00")


def test_a_charge_imported_for_an_old_month_is_seen(ledger):  # noqa: F811
    snapshots.refresh(as_of=D)
    u2 = ledger["units"][1]
    with _noon(D):
        services.create_charge(unit_id=u2.pk, owner_id=u2.ownerships.get().owner_id,
                               charge_type_id=Charge.objects.filter(unit=u2).first().charge_type_id,
                               period_start=date(2025, 11, 1), period_end=date(2025, 11, 30), amount=Decimal("66.00"),
                               due_date=date(2025, 11, 5))
    stored = snapshots.ledger_on(None, DATES)
    for day in DATES:
        _same(stored[day], kpis.building_figures(day))


def test_yesterdays_point_is_replaced_as_days_pass_and_month_ends_stay(ledger):  # noqa: F811
    snapshots.refresh(as_of=D)
    snapshots.refresh(as_of=date(2026, 6, 21))
    days = set(KpiSnapshot.objects.values_list("as_of", flat=True))
    assert D not in days and date(2026, 6, 21) in days and date(2026, 5, 31) in days
    snapshots.refresh(as_of=date(2026, 6, 30))
    snapshots.refresh(as_of=date(2026, 7, 1))
    days = set(KpiSnapshot.objects.values_list("as_of", flat=True))
    assert date(2026, 6, 30) in days and date(2026, 6, 21) not in days


def test_the_daily_run_refreshes_the_day_before(ledger, settings):  # noqa: F811
    from arrears.collection.signals import run_finished

    run_finished.send(sender=None, as_of=date(2026, 6, 21), summary={})
    assert KpiSnapshot.objects.filter(as_of=D).count() == 2
