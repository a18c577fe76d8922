"""A local stand-in for the WeChat Official Account API on 127.0.0.1 (a threaded http.server).

It serves what the backend and the portal call: `GET /cgi-bin/token`, `POST
/cgi-bin/message/template/send` and `GET /sns/oauth2/access_token`, checks what WeChat checks
(appid and secret, a live token, a subscribed openid, a known template, a code used once), answers
in WeChat's JSON shape, and records every call. `script` makes the next answers of a path odd on
purpose: an errcode, "500" (HTTP 500), "slow" (sits on the answer past the client's timeout).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

APPID = "wx-test-appid"
SECRET = "test-secret-not-real"
TOKEN = "/cgi-bin/token"
SEND = "/cgi-bin/message/template/send"
OAUTH = "/sns/oauth2/access_token"


@dataclass
class Call:
    path: str
    query: dict
    body: dict


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # the client hung up on a slow answer: expected in timeout tests


class FakeWeChat:
    def __init__(self):
        self.calls: list[Call] = []
        self.live_tokens: set[str] = set()
        self.expires_in = 7200
        self.subscribed: set[str] = set()
        self.templates: set[str] = {"TPL-overdue"}
        self.codes: dict[str, str] = {}  # OAuth code → openid, each good once
        self.sent: list[dict] = []
        self.delay = 0.0
        self.scripts: dict[str, deque] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: dict):
                url = urlsplit(self.path)
                status, payload = fake.answer(url.path, dict(parse_qsl(url.query)), body)
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer({})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = {"__invalid__": True}
                self._answer(body)

            def log_message(self, format, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeWeChat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, path: str, *answers) -> None:
        """The next answers of `path`, in order: an errcode (int), "500" or "slow"."""
        self.scripts[path].extend(answers)

    def expire_tokens(self) -> None:
        """WeChat's side of a token running out: every token issued so far answers 42001."""
        self.live_tokens.clear()

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    def answer(self, path: str, query: dict, body: dict) -> tuple[int, dict]:
        with self._lock:
            self.calls.append(Call(path, query, body))
            scripted = self.scripts[path].popleft() if self.scripts[path] else None
        if scripted == "500":
            return 500, {"errcode": -1, "errmsg": "system error"}
        if scripted == "slow":
            self._stopping.wait(self.delay or 1.0)
        elif scripted is not None:
            return 200, {"errcode": scripted, "errmsg": f"scripted {scripted}"}
        if path == TOKEN:
            return 200, self._token(query)
        if path == SEND:
            return 200, self._send(query, body)
        if path == OAUTH:
            return 200, self._oauth(query)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _token(self, query: dict) -> dict:
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != APPID:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != SECRET:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = f"TOKEN-{next(self._ids)}"
        self.live_tokens.add(token)
        return {"access_token": token, "expires_in": self.expires_in}

    def _send(self, query: dict, body: dict) -> dict:
        if query.get("access_token") not in self.live_tokens:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if body.get("template_id") not in self.templates:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        if not isinstance(body.get("data"), dict):
            return {"errcode": 47003, "errmsg": "argument invalid! data is empty"}
        if body.get("touser") not in self.subscribed:
            return {"errcode": 43004, "errmsg": "require subscribe"}
        msgid = 200000000 + next(self._ids)
        self.sent.append({**body, "msgid": msgid})
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _oauth(self, query: dict) -> dict:
        if query.get("appid") != APPID or query.get("secret") != SECRET:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if query.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        with self._lock:
            openid = self.codes.pop(query.get("code", ""), None)
        if openid is None:
            return {"errcode": 40029, "errmsg": "invalid code"}
        return {"access_token": "OAUTH-TOKEN", "expires_in": 7200, "refresh_token": "R", "openid": openid,
                "scope": "snsapi_base"}
