"""Production with no online provider (DEBUG off, ARREARS_PAYMENT_PROVIDERS unset): the sandbox pays nothing.

Issue 13, path 1: with the sandbox as the production default, one POST to its pay page credited the
ledger, issued a receipt and closed the case, and no money moved.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from arrears.collection.models import CaseStatus
from arrears.ledger.models import Allocation, Charge, Payment
from arrears.notices.context import statement_token
from arrears.portal import payments
from arrears.portal.models import OrderStatus, PaymentOrder, Receipt
from arrears.portal.providers import get_provider, reset_cache
from arrears.portal.providers.sandbox import SIGNATURE_HEADER
from tests.collection.conftest import make_case


@pytest.fixture
def no_providers(settings):
    """What production gets without ARREARS_PAYMENT_PROVIDERS (see test_settings for the default itself)."""
    settings.DEBUG = False
    settings.PORTAL_PAYMENT_PROVIDERS = {}
    reset_cache()
    yield settings
    reset_cache()


def _token(estate) -> str:
    return statement_token(estate["owner"].pk, estate["unit"].pk, estate["owner"].link_generation)


def _open_ids(estate) -> list[int]:
    return list(Charge.objects.filter(unit=estate["unit"], owner=estate["owner"], settled_on__isnull=True)
                .order_by("due_date").values_list("pk", flat=True))


def _ledger(case) -> dict:
    case.refresh_from_db()
    return {"payments": Payment.objects.count(), "allocations": Allocation.objects.count(),
            "receipts": Receipt.objects.count(), "case": case.status,
            "orders": list(PaymentOrder.objects.order_by("pk").values_list("status", "payment_id"))}


def test_it_answers_404_to_a_forged_sandbox_payment_and_credits_nothing(client, estate, settings):
    # given an open case and a sandbox order left from a time the sandbox was on (the attacker's best case)
    case = make_case(estate["unit"], estate["owner"])
    order = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=_open_ids(estate),
                                  provider_code="sandbox")
    headers, body = get_provider("sandbox").notification_for(order, trade_no="SB-FORGED")
    # and now production: DEBUG off, no provider configured
    settings.DEBUG = False
    settings.PORTAL_PAYMENT_PROVIDERS = {}
    reset_cache()
    before = _ledger(case)
    # when the attacker posts "pay" to the sandbox's page, and a correctly signed sandbox notification
    paid = client.post(reverse("portal:sandbox_pay", args=[order.number]), {"action": "pay"})
    notified = client.post(reverse("portal:notify", args=["sandbox"]), body, content_type="application/json",
                           headers={SIGNATURE_HEADER: headers[SIGNATURE_HEADER]})
    # then both pages do not exist, and nothing is credited, receipted or closed
    assert paid.status_code == 404 and notified.status_code == 404
    assert _ledger(case) == before
    assert not Payment.objects.filter(method="online").exists() and before["case"] == CaseStatus.OPEN
    assert before["orders"] == [(OrderStatus.CREATED, None)]


def test_it_creates_no_sandbox_order_when_no_provider_is_configured(client, estate, no_providers):
    # given an open case and production without online payment
    case = make_case(estate["unit"], estate["owner"])
    before = _ledger(case)
    # when a forged form asks the owner's pay page for the sandbox
    response = client.post(reverse("portal:pay", args=[_token(estate)]),
                           {"unit": estate["unit"].pk, "charge": _open_ids(estate), "provider": "sandbox"}, follow=True)
    # then it is refused, saying why, and nothing is written
    assert "未启用的支付方式：sandbox" in response.content.decode()
    assert _ledger(case) == before and PaymentOrder.objects.count() == 0


def test_it_tells_the_owner_how_to_pay_when_no_provider_is_configured(client, estate, no_providers):
    # given the community's service centre and the company's transfer account on record
    community = estate["unit"].community
    community.service_centre, community.service_hours = "5栋架空层物业服务中心", "每天 8:30–18:00"
    community.save(update_fields=["service_centre", "service_hours"])
    company = community.company
    company.phone = "0755-8888 6200"
    company.save(update_fields=["phone"])
    no_providers.ARREARS_BANK_ACCOUNT = {"bank": "招商银行深圳分行", "account": "7559 0000 1234 567", "name": "示例物业"}
    # when the owner opens the statement
    page = client.get(reverse("portal:statement", args=[_token(estate)]))
    body = page.content.decode()
    # then the charges and total are there, but no pay form, pay button or sandbox
    assert page.status_code == 200 and "¥621.00" in body
    assert reverse("portal:pay", args=[_token(estate)]) not in body
    assert 'data-testid="pay"' not in body and 'name="charge" value' not in body and "模拟支付" not in body
    # and the page says where, when and how to pay instead
    assert 'data-testid="how-to-pay"' in body and "本站暂未开通在线支付" in body
    for shown in ("5栋架空层物业服务中心", "每天 8:30–18:00", "招商银行深圳分行", "7559 0000 1234 567", "示例物业",
                  "请在附言中注明房号（3栋1单元1201）", "0755-8888 6200"):
        assert shown in body, shown


def test_it_says_in_english_how_to_pay_for_an_english_reader(client, estate, no_providers, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("portal:statement", args=[_token(estate)]))
    body = page.content.decode()
    assert "How to pay" in body and "No online payment" in body and "如何缴费" not in body
    assert "(cash, bank card, WeChat Pay, Alipay)" in body and "（" not in body  # no Chinese punctuation either


def test_it_offers_the_sandbox_only_with_a_notice_that_it_moves_no_money(client, estate, settings):
    # given the sandbox named explicitly (the demo, or a developer)
    settings.PORTAL_PAYMENT_PROVIDERS = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}
    reset_cache()
    token = _token(estate)
    # when the owner opens the statement and pays with it
    page = client.get(reverse("portal:statement", args=[token]))
    response = client.post(reverse("portal:pay", args=[token]),
                           {"unit": estate["unit"].pk, "charge": _open_ids(estate)[:1], "provider": "sandbox"})
    order = PaymentOrder.objects.get()
    cashier = client.get(response.url)
    paid = client.post(response.url, {"action": "pay", "return": reverse("portal:order", args=[token, order.number])})
    result = client.get(paid.url)
    # then every page on the way says that no money moves
    assert "模拟支付”不会转移任何真实款项" in page.content.decode()
    assert "不会产生真实扣款" in cashier.content.decode()
    assert "模拟支付不会转移任何真实款项" in result.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.amount == Decimal("1.50")  # January's late fee


def test_it_serves_the_demo_with_the_sandbox_named_and_saying_so(db, no_providers, tmp_path, monkeypatch):
    # given production's default (no provider) and the demo command, its server replaced by a recorder
    from arrears.demo.management.commands import demo

    served = {}

    def call(name, *args, **kwargs):
        if name == "runserver":
            served["providers"] = dict(no_providers.PORTAL_PAYMENT_PROVIDERS)
            return None
        if name == "collectstatic":
            return None
        return call_command(name, *args, **kwargs)

    monkeypatch.setattr(demo, "call_command", call)
    no_providers.DATA_DIR = tmp_path
    out = io.StringIO()
    # when the demo comes up
    with time_machine.travel(date(2026, 11, 23), tick=False):
        call_command("demo", units=20, seed=7, stdout=out)
    # then its server offers the sandbox, the demo says that it moves no money, and nothing else changed
    assert list(served["providers"]) == ["sandbox"]
    assert "模拟支付不会转移任何真实款项" in out.getvalue()
    assert no_providers.PORTAL_PAYMENT_PROVIDERS == {}


@pytest.mark.parametrize("deployment", [{"SECRET_KEY": "k" * 64}, {"ARREARS_HTTPS": True}], ids=["secret-key", "https"])
def test_it_refuses_to_bring_the_demo_up_on_a_deployment(db, no_providers, tmp_path, monkeypatch, deployment):
    # given a deployment's environment (SECRET_KEY set in it, as arrears.E001 asks, or HTTPS on) and the demo
    # command, whose server would offer the sandbox over that deployment's ledger
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError

    from arrears.demo.management.commands import demo
    from arrears.estate.models import Company

    served = []
    monkeypatch.setattr(demo, "call_command", lambda name, *args, **kwargs: served.append(name))
    if "SECRET_KEY" in deployment:
        monkeypatch.setenv("SECRET_KEY", deployment["SECRET_KEY"])
    else:
        no_providers.ARREARS_HTTPS = True
    no_providers.DATA_DIR = tmp_path
    # when / then: it stops before it migrates, builds data, makes logins with the public password or serves
    with pytest.raises(CommandError, match="部署环境"):
        call_command("demo", units=20, seed=7, stdout=io.StringIO())
    assert served == []
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Company.objects.exists()
