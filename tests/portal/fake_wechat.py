"""A local stand-in for WeChat Pay's API v3 order endpoints (POST /v3/pay/transactions/h5 and
/native) on 127.0.0.1: it checks the merchant's WECHATPAY2-SHA256-RSA2048 Authorization with the
merchant public key, answers in WeChat's JSON shape, and signs its answers with the platform key,
as the SDK insists."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.portal.keys import CERT_SERIAL_NO, MCHID, PUBLIC_KEY_ID, sign, verify

AUTHORIZATION = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.*)$')
REQUIRED = {"appid", "mchid", "description", "out_trade_no", "notify_url", "amount"}


@dataclass
class Call:
    path: str
    headers: dict
    body: dict


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class FakeWeChatPay:
    def __init__(self, *, merchant_public_key, platform_key):
        self.merchant_public_key = merchant_public_key
        self.platform_key = platform_key  # set another key to answer with a signature the SDK must refuse
        self.calls: list[Call] = []
        self.fail: tuple[int, dict] | None = None  # answer this instead, e.g. (403, {"code": "NO_AUTH", …})
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                status, payload = fake.answer(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                data = json.dumps(payload, ensure_ascii=False)
                timestamp, nonce = str(int(time.time())), secrets.token_hex(16).upper()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data.encode())))
                self.send_header("Request-ID", "08F78BB5AF0610D302A6D43D0A24BE1F")
                self.send_header("Wechatpay-Timestamp", timestamp)
                self.send_header("Wechatpay-Nonce", nonce)
                self.send_header("Wechatpay-Signature", sign(fake.platform_key, f"{timestamp}\n{nonce}\n{data}\n"))
                self.send_header("Wechatpay-Serial", PUBLIC_KEY_ID)
                self.send_header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, format, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeWeChatPay:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, headers: dict, raw: str) -> tuple[int, dict]:
        body = json.loads(raw or "{}")
        self.calls.append(Call(path, headers, body))
        found = AUTHORIZATION.match(headers.get("authorization", ""))
        fields = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1))) if found else {}
        message = f"POST\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{raw}\n"
        if (fields.get("mchid") != MCHID or fields.get("serial_no") != CERT_SERIAL_NO
                or not verify(self.merchant_public_key, message, fields.get("signature", ""))):
            return 401, {"code": "SIGN_ERROR", "message": "签名错误，请检查后再试"}
        if headers.get("wechatpay-serial") != PUBLIC_KEY_ID:
            return 400, {"code": "PARAM_ERROR", "message": "Wechatpay-Serial 与微信支付公钥ID不符"}
        if self.fail:
            return self.fail
        missing = REQUIRED - set(body)
        if missing or not isinstance(body["amount"].get("total"), int):
            return 400, {"code": "PARAM_ERROR", "message": f"输入源“/body”映射到值字段“{sorted(missing)}”必填性规则校验失败"}
        prepay = f"wx{time.strftime('%d%H%M%S')}{secrets.token_hex(8)}"
        if path == "/v3/pay/transactions/h5":
            if not body.get("scene_info", {}).get("payer_client_ip") or not body["scene_info"].get("h5_info"):
                return 400, {"code": "PARAM_ERROR", "message": "scene_info 必填"}
            return 200, {"h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay}&package=1037687096"}
        if path == "/v3/pay/transactions/native":
            return 200, {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_hex(4)}"}
        return 404, {"code": "NOT_FOUND", "message": "URL 不存在"}
