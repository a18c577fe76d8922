"""WeChat Pay (微信支付) API v3 through the `wechatpayv3` SDK, in platform public key mode.

Public key mode (微信支付公钥: WECHATPAY_PUBLIC_KEY_FILE and its id) means the SDK verifies answers
and notifications with a key we hold, so nothing is downloaded at start-up and a notification
signed under any other serial is refused without a network call. Phones get an H5 page to
redirect to; desktops get a Native QR code to scan with WeChat.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.utils import timezone
from wechatpayv3 import WeChatPay, WeChatPayType

from arrears.core.errors import DomainError
from arrears.portal.providers.base import (
    Ack,
    Checkout,
    InvalidNotification,
    Notification,
    PaymentProvider,
    StatementRow,
)

CHINA = ZoneInfo("Asia/Shanghai")  # WeChat's bills are in Beijing time whatever our TIME_ZONE
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
SIGNATURE_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                     "Wechatpay-Signature-Type")
# 交易账单: the bill's amount column, newest format first (订单金额 is what the notification's
# amount.total says; 应结订单金额 is less by merchant-funded coupons; 总金额 is the pre-2018 format).
AMOUNT_COLUMNS = ("订单金额", "应结订单金额", "总金额")
REFUND_COLUMNS = ("申请退款金额", "退款金额")


def fen(amount: Decimal) -> int:
    """Yuan to fen, refusing anything that is not a whole number of fen (never rounds money)."""
    cents = amount * HUNDRED
    if cents != cents.to_integral_value():
        raise DomainError(f"金额 {amount} 不是整分", f"amount {amount} is not a whole number of fen", code="amount")
    return int(cents)


def _header(headers: dict, name: str) -> str:
    """A header as Django's META (HTTP_WECHATPAY_SIGNATURE), as sent, or lower-cased."""
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower().removeprefix("http_").replace("_", "-") == wanted:
            return value
    return ""


