"""The import reads keys in their normal form (issue 13, path 9), as KeyField stores them.

A careless user's workbook carries "１０１", a pasted zero-width space or a non-breaking space in a
key: it names the unit that exists, it is not a new unit that then dies on the unique constraint.
And the file imported before the upgrade, imported again, must not pay twice a receipt whose
number was stored with an invisible character (append-only evidence, left as written).
"""

from datetime import date

import pytest
import time_machine

from arrears.estate.models import Community, Owner, Unit
from arrears.ledger import import_files, importers
from arrears.ledger.importers import run_import
from arrears.ledger.models import Charge, Payment
from tests import factories
from tests.core.test_keys import as_typed
from tests.ledger.test_importers import xlsx

pytestmark = pytest.mark.django_db

ZWSP, NBSP = "\u200b", "\u00a0"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


@pytest.fixture
def unit():
    found = factories.unit(factories.community("阳光花园"), building="1栋", entrance="1", room="101")
    factories.owner(found, "张三")
    factories.charge_type()
    return found


def test_it_matches_the_existing_unit_and_owner_when_the_file_has_lookalike_keys(unit):
    # given: fullwidth digits, a zero-width space, a non-breaking space
    key = [f"阳光花园{ZWSP}", "１栋", f"{NBSP}1", "１０１"]
    file = xlsx({
        "房屋": [[*key, 100, "自住"]],
        "业主": [[*key, f"张{ZWSP}三", "", "", "2020-01-01"]],
        "应收": [[*key, "物业费", date(2026, 1, 1), date(2026, 1, 31), 200, date(2026, 1, 5)]],
        "缴费": [[*key, date(2026, 1, 10), 50, "现金", f"Ｒ１{ZWSP}"]],
    })
    # when
    report = run_import(file, dry_run=False, company_name=unit.community.company.name)
    # then: one community, one unit, one owner; the charge and payment are on them
    assert report.ok, report.errors
    assert (Community.objects.count(), Unit.objects.count(), Owner.objects.count()) == (1, 1, 1)
    assert Charge.objects.get().unit_id == unit.pk
    assert Payment.objects.values_list("unit_id", "receipt_number").get() == (unit.pk, "R1")


def test_it_does_not_take_a_payment_twice_whose_receipt_number_was_stored_with_an_invisible_character(unit, monkeypatch):
    # given: the file imported before the upgrade, its receipt number stored as typed
    def file():
        return xlsx({"缴费": [["阳光花园", "1栋", "1", "101", date(2026, 1, 10), 50, "现金", f"R2{ZWSP}"]]})

    with as_typed(monkeypatch), monkeypatch.context() as patch:
        patch.setattr(importers, "normalise_key", lambda value: value, raising=False)
        patch.setattr(import_files, "normalise_key", lambda value: value)
        assert run_import(file(), dry_run=False, company_name=unit.community.company.name).ok
    assert Payment.objects.values_list("receipt_number", flat=True).get() == f"R2{ZWSP}"
    # when: the same file is imported again
    report = run_import(file(), dry_run=False, company_name=unit.community.company.name)
    # then: matched, not a second payment; the stored number is unchanged
    assert report.ok, report.errors
    assert report.counts["缴费"] == 0 and report.counts["已存在（跳过）"] == 1
    assert list(Payment.objects.values_list("receipt_number", flat=True)) == [f"R2{ZWSP}"]


def test_it_refuses_another_payment_under_a_stored_lookalike_receipt_number(unit, monkeypatch):
    # given
    with as_typed(monkeypatch), monkeypatch.context() as patch:
        patch.setattr(importers, "normalise_key", lambda value: value, raising=False)
        patch.setattr(import_files, "normalise_key", lambda value: value)
        run_import(xlsx({"缴费": [["阳光花园", "1栋", "1", "101", date(2026, 1, 10), 50, "现金", f"R3{ZWSP}"]]}),
                   dry_run=False, company_name=unit.community.company.name)
    # when: another amount under what reads as the same number
    report = run_import(xlsx({"缴费": [["阳光花园", "1栋", "1", "101", date(2026, 2, 10), 70, "现金", "R3"]]}),
                        dry_run=False, company_name=unit.community.company.name)
    # then
    assert not report.ok
    assert "已被系统中另一笔缴费使用" in report.errors[0].reason
    assert Payment.objects.count() == 1
