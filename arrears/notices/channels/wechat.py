"""WeChat Official Account (微信公众号) template messages through WeChat's own HTTP API.

Two calls: `GET /cgi-bin/token` for the account's access token, kept in Django's cache (Redis in
production, shared by every worker) until shortly before it expires, and
`POST /cgi-bin/message/template/send` with the owner's openid. A token WeChat calls invalid or
expired (40001, 40014, 42001) is fetched again and the send is tried once more: WeChat refused
the first call, so the message cannot go out twice.

WeChat has no query by our key, so `lookup` is unsupported: a send whose answer was lost is
"outcome unknown" for a person to check, never resent blindly (outbox.py, step 6).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from .base import Backend, Outbound, PermanentError, SendResult, TransientError

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# The token answer says how long it lives (7200 s today); it is refreshed this long before.
TOKEN_MARGIN_SECONDS = 300
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid, not the latest, or expired
# Busy, or over a quota that frees up later (per minute, per day, per user).
TRANSIENT_ERRORS = frozenset({-1, 45009, 45047, 45011, 45015})
# The owner does not take our messages: unsubscribed, refused this template, openid not ours.
# Retrying cannot help; the outbox sends the same words by SMS instead.
REFUSED_ERRORS = frozenset({43004, 43101, 40003, 43019})


def token_cache_key(appid: str, api_base: str) -> str:
    digest = hashlib.sha256(f"{api_base}|{appid}".encode()).hexdigest()[:16]
    return f"arrears:wechat:token:{digest}"


class WeChatApiError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"微信返回 {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def call(url: str, *, body: dict | None = None, timeout: float = 10.0) -> dict:
    """One request to WeChat's API; its JSON answer, or WeChatApiError, TransientError.

    A failure while connecting or writing (urllib's URLError) left nothing WeChat could act on;
    a failure while waiting for the answer (a timeout, a reset, a 5xx) may have come after WeChat
    took the message: `in_doubt`.
    """
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https by setting
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise TransientError(f"微信接口 HTTP {exc.code}", code=f"http_{exc.code}", in_doubt=exc.code >= 500) from exc
    except urllib.error.URLError as exc:
        raise TransientError(f"无法连接微信接口: {exc.reason}", code="connect") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TransientError(f"微信接口无响应: {exc!r}", code="timeout", in_doubt=True) from exc
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransientError("微信接口应答不是 JSON", code="bad_answer", in_doubt=True) from exc
    if not isinstance(answer, dict):
        raise TransientError("微信接口应答不是 JSON 对象", code="bad_answer", in_doubt=True)
    errcode = answer.get("errcode") or 0
    if errcode:
        raise WeChatApiError(int(errcode), str(answer.get("errmsg", "")))
    return answer


class WeChatTemplateBackend(Backend):
    """Options: appid, secret (required), api_base ("https://api.weixin.qq.com"), timeout in
    seconds per call (10).

    The WeChat template comes from the notice template's provider codes under "wechat": either
    the template id, whose fields are then named as our placeholders, or
    {"template_id": "…", "data": {"thing1": "owner_name", "amount2": "amount", …}} mapping
    WeChat's field names to our placeholders. The template links to the owner's statement.
    """

    name = "wechat"

    def __init__(self, **options):
        super().__init__(**options)
        missing = [name for name in ("appid", "secret") if not options.get(name)]
        if missing:
            raise ImproperlyConfigured(
                f"微信公众号模板消息缺少配置: {', '.join(missing)} (ARREARS_WECHAT_APPID, ARREARS_WECHAT_SECRET)"
            )
        self.api_base = (options.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        self.timeout = float(options.get("timeout", 10))

    def longest_call(self) -> float:
        # At most four calls: a token, the send, a fresh token after 40001/42001, the send again.
        return 4 * self.timeout

    # -- the access token

    def _cache_key(self) -> str:
        return token_cache_key(self.options["appid"], self.api_base)

    def access_token(self, *, fresh: bool = False) -> str:
        """The cached token while it has more than TOKEN_MARGIN_SECONDS to live, else a new one."""
        if not fresh:
            cached = cache.get(self._cache_key())
            if cached and cached.get("expires_at", 0) - TOKEN_MARGIN_SECONDS > time.time():
                return cached["token"]
        query = urllib.parse.urlencode({
            "grant_type": "client_credential", "appid": self.options["appid"], "secret": self.options["secret"],
        })
        try:
            answer = call(f"{self.api_base}/cgi-bin/token?{query}", timeout=self.timeout)
        except TransientError as exc:
            # No message left with a failed token call: a retry is safe.
            raise TransientError(f"获取微信 access_token 失败: {exc}", code=exc.code) from exc
        except WeChatApiError as exc:
            if exc.errcode in TRANSIENT_ERRORS:
                raise TransientError(f"获取微信 access_token 失败: {exc}", code=str(exc.errcode)) from exc
            # Wrong appid or secret, or this server's address not on the account's whitelist (40164).
            raise PermanentError(f"获取微信 access_token 失败: {exc}", code=str(exc.errcode)) from exc
        token = str(answer.get("access_token") or "")
        if not token:
            raise TransientError("微信 access_token 应答中没有 token", code="bad_answer")
        lifetime = int(answer.get("expires_in") or 7200)
        expires_at = time.time() + lifetime
        cache.set(self._cache_key(), {"token": token, "expires_at": expires_at},
                  timeout=max(lifetime - TOKEN_MARGIN_SECONDS, 1))
        return token

    # -- sending

    def payload(self, message: Outbound) -> dict:
        """The template message WeChat takes, from the provider code and the frozen params."""
        code = message.provider_template
        if isinstance(code, dict):
            template_id = str(code.get("template_id") or "")
            fields = code.get("data") or {}
            data = {field: {"value": str(message.params.get(name, ""))} for field, name in fields.items()}
        else:
            template_id = str(code or "")
            data = {name: {"value": str(value)} for name, value in message.params.items()}
        if not template_id:
            raise PermanentError(
                f"模板 {message.template_code} 没有设置微信模板编号（服务商模板编号 \"wechat\"）", code="no_template",
            )
        body = {"touser": message.to, "template_id": template_id, "data": data}
        link = message.params.get("payment_link", "")
        if link:
            body["url"] = link
        return body

    def send(self, message: Outbound) -> SendResult:
        if not message.to:
            raise PermanentError("业主没有绑定微信 / no openid", code="no_openid")
        body = self.payload(message)
        token = self.access_token()
        for last in (False, True):
            url = f"{self.api_base}/cgi-bin/message/template/send?access_token={urllib.parse.quote(token)}"
            try:
                answer = call(url, body=body, timeout=self.timeout)
            except WeChatApiError as exc:
                if exc.errcode in TOKEN_ERRORS and not last:
                    token = self.access_token(fresh=True)  # WeChat refused the call: nothing went out
                    continue
                code = str(exc.errcode)
                if exc.errcode in TRANSIENT_ERRORS or exc.errcode in TOKEN_ERRORS:
                    raise TransientError(str(exc), code=code) from exc
                raise PermanentError(str(exc), code=code) from exc
            return SendResult(provider=self.name, provider_message_id=str(answer.get("msgid") or ""))
        raise AssertionError("unreachable")  # pragma: no cover