class WeChatPayProvider(PaymentProvider):
    method = "wechat"

    def __init__(self, *, code: str, **options):
        super().__init__(code=code, **options)
        self.client = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE, mchid=options["mchid"], appid=options["appid"],
            private_key=Path(options["private_key_file"]).read_text(), cert_serial_no=options["cert_serial_no"],
            apiv3_key=options["apiv3_key"], public_key=Path(options["public_key_file"]).read_text(),
            public_key_id=options["public_key_id"], timeout=(5, 15),
        )
        # The SDK hard-codes api.mch.weixin.qq.com; the gateway option lets tests point it at a local fake.
        self.client._core._gate_way = options["gateway"].rstrip("/")

    def checkout(self, order, *, mobile: bool, return_url: str, notify_url: str, client_ip: str = "") -> Checkout:
        """H5 for phones (scene_info must carry the payer's address), Native QR code otherwise."""
        ip = client_ip or getattr(order, "client_ip", "") or "127.0.0.1"
        pay_type, total = (WeChatPayType.H5 if mobile else WeChatPayType.NATIVE), fen(order.amount)
        try:
            status, text = self.client.pay(
                description=f"物业费 {order.number}", out_trade_no=order.number,
                amount={"total": total, "currency": "CNY"}, notify_url=notify_url,
                time_expire=timezone.localtime(order.expires_at, CHINA).isoformat(timespec="seconds"),
                scene_info={"payer_client_ip": ip, "h5_info": {"type": "Wap"}} if mobile else None,
                pay_type=pay_type,
            )
            answer = json.loads(text) if isinstance(text, str) else {}
        except Exception as exc:  # the SDK raises bare Exception (bad answer signature) and requests' errors
            raise self._not_started(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise self._not_started(f"HTTP {status} {answer.get('code', '')} {answer.get('message', '')}".strip())
        url = answer.get("h5_url" if mobile else "code_url")
        if not url:
            raise self._not_started(f"no {'h5_url' if mobile else 'code_url'} in the answer")
        if mobile:
            # WeChat sends the owner back to redirect_url after paying (its H5 documentation).
            return Checkout("redirect", url + (f"&redirect_url={quote(return_url, safe='')}" if return_url else ""))
        return Checkout("qr", url)

    @staticmethod
    def _not_started(detail: str) -> DomainError:
        return DomainError("微信支付暂时无法发起，请稍后再试或选择其他支付方式",
                           f"WeChat Pay could not start the payment ({detail})", code="provider_unavailable")

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        found = {name: _header(headers, name) for name in SIGNATURE_HEADERS}
        if found["Wechatpay-Serial"] != self.options["public_key_id"]:
            # Checked here: for an unknown serial the SDK would go and download platform certificates.
            raise InvalidNotification(f"unknown Wechatpay-Serial {found['Wechatpay-Serial']!r}")
        try:
            data = self.client.callback(found, body)
        except Exception as exc:  # the SDK raises bare Exception for an unknown signature type or algorithm
            raise InvalidNotification(f"{type(exc).__name__}: {exc}") from exc
        if not data:
            raise InvalidNotification("signature or APIv3 decryption failed")
        resource = data["resource"]
        try:
            if resource["mchid"] != self.options["mchid"]:
                raise InvalidNotification(f"notification for another merchant: {resource['mchid']}")
            succeeded = resource["trade_state"] == "SUCCESS"
            return Notification(
                order_number=str(resource["out_trade_no"]), trade_no=str(resource.get("transaction_id", "")),
                amount=(Decimal(int(resource["amount"]["total"])) / HUNDRED).quantize(CENT), succeeded=succeeded,
                paid_at=datetime.fromisoformat(resource["success_time"]) if resource.get("success_time") else None,
                raw=data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidNotification(f"malformed notification: {exc!r}") from exc

    def ack(self, ok: bool) -> Ack:
        """WeChat stops resending on 200/204 with no body; anything else is retried for 24 hours."""
        if ok:
            return Ack(204, "", "application/json")
        return Ack(400, json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False), "application/json")

    def parse_statement(self, text: str) -> list[StatementRow]:
        """交易账单 (ALL/SUCCESS/REFUND): a header line, rows whose every field starts with a backtick,
        then the summary header (总交易单数,…) and its one line, which are not transactions."""
        lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
        if not lines:
            raise _bad_statement("文件是空的", "the file is empty")
        header = [_field(name) for name in next(csv.reader([lines[0]]))]
        need = {"微信订单号", "商户订单号", "交易状态", "交易时间"}
        amount_column = next((name for name in AMOUNT_COLUMNS if name in header), None)
        if need - set(header) or amount_column is None:
            missing = "、".join(sorted(need - set(header)) or ["订单金额"])
            raise _bad_statement(f"不是微信支付交易账单：缺少列 {missing}", f"not a WeChat Pay trade bill: missing {missing}")
        refund_column = next((name for name in REFUND_COLUMNS if name in header), None)
        rows = []
        for number, fields in enumerate(csv.reader(lines[1:]), start=2):
            values = [_field(value) for value in fields]
            if values and values[0].startswith("总交易单数"):
                break
            if len(values) != len(header):
                raise _bad_statement(f"第 {number} 行有 {len(values)} 列，表头有 {len(header)} 列",
                                     f"line {number} has {len(values)} fields, the header {len(header)}")
            row = dict(zip(header, values, strict=True))
            refund = row["交易状态"] == "REFUND" and refund_column
            try:
                rows.append(StatementRow(
                    order_number=row["商户订单号"], trade_no=row["微信订单号"],
                    amount=Decimal(row[refund_column] if refund else row[amount_column]),
                    paid_at=datetime.strptime(row["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA),
                    status=row["交易状态"],
                ))
            except (InvalidOperation, ValueError) as exc:
                raise _bad_statement(f"第 {number} 行的金额或时间无法识别", f"line {number}: bad amount or time ({exc})") from exc
        return rows


def _field(value: str) -> str:
    return value.strip().lstrip("\ufeff").removeprefix("`").strip()


def _bad_statement(zh: str, en: str) -> DomainError:
    return DomainError(f"对账单无法读取：{zh}", f"cannot read the statement: {en}", code="statement")
