"""A careless upgrade: `migrate` on a database that already holds lookalike keys with money on them.

The rows were written before keys had a normal form: a community with a zero-width space beside
its twin, "101" and "１０１" in one building each with a charge and a payment, blank entrances, owner
names with non-breaking spaces, a payment whose receipt number carries an invisible character.
Migrating must succeed on SQLite and PostgreSQL, merge nothing, lose nothing, rewrite no payment,
and leave exactly the collisions for `arrears keys --check`; `--normalise` twice changes nothing more.
"""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from arrears.estate.models import Building, Community, Owner, Unit
from arrears.ledger import services
from arrears.ledger.models import Allocation, Charge, Payment
from tests import factories
from tests.core.test_keys import as_typed

ZWSP, NBSP = "\u200b", "\u00a0"


def _charge(unit, owner, charge_type):
    return Charge.objects.create(community=unit.community, unit=unit, owner=owner, charge_type=charge_type,
                                 period_start=date(2026, 1, 1), period_end=date(2026, 1, 31), amount=Decimal("200.00"),
                                 due_date=date(2026, 1, 5))


def _pay(unit, owner, receipt):
    return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="50.00", paid_on=date(2026, 1, 10),
                                   method="cash", receipt_number=receipt)


def snapshot() -> dict:
    return {
        "communities": Community.objects.count(), "buildings": Building.objects.count(), "units": Unit.objects.count(),
        "owners": Owner.objects.count(), "charges": list(Charge.objects.order_by("pk").values_list("pk", "unit_id", "amount")),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "unit_id", "amount", "reference", "receipt_number")),
        "allocations": list(Allocation.objects.order_by("pk").values_list("pk", "payment_id", "charge_id", "amount")),
    }


def keys(option: str) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("keys", option, stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_migrates_lookalikes_with_money_on_them_without_merging_or_rewriting_anything(monkeypatch, capsys):
    # given: rows stored as typed, before the normal form existed
    company = factories.company()
    main = factories.community("锦绣华庭", company_obj=company)
    fee = factories.charge_type()
    with as_typed(monkeypatch):
        twin = factories.community(f"锦绣华庭{ZWSP}", company_obj=company)
        plain = factories.unit(main, building="1栋", entrance="", room="101")
        wide = factories.unit(main, building="1栋", entrance="", room="１０１")
        spaced = factories.unit(main, building="1栋", entrance=f"{NBSP}", room="102")  # collides with nothing
        other = factories.unit(twin, building="1栋", entrance="", room="101")
        owners = {u.pk: factories.owner(u, f"张{NBSP}三") for u in (plain, wide, spaced, other)}
        for u in (plain, wide, other):
            _charge(u, owners[u.pk], fee)
        _pay(plain, owners[plain.pk], "R1")
        _pay(wide, owners[wide.pk], f"R2{ZWSP}")
    before = snapshot()
    # when: the upgrade runs the data migrations again, as on a database that predates them
    call_command("migrate", "estate", "0005", verbosity=0)
    call_command("migrate", verbosity=0)
    # then: nothing merged or lost; no payment rewritten
    after = snapshot()
    assert after == before
    rooms = dict(Unit.objects.values_list("pk", "room"))
    assert (rooms[plain.pk], rooms[wide.pk]) == ("101", "１０１")
    assert Unit.objects.filter(pk=spaced.pk).values_list("entrance", flat=True).get() == ""
    assert set(Owner.objects.values_list("name", flat=True)) == {"张 三"}
    names = dict(Community.objects.values_list("pk", "name"))
    assert (names[main.pk], names[twin.pk]) == ("锦绣华庭", f"锦绣华庭{ZWSP}")
    printed = capsys.readouterr().out
    assert "请人工合并" in printed
    # then: the check lists exactly the collisions and the evidence, nothing else
    passed, output = keys("--check")
    assert not passed
    listed = [line for line in output.splitlines() if line.startswith(("estate.", "ledger."))]
    assert len(listed) == 3, output
    assert any(line.startswith("estate.Community 撞键") and f"#{twin.pk}" in line and f"#{main.pk}" in line for line in listed)
    assert any(line.startswith("estate.Unit 撞键") and f"#{wide.pk}" in line and f"#{plain.pk}" in line for line in listed)
    assert any(line.startswith("ledger.Payment #") and "是证据" in line for line in listed)
    # then: normalising twice changes nothing more and says the same
    first = keys("--normalise")
    second = keys("--normalise")
    assert snapshot() == before
    assert first == second
    assert not first[0] and "3 lookalike keys remain" in first[1]
