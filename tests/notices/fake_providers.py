"""Local stand-ins for the SMS providers' HTTP APIs, and an email backend that fails on demand.

Each fake is a real HTTP server on 127.0.0.1 that the official SDK talks to: it checks the
fields the provider checks, keeps the messages it accepted (so lookups find them), answers in
the provider's JSON shape, and records every request for the tests to read.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from django.core.mail.backends.base import BaseEmailBackend

from arrears.notices.channels import Backend, SendResult

CHINA = ZoneInfo("Asia/Shanghai")
MAINLAND_MOBILE = re.compile(r"^1\d{10}$")


@dataclass
class Call:
    action: str
    params: dict
    headers: dict


@dataclass
class Accepted:
    message_id: str
    phone: str
    key: str
    template: str
    sign_name: str
    params: object
    at: datetime = field(default_factory=lambda: datetime.now(CHINA))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping out a timeout test must not hold up stop()

    def handle_error(self, request, client_address):
        pass  # the client hung up on a slow answer: expected in timeout tests


class FakeProvider:
    """The HTTP plumbing; subclasses implement `answer(method, path, headers, body)`."""

    def __init__(self):
        self.calls: list[Call] = []
        self.accepted: list[Accepted] = []
        self.delay = 0.0  # seconds to sit on an answer, after accepting the message
        self.outage = False  # answer HTTP 500
        self.per_number_limit: int | None = None  # flow control: messages per number
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, payload = fake.answer("POST", self.path, headers, body)
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes a handler sitting on a slow answer
        self._server.shutdown()
        self._server.server_close()

    def linger(self) -> None:
        """Sit on the answer, as a provider does when it is slow (the only sleep in the tests)."""
        if self.delay:
            self._stopping.wait(self.delay)

    def next_id(self) -> int:
        return next(self._ids)

    def over_limit(self, phone: str) -> bool:
        sent = sum(1 for message in self.accepted if message.phone == phone)
        return self.per_number_limit is not None and sent >= self.per_number_limit

    def answer(self, method, path, headers, body):  # pragma: no cover - interface
        raise NotImplementedError


class FakeAliyun(FakeProvider):
    """dysmsapi 2017-05-25 as the SDK calls it: RPC style, POST /, parameters in the query
    string, action and version in x-acs-* headers, ACS3-HMAC-SHA256 authorization."""

    access_key_id = "LTAI-test-key"
    access_key_secret = "test-secret"
    templates = {"SMS_460001": ["name", "amount"]}
    sign_names = {"阳光物业"}

    def answer(self, method, path, headers, body):
        url = urlsplit(path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        action = headers.get("x-acs-action", "")
        self.calls.append(Call(action, params, headers))
        request_id = f"REQ-{self.next_id()}"
        if headers.get("x-acs-version") != "2017-05-25" or url.path != "/":
            return 404, {
                "Code": "InvalidVersion",
                "Message": "Specified version is not valid.",
                "RequestId": request_id,
            }
        credential = f"ACS3-HMAC-SHA256 Credential={self.access_key_id},"
        if not headers.get("authorization", "").startswith(credential):
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
                "RequestId": request_id,
            }
        if self.outage:
            return 500, {
                "Code": "ServiceUnavailable",
                "Message": "The request has failed due to a temporary failure of the server.",
                "RequestId": request_id,
            }
        if action == "SendSms":
            return 200, {"RequestId": request_id, **self._send(params)}
        if action == "QuerySendDetails":
            return 200, {"RequestId": request_id, **self._query(params)}
        return 404, {"Code": "InvalidAction.NotFound", "Message": action, "RequestId": request_id}

    def _send(self, params):
        phone = params.get("PhoneNumbers", "")
        if not MAINLAND_MOBILE.match(phone):
            return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        if params.get("SignName") not in self.sign_names:
            return {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "该账号下找不到对应签名"}
        slots = self.templates.get(params.get("TemplateCode", ""))
        if slots is None:
            return {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"}
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except json.JSONDecodeError:
            return {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法"}
        if set(slots) - set(values):
            return {"Code": "isv.TEMPLATE_MISSING_PARAMETERS", "Message": "模板变量缺少对应参数值"}
        if self.over_limit(phone):
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控Permits:10"}
        biz_id = f"{900000 + self.next_id()}^0"
        self.accepted.append(
            Accepted(
                biz_id,
                phone,
                params.get("OutId", ""),
                params["TemplateCode"],
                params["SignName"],
                values,
            )
        )
        self.linger()
        return {"Code": "OK", "Message": "OK", "BizId": biz_id}

    def _query(self, params):
        if not re.fullmatch(r"\d{8}", params.get("SendDate", "")) or not params.get("PhoneNumber"):
            return {"Code": "isv.INVALID_PARAMETERS", "Message": "参数异常"}
        size, page = int(params.get("PageSize") or 0), int(params.get("CurrentPage") or 1)
        if not 1 <= size <= 50:
            return {"Code": "isv.INVALID_PARAMETERS", "Message": "PageSize 取值 1~50"}
        found = [
            message
            for message in self.accepted
            if message.phone == params["PhoneNumber"]
            and message.at.strftime("%Y%m%d") == params["SendDate"]
        ]
        details = [
            {
                "PhoneNum": message.phone,
                "SendStatus": 1,  # 等待回执: listed from the moment it is accepted
                "ErrCode": "",
                "TemplateCode": message.template,
                "Content": f"【{message.sign_name}】…",
                "SendDate": message.at.strftime("%Y-%m-%d %H:%M:%S"),
                "ReceiveDate": "",
                "OutId": message.key,
            }
            for message in found[(page - 1) * size : page * size]
        ]
        return {
            "Code": "OK",
            "Message": "OK",
            "TotalCount": len(found),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
        }


class FakeTencent(FakeProvider):
    """sms 2021-01-11 as the SDK calls it: POST / with a JSON body, action, version and region in
    X-TC-* headers, TC3-HMAC-SHA256 authorization; errors as HTTP 200 with Response.Error."""

    secret_id = "AKID-test"
    secret_key = "test-secret-key"
    sdk_app_id = "1400006666"
    templates = {"1110001": 2}  # template id: number of {n} slots
    sign_names = {"阳光物业"}

    def __init__(self):
        super().__init__()
        self.reports_arrived = True  # False: accepted messages have no delivery report yet

    def answer(self, method, path, headers, body):
        params = json.loads(body or b"{}")
        action = headers.get("x-tc-action", "")
        self.calls.append(Call(action, params, headers))
        request_id = f"req-{self.next_id()}"
        if self.outage:
            return 500, {"message": "upstream unavailable"}

        def error(code, message):
            return 200, {
                "Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
            }

        if headers.get("x-tc-version") != "2021-01-11":
            return error("NoSuchVersion", "The requested version does not exist.")
        if not headers.get("authorization", "").startswith(
            f"TC3-HMAC-SHA256 Credential={self.secret_id}/"
        ):
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId not exist.")
        if action == "SendSms":
            if params.get("SignName") not in self.sign_names:
                return error(
                    "FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误"
                )
            slots = self.templates.get(params.get("TemplateId", ""))
            if slots is None:
                return error(
                    "FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配"
                )
            if len(params.get("TemplateParamSet") or []) != slots:
                return error(
                    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "参数个数不匹配"
                )
            statuses = [
                self._send_one(phone, params) for phone in params.get("PhoneNumberSet") or []
            ]
            self.linger()
            return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}
        if action == "PullSmsSendStatusByPhoneNumber":
            if params.get("Offset") != 0 or not 1 <= int(params.get("Limit") or 0) <= 100:
                return error(
                    "InvalidParameterValue.LimitVerifyFail", "Limit 取值 1~100, Offset 为 0"
                )
            return 200, {
                "Response": {"PullSmsSendStatusSet": self._pull(params), "RequestId": request_id}
            }
        return error("InvalidAction", action)

    def _send_one(self, phone, params):
        status = {
            "PhoneNumber": phone,
            "SessionContext": params.get("SessionContext", ""),
            "Fee": 0,
            "IsoCode": "CN",
            "SerialNo": "",
        }
        if not (phone.startswith("+86") and MAINLAND_MOBILE.match(phone[3:])):
            return {
                **status,
                "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": "手机号格式错误",
                "IsoCode": "DEF",
            }
        if self.over_limit(phone):
            return {
                **status,
                "Code": "LimitExceeded.PhoneNumberDailyLimit",
                "Message": "单个手机号日下发短信条数超过设定的上限",
            }
        serial = f"2433:{330000000000 + self.next_id()}"
        self.accepted.append(
            Accepted(
                serial,
                phone,
                params.get("SessionContext", ""),
                params["TemplateId"],
                params["SignName"],
                params["TemplateParamSet"],
            )
        )
        return {**status, "SerialNo": serial, "Fee": 1, "Code": "Ok", "Message": "send success"}

    def _pull(self, params):
        if not self.reports_arrived:
            return []
        begin, end = params.get("BeginTime", 0), params.get("EndTime") or 2**31
        return [
            {
                "UserReceiveTime": int(message.at.timestamp()),
                "CountryCode": "86",
                "SubscriberNumber": message.phone[3:],
                "PhoneNumber": message.phone,
                "SerialNo": message.message_id,
                "ReportStatus": "SUCCESS",
                "Description": "DELIVRD",
                "SessionContext": message.key,
            }
            for message in self.accepted
            if message.phone == params.get("PhoneNumber") and begin <= message.at.timestamp() <= end
        ][: params["Limit"]]


class FailingEmailBackend(BaseEmailBackend):
    """Raises `FailingEmailBackend.error` from send_messages, as smtplib would mid-conversation."""

    error: Exception | None = None

    def send_messages(self, email_messages):
        if self.error is not None:
            raise self.error
        return len(email_messages)


class SlowProvider:
    """The provider's side of `SlowBackend`: calls that block until the test lets them answer.

    `hold(key)` makes the next call for that out-id wait on an Event (no sleeps); the test waits
    for `called(key)`, moves the clock, starts another sender, then `release(key)`: with
    `die=True` the sender dies mid-call, after the provider accepted (`accept=True`) or before.
    The provider lists a message for `lookup` only once its call has answered: a message still
    in flight is invisible, the case that sends twice when two senders overlap.
    """

    _lock = threading.Lock()
    accepted: dict[str, int] = {}
    calls: list[str] = []
    during_call = None  # a callable run inside every call (a second sender, a moving clock)
    _holds: dict[str, dict] = {}  # key → {"entered", "released": Event, "accept", "die": bool}
    _waiting: dict[str, dict] = {}  # holds not yet met by a call: one call each

    @classmethod
    def reset(cls) -> None:
        cls.accepted, cls.calls, cls.during_call, cls._holds, cls._waiting = {}, [], None, {}, {}

    @classmethod
    def hold(cls, key: str) -> None:
        gate = {"entered": threading.Event(), "released": threading.Event(), "accept": True, "die": False}
        with cls._lock:
            cls._holds[key] = cls._waiting[key] = gate

    @classmethod
    def called(cls, key: str, timeout: float = 10) -> bool:
        return cls._holds[key]["entered"].wait(timeout)

    @classmethod
    def release(cls, key: str, *, accept: bool = True, die: bool = False) -> None:
        gate = cls._holds[key]
        gate["accept"], gate["die"] = accept, die
        gate["released"].set()


class SenderDied(BaseException):
    """The sender's process died mid-call: nothing after this line of it runs."""


class SlowBackend(Backend):
    """A channel backend over `SlowProvider`."""

    name = "slow"

    def send(self, message):
        provider = SlowProvider
        with provider._lock:
            provider.calls.append(message.key)
            gate = provider._waiting.pop(message.key, None)
        if provider.during_call is not None:
            provider.during_call(message)
        accept, die = True, False
        if gate is not None:
            gate["entered"].set()
            assert gate["released"].wait(10), "the test never released the call"
            accept, die = gate["accept"], gate["die"]
        if accept:
            with provider._lock:
                provider.accepted[message.key] = provider.accepted.get(message.key, 0) + 1
        if die:
            raise SenderDied
        return SendResult(provider=self.name, provider_message_id=f"slow-{message.key}")

    def lookup(self, message, sent_after):
        if message.key in SlowProvider.accepted:
            return SendResult(provider=self.name, provider_message_id=f"slow-{message.key}")
        return None
