"""Alipay (支付宝) through `python-alipay-sdk`, RSA2 with the public key (not certificate) mode.

Checkout needs no network: the signed request is the query string of the gateway URL the owner's
browser is sent to (手机网站支付 on phones, 电脑网站支付 on desktops). The notification is a
signed form POST, verified with Alipay's public key.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from alipay import AliPay
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.portal.providers.base import (
    Ack,
    Checkout,
    InvalidNotification,
    Notification,
    PaymentProvider,
    StatementRow,
)

CHINA = ZoneInfo("Asia/Shanghai")  # Alipay's times are Beijing time whatever our TIME_ZONE
CENT = Decimal("0.01")
PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
# 业务明细: 业务类型 交易 is a payment, 退款 a refund (of the same 支付宝交易号 and 商户订单号).
KINDS = {"交易": "SUCCESS", "退款": "REFUND"}
SPAN = re.compile(r"起始日期：\[(.+?)\]\s*终止日期：\[(.+?)\]")


def _key(path: str, kind: str) -> str:
    """The key file as PEM; Alipay's key tool and console give bare base64, which the SDK cannot read."""
    text = Path(path).read_text().strip()
    if "-----BEGIN" in text:
        return text
    body = "\n".join(text[i:i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"


def _china_time(value: str) -> datetime:
    return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)


class AlipayProvider(PaymentProvider):
    method = "alipay"

    def __init__(self, *, code: str, **options):
        super().__init__(code=code, **options)
        self.client = AliPay(
            appid=options["appid"], app_private_key_string=_key(options["app_private_key_file"], "PRIVATE KEY"),
            alipay_public_key_string=_key(options["alipay_public_key_file"], "PUBLIC KEY"), sign_type="RSA2",
        )
        self.client._gateway = options["gateway"]  # the SDK's own calls go where the pages go (sandbox in dev)

    def checkout(self, order, *, mobile: bool, return_url: str, notify_url: str) -> Checkout:
        pay = self.client.api_alipay_trade_wap_pay if mobile else self.client.api_alipay_trade_page_pay
        extra = {"quit_url": return_url} if mobile and return_url else {}
        total = order.amount.quantize(CENT)
        if total != order.amount:  # never round money: a stray third decimal is a bug to see, not to hide
            raise DomainError(f"金额 {order.amount} 不是整分", f"amount {order.amount} is not a whole number of fen", code="amount")
        order_string = pay(
            subject=f"物业费 {order.number}", out_trade_no=order.number,
            total_amount=str(total), return_url=return_url or None, notify_url=notify_url,
            time_expire=timezone.localtime(order.expires_at, CHINA).strftime("%Y-%m-%d %H:%M:%S"), **extra,
        )
        return Checkout("redirect", f"{self.options['gateway']}?{order_string}")

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        try:
            data = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidNotification(f"not a form body: {exc}") from exc
        signature = data.pop("sign", "")
        try:
            verified = bool(signature) and self.client.verify(dict(data), signature)
        except Exception as exc:  # a bad base64 signature, or AliPayException for another sign_type
            raise InvalidNotification(f"{type(exc).__name__}: {exc}") from exc
        if not verified:
            raise InvalidNotification("signature does not verify")
        if data.get("app_id") != self.options["appid"]:
            raise InvalidNotification(f"notification for another app: {data.get('app_id')!r}")
        try:
            return Notification(
                order_number=data["out_trade_no"], trade_no=data["trade_no"], amount=Decimal(data["total_amount"]),
                succeeded=data["trade_status"] in PAID,
                paid_at=_china_time(data["gmt_payment"]) if data.get("gmt_payment") else None, raw=data,
            )
        except (KeyError, ValueError, InvalidOperation) as exc:
            raise InvalidNotification(f"malformed notification: {exc!r}") from exc

    def ack(self, ok: bool) -> Ack:
        """Alipay stops resending only on the plain body "success"; "fail" makes it try again later."""
        return Ack(200, "success" if ok else "fail", "text/plain")

    def parse_statement(self, text: str) -> list[StatementRow]:
        """业务明细 CSV from the trade bill zip: "#" lines (title, account, dates, list start/end,
        totals), one header line, then rows whose fields may end in a tab."""
        header, rows = None, []
        for number, fields in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
            values = [value.strip() for value in fields]
            if values and values[0].startswith("#") and header is not None:
                break  # #----业务明细列表结束----: the totals after it are not transactions
            if not any(values) or values[0].startswith("#"):
                continue
            if header is None:
                header = [value.replace("(", "（").replace(")", "）") for value in values]
                missing = {"支付宝交易号", "商户订单号", "业务类型", "订单金额（元）"} - set(header)
                if missing:
                    raise _bad_statement(f"不是支付宝业务明细：缺少列 {'、'.join(sorted(missing))}",
                                         f"not an Alipay business detail file: missing {', '.join(sorted(missing))}")
                continue
            if len(values) != len(header):
                raise _bad_statement(f"第 {number} 行有 {len(values)} 列，表头有 {len(header)} 列",
                                     f"line {number} has {len(values)} fields, the header {len(header)}")
            row = dict(zip(header, values, strict=True))
            try:
                rows.append(StatementRow(
                    order_number=row["商户订单号"], trade_no=row["支付宝交易号"], amount=Decimal(row["订单金额（元）"]),
                    paid_at=_china_time(row["完成时间"]) if row.get("完成时间") else None,
                    status=KINDS.get(row["业务类型"], row["业务类型"]),
                ))
            except (InvalidOperation, ValueError) as exc:
                raise _bad_statement(f"第 {number} 行的金额或时间无法识别", f"line {number}: bad amount or time ({exc})") from exc
        if header is None:
            raise _bad_statement("没有表头（支付宝交易号,商户订单号,…）", "no header line (支付宝交易号,商户订单号,…)")
        return rows

    def statement_span(self, text: str):
        """The file says which days it covers: #起始日期：[2026年05月09日 00:00:00]   终止日期：[…]."""
        found = SPAN.search(text)
        if found is None:
            return super().statement_span(text)
        start, end = (datetime.strptime(value, "%Y年%m月%d日 %H:%M:%S").replace(tzinfo=CHINA) for value in found.groups())
        return start, end


def _bad_statement(zh: str, en: str) -> DomainError:
    return DomainError(f"对账单无法读取：{zh}", f"cannot read the statement: {en}", code="statement")
