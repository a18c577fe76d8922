"""Incentives as the owner sees them: the offer on the statement, the grant on the statement and the receipt."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from arrears.ledger import incentives, services
from arrears.notices.context import statement_token
from arrears.portal.models import Receipt
from arrears.portal.receipt_pdf import render_receipt
from arrears.portal.receipts import record_with_receipt
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    cache.clear()
    community = factories.community()
    unit = factories.unit(community, building="3栋", room="1201")
    owner = factories.owner(unit, "王小明")
    factories.tariff(community, due_day=25)  # 200.00 a month due the 25th
    manager = factories.user("manager")
    incentives.create_programme(community_id=community.pk, kind="early_payment", name="提前缴费九五折",
                                valid_from=date(2026, 1, 1), days=10, percent="5", created_by=manager)
    services.bill(through=date(2026, 1, 1))
    return community, unit, owner


def page(client, owner, unit):
    return client.get(reverse("portal:statement", args=[statement_token(owner.pk, unit.pk, owner.link_generation)]))


def test_the_statement_announces_the_early_payment_discount(client, estate):
    community, unit, owner = estate
    with time_machine.travel(date(2026, 1, 5), tick=False):
        response = page(client, owner, unit)
    text = response.content.decode()
    assert response.status_code == 200
    assert "提前缴费九五折：2026-01-15 前缴清2026-01 物业费 ¥190.00，可省 ¥10.00。" in " ".join(text.split())


def test_the_offer_is_gone_after_its_deadline(client, estate):
    community, unit, owner = estate
    with time_machine.travel(date(2026, 1, 16), tick=False):
        response = page(client, owner, unit)
    assert 'data-testid="offer"' not in response.content.decode()


def test_the_receipt_and_the_statement_show_the_discount_with_its_programme(client, estate):
    community, unit, owner = estate
    with time_machine.travel(date(2026, 1, 10), tick=False):
        payment = record_with_receipt(unit_id=unit.pk, owner_id=owner.pk, amount="200.00", paid_on=date(2026, 1, 10),
                                      method="cash", reference="", number="SJ2026-000001")
        response = page(client, owner, unit)
    content = Receipt.objects.get(payment=payment).content
    assert content["credit"] == "10.00"
    assert content["discounts"] == [{
        "programme": "提前缴费九五折", "kind": "提前缴费优惠", "charge_type": "物业费", "period": "2026-01-01–2026-01-31",
        "component": "本金", "amount": "10.00",
    }]
    assert render_receipt(number="SJ2026-000001", issued_at=Receipt.objects.get().issued_at, content=content,
                          voided=False).startswith(b"%PDF")
    text = " ".join(response.content.decode().split())
    assert 'data-testid="incentive"' in text and "提前缴费九五折（提前缴费优惠）" in text and "-¥10.00" in text


def test_the_english_statement_translates_the_offer(client, estate, settings):
    community, unit, owner = estate
    with time_machine.travel(date(2026, 1, 5), tick=False):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = page(client, owner, unit)
    text = " ".join(response.content.decode().split())
    assert "pay" in text.lower() and "save ¥10.00" in text


def test_the_desk_waives_the_late_fee_before_the_receipt_is_issued(estate):
    community, unit, owner = estate
    from arrears.collection.models import Case, ContactAttempt
    manager = factories.user("boss")
    incentives.create_programme(community_id=community.pk, kind="late_fee_waiver", name="主动缴清免违约金",
                                valid_from=date(2026, 1, 1), days=7, created_by=manager)
    case = Case.objects.create(community=community, unit=unit, owner=owner, opened_on=date(2026, 1, 26), as_of=date(2026, 1, 26),
                               principal=D("200.00"), late_fee=D("0.10"), oldest_due=date(2026, 1, 25), days_overdue=1,
                               months_overdue=1, bucket="1-30", tier="C")
    with time_machine.travel(date(2026, 2, 1), tick=False):
        from django.utils import timezone
        ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                      at=timezone.now(), outcome="answered", notes="提醒", staff=manager)
    with time_machine.travel(date(2026, 2, 5), tick=False):
        payment = record_with_receipt(unit_id=unit.pk, owner_id=owner.pk, amount="200.00", paid_on=date(2026, 2, 5),
                                      method="cash", reference="", number="SJ2026-000002")
    content = Receipt.objects.get(payment=payment).content
    assert [(d["programme"], d["component"], d["amount"]) for d in content["discounts"]] == [
        ("主动缴清免违约金", "违约金", "1.10")]
