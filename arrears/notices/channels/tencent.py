"""Tencent Cloud SMS (腾讯云短信, API 2021-01-11) through its official SDK.

SendSms carries our key as SessionContext, which Tencent echoes in its status records.
Delivery reports arrive by HTTP callback as a JSON array; see `parse_receipts`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from ._util import china_time, in_doubt, json_items
from .base import (
    Backend,
    LookupUnsupported,
    Outbound,
    PermanentError,
    Receipt,
    SendResult,
    TransientError,
)

TRANSIENT_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded", "InternalError")
# Look transient by their prefix, but retrying cannot help: a request shape, a blocked region,
# or a signature we compute wrongly.
PERMANENT_CODES = {
    "LimitExceeded.PhoneNumberCountLimit",
    "LimitExceeded.AppCountryOrRegionInBlacklist",
    "InternalError.SigFieldMissing",
    "InternalError.SigVerificationFail",
    "InternalError.RestApiInterfaceNotExist",
}
PULL_DAYS = 7  # PullSmsSendStatusByPhoneNumber reaches back 7 days
PULL_LIMIT = 100  # its largest page; Offset must be 0
CLOCK_MARGIN = timedelta(minutes=1)  # our clock against Tencent's


def is_transient(code: str) -> bool:
    return code.startswith(TRANSIENT_PREFIXES) and code not in PERMANENT_CODES


def e164(phone: str) -> str:
    """Tencent wants +86 numbers; mainland numbers are stored as 11 digits."""
    return phone if phone.startswith("+") else f"+86{phone}"


class TencentSmsBackend(Backend):
    """Options: secret_id, secret_key, sdk_app_id (required), sign_name (used when the message
    has none), region ("ap-guangzhou"), endpoint ("sms.tencentcloudapi.com"), scheme ("https"),
    connect_timeout and read_timeout in seconds (5 and 10).

    Template parameters go to Tencent in the order of `Outbound.params`: Tencent templates
    number their slots {1}, {2}, …, so the dict must be built in the template's slot order.
    """

    name = "tencent"

    def __init__(self, **options):
        super().__init__(**options)
        missing = [n for n in ("secret_id", "secret_key", "sdk_app_id") if not options.get(n)]
        if missing:
            raise ImproperlyConfigured(
                f"腾讯云短信缺少配置: {', '.join(missing)} "
                "(TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY, TENCENT_SMS_SDK_APP_ID)"
            )
        self._client: SmsClient | None = None

    def longest_call(self) -> float:
        return float(self.options.get("connect_timeout", 5)) + float(self.options.get("read_timeout", 10))

    @property
    def client(self) -> SmsClient:
        if self._client is None:
            options = self.options
            http = HttpProfile(
                protocol=options.get("scheme") or "https",
                endpoint=options.get("endpoint") or "sms.tencentcloudapi.com",
                # requests takes (connect, read); the SDK passes it through unchanged.
                reqTimeout=(
                    float(options.get("connect_timeout", 5)),
                    float(options.get("read_timeout", 10)),
                ),
            )
            # No retryer and no region breaker: one request per call, the outbox owns retries.
            profile = ClientProfile(httpProfile=http, disable_region_breaker=True, retryer=None)
            # Explicit credentials: the SDK's provider chain would otherwise read the environment,
            # profile files and the CVM metadata service.
            credential = Credential(options["secret_id"], options["secret_key"])
            self._client = SmsClient(credential, options.get("region") or "ap-guangzhou", profile)
        return self._client

    def _call(self, method, request):
        """Call the SDK, turning its exceptions into ours."""
        try:
            return method(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            if exc.get_request_id():  # Tencent answered with an error code
                text = f"腾讯云返回 {code}: {exc.get_message()}"
                if is_transient(code):
                    raise TransientError(text, code=code) from exc
                raise PermanentError(text, code=code) from exc
            # No answer: ClientNetworkError (refused, reset, timeout), ServerNetworkError (HTTP
            # status other than 200) or an unreadable body.
            message = exc.get_message()
            if isinstance(message, bytes):  # ServerNetworkError carries the raw body
                message = message.decode("utf-8", "replace")
            doubt = code != "ClientNetworkError" or in_doubt(message)
            raise TransientError(
                f"无法连接腾讯云 {code}: {message}", code=code, in_doubt=doubt
            ) from exc

    def send(self, message: Outbound) -> SendResult:
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [e164(message.to)]
        request.SmsSdkAppId = str(self.options["sdk_app_id"])
        request.SignName = message.sign_name or self.options.get("sign_name") or ""
        request.TemplateId = message.provider_template
        request.TemplateParamSet = [str(value) for value in message.params.values()]
        request.SessionContext = message.key
        response = self._call(self.client.SendSms, request)
        if not response.SendStatusSet:
            raise TransientError("腾讯云应答中没有发送状态", in_doubt=True)
        status = response.SendStatusSet[0]
        code = status.Code or ""
        if code == "Ok" and status.SerialNo:
            return SendResult(provider=self.name, provider_message_id=status.SerialNo)
        text = f"腾讯云短信未受理 {code}: {status.Message}"
        if is_transient(code):
            raise TransientError(text, code=code)
        raise PermanentError(text, code=code)

    def lookup(self, message: Outbound, sent_after: datetime) -> SendResult | None:
        """Tencent lists a message only once the carrier's delivery report is in, so a message
        that is not listed may still be on its way: that answer is "unknown", never None."""
        now = timezone.now()
        if now - sent_after >= timedelta(days=PULL_DAYS):
            raise LookupUnsupported(f"腾讯云只能查询最近 {PULL_DAYS} 天的发送状态")
        request = sms_models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int((sent_after - CLOCK_MARGIN).timestamp())
        request.EndTime = int((now + CLOCK_MARGIN).timestamp())
        request.Offset = 0
        request.Limit = PULL_LIMIT
        request.PhoneNumber = e164(message.to)
        request.SmsSdkAppId = str(self.options["sdk_app_id"])
        response = self._call(self.client.PullSmsSendStatusByPhoneNumber, request)
        for status in response.PullSmsSendStatusSet or []:
            if status.SessionContext == message.key and status.SerialNo:
                return SendResult(provider=self.name, provider_message_id=status.SerialNo)
        raise LookupUnsupported("腾讯云尚无此短信的状态报告：可能未发出，也可能仍在投递")

    def parse_receipts(self, body: bytes, headers: dict[str, str]) -> list[Receipt]:
        """Status callback: [{"user_receive_time", "nationcode", "mobile", "report_status",
        "errmsg", "description", "sid"}, …], times in Beijing time."""
        receipts = []
        for item in json_items(body):
            if not item.get("sid"):
                raise ValueError("receipt without sid")
            try:
                at = china_time(item.get("user_receive_time") or "")
            except ValueError as exc:
                raise ValueError(
                    f"bad user_receive_time {item.get('user_receive_time')!r}"
                ) from exc
            receipts.append(
                Receipt(
                    provider=self.name,
                    provider_message_id=str(item["sid"]),
                    delivered=item.get("report_status") == "SUCCESS",
                    at=at,
                    code=item.get("errmsg") or "",
                    description=item.get("description") or "",
                    phone=item.get("mobile") or "",
                )
            )
        return receipts

    def receipt_ack(self) -> tuple[str, bytes]:
        return "application/json; charset=utf-8", json.dumps({"result": 0, "errmsg": "OK"}).encode()
