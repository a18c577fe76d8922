"""The benchmark's history builder writes a ledger the services and selectors agree with."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Sum

from arrears.core.money import ZERO
from arrears.estate.models import Unit
from arrears.ledger import rules, selectors, services
from arrears.ledger.models import Allocation, Charge, Payment
from bench import generate, ledger_bench

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def test_the_history_keeps_the_ledger_invariants():
    # given
    history = ledger_bench.build_history(units=20, months=36, seed=5)
    # then: every cache equals its derivation
    assert (history.charges, Charge.objects.count()) == (720, 720)
    assert_ledger_invariants()


def assert_ledger_invariants():
    """Allocations within their charges, every payment's remainder and every settled_on as the rules derive."""
    allocated = dict(Allocation.objects.values("payment_id").annotate(t=Sum("amount")).values_list("payment_id", "t"))
    for payment in Payment.objects.all():
        assert payment.paid_on <= TODAY
        assert payment.unallocated == payment.amount - allocated.get(payment.pk, ZERO)
    events = {}
    for charge_id, value_date, amount in Allocation.objects.values_list("charge_id", "value_date", "amount"):
        events.setdefault(charge_id, []).append((value_date, amount))
    for c in Charge.objects.all():
        state = rules.ChargeState(c.pk, c.period_start, c.due_date, c.amount,
                                  rules.LateFeeTerms(c.late_fee_daily_rate, c.grace_days, c.late_fee_cap),
                                  principal_events=events.get(c.pk, []))
        assert ZERO <= state.principal_outstanding <= c.amount
        assert c.settled_on == state.settled_on()
    assert Payment.objects.filter(unallocated__gt=0).exists()  # some hold prepaid credit


def test_billing_the_new_month_after_the_history_spends_the_credit_once():
    history = ledger_bench.build_history(units=20, months=36, seed=5)
    first = services.bill(through=history.new_month, since=history.new_month)
    assert first.charges_created == 20
    assert services.bill(through=history.new_month).charges_created == 0
    # Prepaid units are paid for the new month; the rest owe at least that month.
    statements = selectors.statement(TODAY)
    prepaid = {s.unit_id for s in statements if s.prepaid > ZERO}
    assert prepaid
    assert all(s.principal == ZERO for s in statements if s.unit_id in prepaid)
    assert all(s.principal > ZERO for s in statements if s.unit_id not in prepaid)
    assert sum((s.prepaid for s in statements), ZERO) == Payment.objects.aggregate(t=Sum("unallocated"))["t"]
    assert Decimal(len(statements)) == 20


# ----------------------------------------------------------------------------- the fast generator


def _digest():
    """The history without its ids: what the same seed must build again."""
    units = list(Unit.objects.order_by("pk").values_list("building__name", "room", "floor_area"))
    charges = list(Charge.objects.order_by("pk").values_list("unit__room", "period_start", "amount", "settled_on"))
    payments = list(Payment.objects.order_by("pk").values_list("unit__room", "paid_on", "amount", "unallocated"))
    allocations = list(Allocation.objects.order_by("pk").values_list("charge__period_start", "amount", "value_date"))
    return units, charges, payments, allocations


