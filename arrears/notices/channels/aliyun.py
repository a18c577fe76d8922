"""Aliyun SMS (阿里云短信服务, dysmsapi 2017-05-25) through its official SDK.

SendSms carries our key as OutId; QuerySendDetails lists a number's messages of one day,
pending ones included, with their OutId, which is how `lookup` finds a message again.
Delivery reports arrive by HTTP push (SmsReport) as a JSON array; see `parse_receipts`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import exceptions as openapi_exceptions
from alibabacloud_tea_openapi import utils_models
from darabonba.exceptions import DaraException
from darabonba.runtime import RuntimeOptions
from django.core.exceptions import ImproperlyConfigured
from Tea.exceptions import TeaException, UnretryableException

from ._util import CHINA, china_time, in_doubt, json_items
from .base import (
    Backend,
    LookupUnsupported,
    Outbound,
    PermanentError,
    Receipt,
    SendResult,
    TransientError,
)

# Flow control and system errors: the same request can succeed later. Every other business
# code (bad number, template or signature not approved, no balance, account stopped) cannot.
TRANSIENT_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (条/分钟, 条/小时, 条/天)
    "isv.DAY_LIMIT_CONTROL",  # the account's daily quota: fine again tomorrow
    "isv.BUSINESS_LIMIT_HOUR",
    "isv.BUSINESS_LIMIT_DAY",
    "BUSINESS_LIMIT_CONTROL_MINUTE",
    "BUSINESS_LIMIT_CONTROL_PHONE",
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "isp.UNKNOWN",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",
}

QUERY_DAYS = 30  # QuerySendDetails answers for the last 30 days only
PAGE_SIZE = 50  # its largest page
MAX_PAGES = 20


def is_transient(code: str) -> bool:
    return code in TRANSIENT_CODES or code.startswith("Throttling")


class AliyunSmsBackend(Backend):
    """Options: access_key_id, access_key_secret (required), endpoint ("dysmsapi.aliyuncs.com"),
    protocol ("https"), region ("cn-hangzhou"), sign_name (used when the message has none),
    connect_timeout and read_timeout in seconds (5 and 10).

    Credentials are given explicitly: without them the SDK would search the environment, config
    files and the ECS metadata service. It retries nothing; the outbox owns retries.
    """

    name = "aliyun"

    def __init__(self, **options):
        super().__init__(**options)
        if not options.get("access_key_id") or not options.get("access_key_secret"):
            raise ImproperlyConfigured(
                "阿里云短信需要 access_key_id 和 access_key_secret "
                "(ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET)"
            )
        self._client: Client | None = None

    def longest_call(self) -> float:
        return float(self.options.get("connect_timeout", 5)) + float(self.options.get("read_timeout", 10))

    @property
    def client(self) -> Client:
        if self._client is None:
            options = self.options
            config = utils_models.Config(
                access_key_id=options["access_key_id"],
                access_key_secret=options["access_key_secret"],
                endpoint=options.get("endpoint") or "dysmsapi.aliyuncs.com",
                protocol=options.get("protocol") or "https",
                region_id=options.get("region") or "cn-hangzhou",
                # The SDK counts in milliseconds.
                connect_timeout=max(1, int(float(options.get("connect_timeout", 5)) * 1000)),
                read_timeout=max(1, int(float(options.get("read_timeout", 10)) * 1000)),
                retry_options=None,  # no retry inside the SDK: a resend could double an SMS
            )
            self._client = Client(config)
        return self._client

    def _call(self, method, request):
        """Call the SDK, turning its exceptions into ours."""
        try:
            return method(request, RuntimeOptions(autoretry=False, max_attempts=1))
        except openapi_exceptions.ThrottlingException as exc:
            raise TransientError(
                f"阿里云限流: {exc.message}", code=exc.code or "Throttling"
            ) from exc
        except openapi_exceptions.AlibabaCloudException as exc:
            code = exc.code or ""
            status = exc.status_code or 0
            text = f"阿里云返回 HTTP {status} {code}: {exc.message}"
            if status >= 500:  # the gateway may have passed the request on before failing
                raise TransientError(text, code=code, in_doubt=True) from exc
            if is_transient(code):
                raise TransientError(text, code=code) from exc
            raise PermanentError(text, code=code) from exc
        except UnretryableException as exc:  # network: refused, reset, timed out
            inner = getattr(exc, "inner_exception", None) or exc
            inner = str(getattr(inner, "message", None) or inner)
            raise TransientError(f"无法连接阿里云: {inner}", in_doubt=in_doubt(inner)) from exc
        except (DaraException, TeaException) as exc:
            raise TransientError(f"阿里云 SDK 错误: {exc}", in_doubt=True) from exc

    def send(self, message: Outbound) -> SendResult:
        request = sms_models.SendSmsRequest(
            phone_numbers=message.to,
            sign_name=message.sign_name or self.options.get("sign_name") or "",
            template_code=message.provider_template,
            template_param=json.dumps(message.params, ensure_ascii=False),
            out_id=message.key,
        )
        body = self._call(self.client.send_sms_with_options, request).body
        code = body.code or ""
        if code == "OK":  # without a BizId its receipts still match by out_id (Receipt.key)
            return SendResult(provider=self.name, provider_message_id=body.biz_id or "")
        text = f"阿里云短信未受理 {code}: {body.message}"
        if is_transient(code):
            raise TransientError(text, code=code)
        raise PermanentError(text, code=code)

    def lookup(self, message: Outbound, sent_after: datetime) -> SendResult | None:
        """Search the number's messages from `sent_after`'s day to today (Beijing time).

        QuerySendDetails does not return BizId, so a found message comes back with an empty
        provider_message_id; its receipts carry our key as out_id (Receipt.key) instead.
        """
        first = sent_after.astimezone(CHINA).date()
        today = datetime.now(CHINA).date()
        if (today - first).days >= QUERY_DAYS:
            raise LookupUnsupported(f"阿里云只能查询最近 {QUERY_DAYS} 天的发送记录")
        day = first
        while day <= today:
            if self._sent_on(message, day.strftime("%Y%m%d")):
                return SendResult(provider=self.name, provider_message_id="")
            day += timedelta(days=1)
        return None

    def _sent_on(self, message: Outbound, send_date: str) -> bool:
        for page in range(1, MAX_PAGES + 1):
            request = sms_models.QuerySendDetailsRequest(
                phone_number=message.to, send_date=send_date, page_size=PAGE_SIZE, current_page=page
            )
            body = self._call(self.client.query_send_details_with_options, request).body
            if body.code != "OK":
                raise TransientError(
                    f"阿里云查询失败 {body.code}: {body.message}", code=body.code or ""
                )
            details = (
                body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
            )
            if any(detail.out_id == message.key for detail in details):
                return True
            if page * PAGE_SIZE >= int(body.total_count or 0) or not details:
                return False
        raise LookupUnsupported(f"{message.to} 在 {send_date} 的短信太多，无法逐条核对")

    def parse_receipts(self, body: bytes, headers: dict[str, str]) -> list[Receipt]:
        """SmsReport: [{"phone_number", "send_time", "report_time", "success", "err_code",
        "err_msg", "sms_size", "biz_id", "out_id"}, …], times in Beijing time."""
        receipts = []
        for item in json_items(body):
            if not item.get("biz_id"):
                raise ValueError("receipt without biz_id")
            success = item.get("success")
            try:
                at = china_time(item.get("report_time") or "")
            except ValueError as exc:
                raise ValueError(f"bad report_time {item.get('report_time')!r}") from exc
            receipts.append(
                Receipt(
                    provider=self.name,
                    provider_message_id=str(item["biz_id"]),
                    delivered=success is True or str(success).lower() == "true",
                    at=at,
                    code=item.get("err_code") or "",
                    description=item.get("err_msg") or "",
                    phone=item.get("phone_number") or "",
                    key=item.get("out_id") or "",
                )
            )
        return receipts

    def receipt_ack(self) -> tuple[str, bytes]:
        """Aliyun checks only that `code` is 0 and pushes again on anything else."""
        body = json.dumps({"code": 0, "msg": "接收成功"}, ensure_ascii=False)
        return "application/json; charset=utf-8", body.encode("utf-8")
