"""WeChat Pay: notifications signed and encrypted as WeChat does, posted to /pay/notify/wechat;
checkout against a local fake of the API v3 order endpoints; the trade bill read."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from arrears.core.errors import DomainError
from arrears.ledger.models import Payment
from arrears.portal import payments
from arrears.portal.models import PaymentNotification
from arrears.portal.providers import get_provider
from arrears.portal.providers.base import Notification, StatementRow
from tests.portal import keys
from tests.portal.conftest import ledger_state

CHINA = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent / "data"
TRADE = "4200002026051008000012345678"
NOTIFY_URL = "https://wuye.example.com/pay/notify/wechat"
REFUSED = {"code": "FAIL", "message": "失败"}


def post(client, headers, body):
    return client.post("/pay/notify/wechat", data=body, content_type="application/json", headers=headers)


def outcomes():
    return list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True))


def test_a_good_notification_credits_the_ledger_once_and_a_replay_changes_nothing(client, make_order, provider_keys):
    # given an order of 203.50 for 王小明's April charge
    order = make_order("wechat")
    payments_before = Payment.objects.count()
    headers, body = keys.wechat_notification(keys.wechat_transaction(order.number, total=20350, transaction_id=TRADE),
                                             key=provider_keys.platform)

    # when WeChat Pay notifies, then notifies the same again
    first = post(client, headers, body)
    second = post(client, headers, body)

    # then the first credits 203.50 once and both are answered 204 with no body
    assert (first.status_code, first.content, second.status_code, second.content) == (204, b"", 204, b"")
    order.refresh_from_db()
    assert (order.status, order.provider_trade_no, order.paid_at) == ("paid", TRADE, datetime(2026, 5, 10, 8, tzinfo=CHINA))
    assert Payment.objects.count() == payments_before + 1
    payment = order.payment
    assert (payment.amount, payment.method, payment.reference, payment.receipt_number) == (
        Decimal("203.50"), "wechat", f"wechat:{TRADE}", "SJ2026-000001")
    assert payment.receipt.number == "SJ2026-000001"
    assert outcomes() == ["credited", "duplicate"]
    assert PaymentNotification.objects.filter(order=order).count() == 2


@pytest.mark.parametrize("forge", ["tampered body", "another key", "another APIv3 key", "unknown serial",
                                   "unknown signature type"])
def test_a_notification_that_does_not_verify_is_refused_and_changes_nothing(client, make_order, provider_keys, forge):
    # given an order and a notification WeChat Pay did not send
    order = make_order("wechat")
    resource = keys.wechat_transaction(order.number, total=20350, transaction_id=TRADE)
    options = {
        "another key": {"key": provider_keys.stranger},
        "another APIv3 key": {"apiv3_key": "0" * 32},
        "unknown serial": {"serial": "PUB_KEY_ID_0119000001092026051000000000000002"},
    }.get(forge, {})
    headers, body = keys.wechat_notification(resource, **{"key": provider_keys.platform, **options})
    if forge == "tampered body":
        body = body.replace("支付成功".encode(), "支付失败".encode())
    if forge == "unknown signature type":
        headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SM2-WITH-SM3"
    before = ledger_state(order)

    # when it is posted
    response = post(client, headers, body)

    # then it is refused, kept as refused, and nothing else changed
    assert (response.status_code, json.loads(response.content)) == (400, REFUSED)
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order, kept.body) == ("refused", None, body.decode())
    assert kept.reason.startswith("验签失败 / bad signature")


def test_an_amount_different_from_the_order_is_refused_and_nothing_is_credited(client, make_order, provider_keys):
    order = make_order("wechat")
    before = ledger_state(order)
    headers, body = keys.wechat_notification(keys.wechat_transaction(order.number, total=20349, transaction_id=TRADE),
                                             key=provider_keys.platform)

    response = post(client, headers, body)

    assert (response.status_code, json.loads(response.content)) == (400, REFUSED)
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order, kept.reason) == (
        "refused", order, "金额不符：通知 203.49，订单 203.50 / amount does not match the order")


def test_an_unknown_order_number_is_refused(client, make_order, provider_keys):
    order = make_order("wechat")
    before = ledger_state(order)
    headers, body = keys.wechat_notification(
        keys.wechat_transaction("PO20260510080000FFFFFFFFFF", total=20350, transaction_id=TRADE), key=provider_keys.platform)

    response = post(client, headers, body)

    assert (response.status_code, json.loads(response.content)) == (400, REFUSED)
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order_number, kept.reason) == ("refused", "PO20260510080000FFFFFFFFFF", "未知订单 / unknown order")


def test_an_order_of_another_provider_is_unknown_here(client, make_order, provider_keys):
    order = make_order("alipay")
    headers, body = keys.wechat_notification(keys.wechat_transaction(order.number, total=20350, transaction_id=TRADE),
                                             key=provider_keys.platform)

    response = post(client, headers, body)

    assert response.status_code == 400
    assert PaymentNotification.objects.get().reason == "未知订单 / unknown order"


def test_a_notification_for_another_merchant_is_refused(client, make_order, provider_keys):
    order = make_order("wechat")
    before = ledger_state(order)
    resource = keys.wechat_transaction(order.number, total=20350, transaction_id=TRADE, mchid="1900000110")
    headers, body = keys.wechat_notification(resource, key=provider_keys.platform)

    response = post(client, headers, body)

    assert response.status_code == 400
    assert ledger_state(order) == before
    assert PaymentNotification.objects.get().reason == "验签失败 / bad signature: notification for another merchant: 1900000110"


def test_a_state_other_than_success_is_ignored(client, make_order, provider_keys):
    order = make_order("wechat")
    before = ledger_state(order)
    resource = keys.wechat_transaction(order.number, total=20350, transaction_id=TRADE, trade_state="PAYERROR")
    del resource["success_time"]
    headers, body = keys.wechat_notification(resource, key=provider_keys.platform)

    response = post(client, headers, body)

    assert (response.status_code, response.content) == (204, b"")
    assert ledger_state(order) == before
    kept = PaymentNotification.objects.get()
    assert (kept.outcome, kept.order, kept.reason) == ("ignored", order, "支付未成功 / not a success")


@pytest.mark.parametrize("style", ["as sent", "lower-case", "Django META"])
def test_it_reads_the_signature_headers_however_they_are_spelt(make_order, provider_keys, style):
    order = make_order("wechat")
    headers, body = keys.wechat_notification(keys.wechat_transaction(order.number, total=20350, transaction_id=TRADE),
                                             key=provider_keys.platform)
    spelt = {
        "as sent": headers,
        "lower-case": {name.lower(): value for name, value in headers.items()},
        "Django META": {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }[style]

    note = get_provider("wechat").parse_notification(headers=spelt, body=body)

    assert note == Notification(order.number, TRADE, Decimal("203.50"), True, datetime(2026, 5, 10, 8, tzinfo=CHINA),
                                raw=note.raw)
    assert note.raw["resource"]["out_trade_no"] == order.number


def test_it_acknowledges_as_wechat_expects():
    provider = get_provider("wechat")

    assert (provider.ack(True).status, provider.ack(True).body) == (204, "")
    assert (provider.ack(False).status, json.loads(provider.ack(False).body)) == (400, REFUSED)


# ---- checkout ---------------------------------------------------------------------------------------


def test_a_desktop_checkout_is_a_native_qr_code(make_order, fake_wechat):
    order = make_order("wechat")

    checkout = get_provider("wechat").checkout(order, mobile=False, return_url="", notify_url=NOTIFY_URL)

    assert checkout.kind == "qr" and checkout.url.startswith("weixin://wxpay/bizpayurl?pr=")
    [call] = fake_wechat.calls
    assert call.path == "/v3/pay/transactions/native"
    assert call.body == {
        "notify_url": NOTIFY_URL, "description": f"物业费 {order.number}", "out_trade_no": order.number,
        "amount": {"total": 20350, "currency": "CNY"}, "time_expire": "2026-05-10T08:30:00+08:00",
        "appid": keys.WECHAT_APPID, "mchid": keys.MCHID,
    }


def test_a_mobile_checkout_is_an_h5_page_that_returns_to_us(make_order, fake_wechat):
    order = make_order("wechat")
    back = f"https://wuye.example.com/s/token/orders/{order.number}"

    checkout = get_provider("wechat").checkout(order, mobile=True, return_url=back, notify_url=NOTIFY_URL,
                                               client_ip="203.0.113.7")

    [call] = fake_wechat.calls
    assert call.path == "/v3/pay/transactions/h5"
    assert call.body["scene_info"] == {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}
    assert checkout.kind == "redirect"
    assert checkout.url.startswith("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx")
    assert checkout.url.endswith("&package=1037687096&redirect_url=" + quote(back, safe=""))


def test_start_checkout_keeps_the_page_on_the_order_and_defaults_the_payer_address(make_order, fake_wechat):
    order = make_order("wechat")

    checkout = payments.start_checkout(order, mobile=True, return_url="", notify_url=NOTIFY_URL)

    order.refresh_from_db()
    assert order.checkout_url == checkout.url
    assert fake_wechat.calls[0].body["scene_info"]["payer_client_ip"] == "127.0.0.1"


@pytest.mark.parametrize("trouble", ["refused", "answer not signed by WeChat", "unreachable"])
def test_when_wechat_cannot_start_the_payment_the_owner_is_told_and_nothing_changes(make_order, fake_wechat,
                                                                                    provider_keys, providers, trouble):
    order = make_order("wechat")
    if trouble == "refused":
        fake_wechat.fail = (403, {"code": "NO_AUTH", "message": "商户号该产品权限未开通，请前往商户平台>产品中心检查后重试"})
    if trouble == "answer not signed by WeChat":
        fake_wechat.platform_key = provider_keys.stranger
    if trouble == "unreachable":
        fake_wechat.stop()

    with pytest.raises(DomainError) as refused:
        payments.start_checkout(order, mobile=False, return_url="", notify_url=NOTIFY_URL)

    assert (refused.value.zh, refused.value.code) == ("微信支付暂时无法发起，请稍后再试或选择其他支付方式", "provider_unavailable")
    if trouble == "refused":
        assert refused.value.en == "WeChat Pay could not start the payment (HTTP 403 NO_AUTH 商户号该产品权限未开通，请前往商户平台>产品中心检查后重试)"
    order.refresh_from_db()
    assert (order.checkout_url, order.status) == ("", "created")


def test_an_amount_that_is_not_whole_fen_is_never_rounded(make_order, fake_wechat):
    order = make_order("wechat")
    order.amount = Decimal("203.505")

    with pytest.raises(DomainError) as refused:
        get_provider("wechat").checkout(order, mobile=False, return_url="", notify_url=NOTIFY_URL)

    assert (refused.value.zh, refused.value.code) == ("金额 203.505 不是整分", "amount")
    assert fake_wechat.calls == []


# ---- the trade bill (交易账单) -------------------------------------------------------------------------


def test_it_reads_the_all_trade_bill_and_skips_the_summary():
    text = (DATA / "wechat_trade_bill_all.csv").read_text(encoding="utf-8")

    rows = get_provider("wechat").parse_statement(text)

    assert rows == [
        StatementRow("PO20260509091200A1B2C3D4E5", "4200002026050912345678901234", Decimal("203.50"),
                     datetime(2026, 5, 9, 9, 12, 31, tzinfo=CHINA), "SUCCESS"),
        StatementRow("PO202605091530117C0FFEE123", "4200002026050915301198765432", Decimal("206.60"),
                     datetime(2026, 5, 9, 15, 30, 40, tzinfo=CHINA), "SUCCESS"),
        StatementRow("PO20260508201500BADC0FFEE1", "4200002026050820150011112222", Decimal("209.40"),
                     datetime(2026, 5, 9, 16, 40, 2, tzinfo=CHINA), "REFUND"),
        StatementRow("PO20260509235958DEADBEEF01", "4200002026050923595955556666", Decimal("0.01"),
                     datetime(2026, 5, 9, 23, 59, 59, tzinfo=CHINA), "SUCCESS"),
    ]


def test_the_bill_covers_the_days_of_its_rows():
    text = (DATA / "wechat_trade_bill_all.csv").read_text(encoding="utf-8")

    assert get_provider("wechat").statement_span(text) == (datetime(2026, 5, 9, tzinfo=CHINA),
                                                           datetime(2026, 5, 10, tzinfo=CHINA))


@pytest.mark.parametrize(("text", "zh"), [
    ("", "对账单无法读取：文件是空的"),
    ("支付宝交易号,商户订单号,业务类型\n", "对账单无法读取：不是微信支付交易账单：缺少列 交易时间、交易状态、微信订单号"),
    ("交易时间,微信订单号,商户订单号,交易状态,订单金额\n`2026-05-09 09:12:31,`4200,`PO1,`SUCCESS\n",
     "对账单无法读取：第 2 行有 4 列，表头有 5 列"),
    ("交易时间,微信订单号,商户订单号,交易状态,订单金额\n`2026-05-09 09:12:31,`4200,`PO1,`SUCCESS,`二百\n",
     "对账单无法读取：第 2 行的金额或时间无法识别"),
])
def test_a_file_that_is_not_a_trade_bill_says_what_is_wrong(text, zh):
    with pytest.raises(DomainError) as refused:
        get_provider("wechat").parse_statement(text)

    assert (refused.value.zh, refused.value.code) == (zh, "statement")