def test_the_generator_keeps_the_ledger_invariants_and_its_references():
    # given
    history = generate.build(units=40, months=36, seed=5, arrears_within=12)
    # then
    assert (history.charges, Charge.objects.count(), Unit.objects.count()) == (1440, 1440, 40)
    assert history.new_month == date(2026, 11, 1)
    assert not Charge.objects.filter(period_start__gte=history.new_month).exists()  # the current month is unbilled
    assert_ledger_invariants()
    # Every reference resolves and stays within the unit (foreign keys are not checked during the load).
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM ledger_allocation a
            LEFT JOIN ledger_charge c ON c.id = a.charge_id LEFT JOIN ledger_payment p ON p.id = a.payment_id
            WHERE c.id IS NULL OR p.id IS NULL OR c.unit_id <> p.unit_id OR c.owner_id <> p.owner_id
               OR a.community_id <> c.community_id""")
        assert cursor.fetchone()[0] == 0
        cursor.execute("""
            SELECT count(*) FROM ledger_charge c
            LEFT JOIN estate_unit u ON u.id = c.unit_id LEFT JOIN estate_ownership o ON o.unit_id = c.unit_id
            LEFT JOIN ledger_tariff t ON t.id = c.tariff_id
            WHERE u.id IS NULL OR o.owner_id IS DISTINCT FROM c.owner_id OR u.community_id <> c.community_id
               OR t.community_id IS DISTINCT FROM c.community_id""")
        assert cursor.fetchone()[0] == 0
    # Unit 0 prepaid with a year of credit, unit 1 in arrears: even a tiny build has both.
    first, second = Unit.objects.order_by("pk")[:2]
    assert Payment.objects.filter(unit=first, unallocated__gt=0).exists()
    assert Charge.objects.filter(unit=second, settled_on__isnull=True).exists()


def _built(seed):
    """The digest of a build, rolled back afterwards."""
    with transaction.atomic():
        generate.build(units=30, months=24, seed=seed, arrears_within=12)
        built = _digest()
        transaction.set_rollback(True)
    return built


def test_the_generator_builds_the_same_history_from_the_same_seed():
    built = _built(7)
    assert built[1] and _built(7) == built
    assert _built(8) != built


def test_the_generator_has_the_benchmark_shape():
    # given: enough units for the proportions to show
    history = generate.build(units=2000, months=36, seed=3, arrears_within=12)
    # then: about 15% in arrears, each stopped within the last 12 months; about 5% with a further year of credit
    owing = set(Charge.objects.filter(settled_on__isnull=True).values_list("unit_id", flat=True))
    assert 0.12 <= len(owing) / 2000 <= 0.18
    oldest_open = Charge.objects.filter(settled_on__isnull=True).order_by("period_start").first().period_start
    assert oldest_open >= rules.add_months(history.new_month, -12)
    credit = set(Payment.objects.filter(unallocated__gt=0).values_list("unit_id", flat=True))
    assert 0.03 <= len(credit) / 2000 <= 0.07
    assert not owing & credit
    # and the month bills once, spending the credit
    first = services.bill(through=history.new_month, since=history.new_month)
    assert first.charges_created == 2000
    assert services.bill(through=history.new_month).charges_created == 0
    statements = selectors.statement(TODAY)
    assert sum((s.prepaid for s in statements), ZERO) == Payment.objects.aggregate(t=Sum("unallocated"))["t"]


# ----------------------------------------------------------------------------- the portfolio benchmark


def test_the_portfolio_benchmark_runs_every_step_and_prints_its_table(capsys):
    # given: a tiny history, one repeat, one request a page
    from bench import portfolio_bench

    # when
    code = portfolio_bench.main(["--build", "--units", "40", "--repeats", "1", "--requests", "1"])
    # then: every step timed, the reruns did nothing (the script asserts it), and nothing was kept
    out = capsys.readouterr().out
    assert code == 0
    table = out[out.index("| step |"):]
    for step in ("scan", "mid-month run 2026-10-20", "mid-month rerun", "bill 2026-11", "bill again (no-op)",
                 "month-start run 2026-11-02", "month-start rerun", "page /cases/ company-wide",
                 "page /cases/ one community", "page workbench", "page unit with open case"):
        assert f"| {step} |" in table
    assert not Charge.objects.filter(period_start__gte=date(2026, 11, 1)).exists()  # rolled back


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
def test_on_postgresql_the_pages_are_timed_in_a_committed_copy_that_is_dropped_after(capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the copy is made with CREATE DATABASE … TEMPLATE")
    from bench import portfolio_bench

    # given: no other session on this database (a copy needs the source alone; threads of earlier
    # tests may have left their connections behind)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    # when: the benchmark runs outside any transaction of the caller
    code = portfolio_bench.main(["--build", "--units", "40", "--repeats", "1", "--requests", "1"])
    # then: the pages were timed in the copy, which is gone, and this database holds no month of it
    out = capsys.readouterr().out
    assert code == 0
    assert "pages: the month committed and vacuumed in a copy" in out
    assert "| page unit with open case |" in out
    assert not Charge.objects.filter(period_start__gte=date(2026, 11, 1)).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [connection.settings_dict["NAME"] + "_pages"])
        assert cursor.fetchone()[0] == 0
