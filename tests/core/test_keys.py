"""Lookalike keys stored before normalisation: `arrears keys --check` lists them, the data migration
normalises the safe ones and leaves colliding rows and append-only evidence for a person."""

import importlib
from contextlib import contextmanager
from datetime import date
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models

from arrears.core.fields import KeyField
from arrears.estate.models import Community, Unit
from arrears.ledger import services
from arrears.ledger.models import Payment
from tests import factories

pytestmark = pytest.mark.django_db

ZWSP = "\u200b"


@contextmanager
def as_typed(monkeypatch):
    """Write keys as they were typed, the way rows were stored before KeyField."""
    with monkeypatch.context() as patch:
        patch.setattr(KeyField, "to_python", models.CharField.to_python)
        patch.setattr(KeyField, "get_prep_value", lambda self, value: value)
        patch.setattr(KeyField, "pre_save", models.Field.pre_save)
        yield


@pytest.fixture
def lookalikes(monkeypatch):
    """A lone lookalike community, a unit that collides with 101 once normalised, and a payment's reference."""
    community = factories.community()
    unit = factories.unit(community, room="101")
    owner = factories.owner(unit)
    with as_typed(monkeypatch):
        lone = factories.community(f"明月{ZWSP}小区", company_obj=community.company)
        twin = factories.unit(community, room=f"101{ZWSP}")
        payment = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="10.00", paid_on=date(2026, 1, 5),
                                          method="bank", reference="ＳＪ１")
    assert Unit.objects.filter(pk=twin.pk).values_list("room", flat=True).get() == f"101{ZWSP}"
    return {"lone": lone, "unit": unit, "twin": twin, "payment": payment}


def check() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("keys", "--check", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def test_it_passes_the_check_when_every_key_is_normal():
    # given
    factories.unit(factories.community(f"阳光{ZWSP}花园"), room="１０１")
    # when
    passed, output = check()
    # then
    assert passed, output
    assert "every key is normal" in output


def test_it_lists_lookalikes_and_collisions_and_exits_non_zero(lookalikes):
    # when
    passed, output = check()
    # then
    assert not passed
    assert f"estate.Community #{lookalikes['lone'].pk} {{'name': '明月\\u200b小区'}} 不规范" in output
    assert (f"estate.Unit 撞键 / collide on building,entrance,room: #{lookalikes['unit'].pk} '（规范）'；"
            f"#{lookalikes['twin'].pk} {{'room': '101\\u200b'}}") in output
    assert f"ledger.Payment #{lookalikes['payment'].pk} {{'reference': 'ＳＪ１'}} 是证据" in output
    assert "3 lookalike keys remain" in output
    assert Community.objects.filter(pk=lookalikes["lone"].pk).values_list("name", flat=True).get() == f"明月{ZWSP}小区"


def test_it_normalises_the_safe_lookalikes_and_leaves_money_rows_to_a_person(lookalikes, capsys):
    # given: the data migrations, as migrate runs them
    estate = importlib.import_module("arrears.estate.migrations.0006_normalise_keys")
    ledger = importlib.import_module("arrears.ledger.migrations.0007_normalise_keys")
    # when
    estate.normalise_keys(apps, None)
    ledger.normalise_keys(apps, None)
    # then: the lone community is normal; the colliding unit and the payment are listed, unchanged
    printed = capsys.readouterr().out
    assert "已规范化 / normalised" in printed and "请人工合并" in printed and "是证据" in printed
    assert Community.objects.filter(pk=lookalikes["lone"].pk).values_list("name", flat=True).get() == "明月小区"
    assert Unit.objects.filter(pk=lookalikes["twin"].pk).values_list("room", flat=True).get() == f"101{ZWSP}"
    assert Payment.objects.filter(pk=lookalikes["payment"].pk).values_list("reference", flat=True).get() == "ＳＪ１"
    passed, output = check()
    assert not passed and "2 lookalike keys remain" in output


def test_it_normalises_from_the_command_too(lookalikes):
    # when
    with pytest.raises(CommandError, match="2 lookalike keys remain"):
        call_command("keys", "--normalise", stdout=StringIO())
    # then
    assert Community.objects.filter(pk=lookalikes["lone"].pk).values_list("name", flat=True).get() == "明月小区"


def test_it_never_advises_merging_payments_whose_receipt_numbers_collide(monkeypatch):
    # given: two payments whose receipt numbers read the same, one stored with a zero-width space
    unit = factories.unit(factories.community(), room="101")
    owner = factories.owner(unit)
    first = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="10.00", paid_on=date(2026, 1, 5),
                                    method="cash", receipt_number="R1")
    with as_typed(monkeypatch):
        second = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="10.00", paid_on=date(2026, 1, 6),
                                         method="cash", receipt_number=f"R1{ZWSP}")
    # when
    with pytest.raises(CommandError):
        call_command("keys", "--normalise", stdout=(out := StringIO()))
    # then: both payments as written; the advice is a reversal, never a merge of evidence
    line = next(line for line in out.getvalue().splitlines() if line.startswith("ledger.Payment"))
    assert f"#{first.pk}" in line and f"#{second.pk}" in line
    assert "请人工合并" not in line and "merge by hand" not in line and "冲正" in line
    assert list(Payment.objects.order_by("pk").values_list("receipt_number", flat=True)) == ["R1", f"R1{ZWSP}"]
