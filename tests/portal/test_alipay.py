"""Alipay: notifications signed RSA2 as Alipay does, posted to /pay/notify/alipay; the checkout URL
verified with the app's public key; the 业务明细 bill read."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest

from arrears.core.errors import DomainError
from arrears.ledger.models import Payment
from arrears.portal.models import PaymentNotification
from arrears.portal.providers import get_provider
from arrears.portal.providers.base import Ack, StatementRow
from tests.portal import keys
from tests.portal.conftest import ledger_state

CHINA = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent / "data"
TRADE = "2026051022001446881400001234"
GATEWAY = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
NOTIFY_URL = "https://wuye.example.com/pay/notify/alipay"


def post(client, body):
    return client.post("/pay/notify/alipay", data=body, content_type="application/x-www-form-urlencoded")


def outcomes():
    return list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True))


def test_a_good_notification_credits_the_ledger_once_and_a_replay_changes_nothing(client, make_order, provider_keys):
    # given an order of 203.50 for 王小明's April charge
    order = make_order("alipay")
    payments_before = Payment.objects.count()
    body = keys.alipay_notification(keys.alipay_fields(order.number, total_amount="203.50", trade_no=TRADE),
                                    key=provider_keys.alipay)

    # when Alipay notifies, then notifies the same again
    first = post(client, body)
    second = post(client, body)

    # then the first credits 203.50 once and both are answered "success"
    assert (first.status_code, first.content, second.status_code, second.content) == (200, b"success", 200, b"success")
    order.refresh_from_db()
    assert (order.status, order.provider_trade_no, order.paid_at) == ("paid", TRADE, datetime(2026, 5, 10, 8, tzinfo=CHINA))
    assert Payment.objects.count() == payments_before + 1
    payment = order.payment
    assert (payment.amount, payment.method, payment.reference, payment.receipt_number) == (
        Decimal("203.50"), "alipay", f"alipay:{TRADE}", "SJ2026-000001")
    assert payment.receipt.number == "SJ2026-000001"
    assert outcomes() == ["credited", "duplicate"]


def test_trade_finished_after_trade_success_is_the_same_payment(client, make_order, provider_keys):
    order = make_order("alipay")
    for status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        fields = keys.alipay_fields(order.number, total_amount="203.50", trade_no=TRADE, trade_status=status)
        assert post(client, keys.alipay_notification(fields, key=provider_keys.alipay)).content == b"success"

    assert outcomes() == ["credited", "duplicate"]
    assert Payment.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("forge", ["tampered amount", "another key", "no signature", "garbage signature",
                                   "another sign type"])
def test_a_notification_that_does_not_verify_is_refused_and_changes_nothing(client, make_order, provider_keys, forge):
    # given an order and a notification Alipay did not send
    order = make_order("alipay")
    fields = keys.alipay_fields(order.number, total_amount="203.50", trade_no=TRADE)
    body = keys.alipay_notification(fields, key=provider_keys.stranger if forge == "another key" else provider_keys.alipay)
    data = dict(parse_qsl(body.decode()))
    if forge == "tampered amount":
        data["total_amount"] = data["receipt_amount"] = "2.03"
    if forge == "no signature":
        del data["sign"]
    if forge == "garbage signature":
        data["sign"] = "not base64!"
    if forge == "another sign type":
        data["sign_type"] = "RSA"
    body = urlencode(data).encode()
    before = ledger_state(order)

    # when it is posted
    response = post(client, body)

    # then it is refused with "fail" (Alipay tries again later), kept, and nothing else changed
    assert (response.status_code, response.content) == (200, b"fail")
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order) == ("refused", None)
    assert kept.reason.startswith("验签失败 / bad signature")


def test_a_notification_for_another_app_is_refused(client, make_order, provider_keys):
    order = make_order("alipay")
    before = ledger_state(order)
    fields = keys.alipay_fields(order.number, total_amount="203.50", trade_no=TRADE, app_id="2021000199999999")

    response = post(client, keys.alipay_notification(fields, key=provider_keys.alipay))

    assert response.content == b"fail"
    assert ledger_state(order) == before
    assert PaymentNotification.objects.get().reason == (
        "验签失败 / bad signature: notification for another app: '2021000199999999'")


def test_an_amount_different_from_the_order_is_refused_and_nothing_is_credited(client, make_order, provider_keys):
    order = make_order("alipay")
    before = ledger_state(order)
    fields = keys.alipay_fields(order.number, total_amount="203.00", trade_no=TRADE)

    response = post(client, keys.alipay_notification(fields, key=provider_keys.alipay))

    assert (response.status_code, response.content) == (200, b"fail")
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order, kept.reason) == (
        "refused", order, "金额不符：通知 203.00，订单 203.50 / amount does not match the order")


def test_an_unknown_order_number_is_refused(client, make_order, provider_keys):
    order = make_order("alipay")
    before = ledger_state(order)
    fields = keys.alipay_fields("PO20260510080000FFFFFFFFFF", total_amount="203.50", trade_no=TRADE)

    response = post(client, keys.alipay_notification(fields, key=provider_keys.alipay))

    assert response.content == b"fail"
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order_number, kept.reason) == ("refused", "PO20260510080000FFFFFFFFFF", "未知订单 / unknown order")


@pytest.mark.parametrize("status", ["WAIT_BUYER_PAY", "TRADE_CLOSED"])
def test_a_status_other_than_paid_is_ignored(client, make_order, provider_keys, status):
    order = make_order("alipay")
    before = ledger_state(order)
    fields = keys.alipay_fields(order.number, total_amount="203.50", trade_no=TRADE, trade_status=status)
    del fields["gmt_payment"]

    response = post(client, keys.alipay_notification(fields, key=provider_keys.alipay))

    assert (response.status_code, response.content) == (200, b"success")
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order, kept.reason) == ("ignored", order, "支付未成功 / not a success")


def test_it_acknowledges_as_alipay_expects():
    provider = get_provider("alipay")

    assert (provider.ack(True), provider.ack(False)) == (Ack(200, "success", "text/plain"), Ack(200, "fail", "text/plain"))


# ---- checkout ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mobile", "method", "product"), [
    (False, "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    (True, "alipay.trade.wap.pay", "QUICK_WAP_PAY"),
])
def test_checkout_is_the_gateway_with_the_signed_request(make_order, provider_keys, mobile, method, product):
    # given an order of 203.50
    order = make_order("alipay")
    back = f"https://wuye.example.com/s/token/orders/{order.number}"

    # when the owner checks out
    checkout = get_provider("alipay").checkout(order, mobile=mobile, return_url=back, notify_url=NOTIFY_URL)

    # then the browser goes to the gateway with a request our app key signed
    assert checkout.kind == "redirect"
    url = urlsplit(checkout.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == GATEWAY
    params = dict(parse_qsl(url.query))
    signature = params.pop("sign")
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    assert keys.verify(provider_keys.app.public_key(), message, signature)
    biz = json.loads(params.pop("biz_content"))
    assert params == {
        "app_id": keys.ALIPAY_APPID, "method": method, "charset": "utf-8", "sign_type": "RSA2",
        "timestamp": "2026-05-10 08:00:00", "version": "1.0", "notify_url": NOTIFY_URL, "return_url": back,
    }
    assert biz == {
        "subject": f"物业费 {order.number}", "out_trade_no": order.number, "total_amount": "203.50",
        "product_code": product, "time_expire": "2026-05-10 08:30:00", **({"quit_url": back} if mobile else {}),
    }


def test_a_request_changed_on_the_way_no_longer_verifies(make_order, provider_keys):
    order = make_order("alipay")
    checkout = get_provider("alipay").checkout(order, mobile=False, return_url="", notify_url=NOTIFY_URL)
    params = dict(parse_qsl(urlsplit(checkout.url).query))
    signature = params.pop("sign")
    params["biz_content"] = params["biz_content"].replace('"203.50"', '"2.03"')

    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    assert not keys.verify(provider_keys.app.public_key(), message, signature)
    assert "return_url" not in params


def test_an_amount_that_is_not_whole_fen_is_never_rounded(make_order):
    order = make_order("alipay")
    order.amount = Decimal("203.505")

    with pytest.raises(DomainError) as refused:
        get_provider("alipay").checkout(order, mobile=False, return_url="", notify_url=NOTIFY_URL)

    assert (refused.value.zh, refused.value.code) == ("金额 203.505 不是整分", "amount")


# ---- the business detail bill (业务明细) ----------------------------------------------------------------


def test_it_reads_the_business_detail_and_skips_the_comments_and_totals():
    text = (DATA / "alipay_business_detail.csv").read_bytes().decode("gbk")

    rows = get_provider("alipay").parse_statement(text)

    assert rows == [
        StatementRow("PO20260509091200A1B2C3D4E5", "2026050922001446881412345678", Decimal("203.50"),
                     datetime(2026, 5, 9, 9, 12, 31, tzinfo=CHINA), "SUCCESS"),
        StatementRow("PO202605091530117C0FFEE123", "2026050922001446881498765432", Decimal("206.60"),
                     datetime(2026, 5, 9, 15, 30, 40, tzinfo=CHINA), "SUCCESS"),
        StatementRow("PO20260508201500BADC0FFEE1", "2026050822001446881411112222", Decimal("209.40"),
                     datetime(2026, 5, 9, 16, 40, 2, tzinfo=CHINA), "REFUND"),
    ]


def test_the_bill_covers_the_dates_in_its_heading():
    text = (DATA / "alipay_business_detail.csv").read_bytes().decode("gbk")

    assert get_provider("alipay").statement_span(text) == (datetime(2026, 5, 9, tzinfo=CHINA),
                                                           datetime(2026, 5, 10, tzinfo=CHINA))


@pytest.mark.parametrize(("text", "zh"), [
    ("", "对账单无法读取：没有表头（支付宝交易号,商户订单号,…）"),
    ("#支付宝业务明细查询\n交易时间,微信订单号\n", "对账单无法读取：不是支付宝业务明细：缺少列 业务类型、商户订单号、支付宝交易号、订单金额（元）"),
    ("支付宝交易号,商户订单号,业务类型,订单金额（元）\n2026\t,PO1\t,交易\t\n", "对账单无法读取：第 2 行有 3 列，表头有 4 列"),
])
def test_a_file_that_is_not_a_business_detail_says_what_is_wrong(text, zh):
    with pytest.raises(DomainError) as refused:
        get_provider("alipay").parse_statement(text)

    assert (refused.value.zh, refused.value.code) == (zh, "statement")
