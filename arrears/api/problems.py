"""RFC 9457 problem details: every refusal of the API, in the caller's language, with a stable code.

`type` is a URN naming the problem (`urn:arrears:problem:<code>`); `title` says what kind of
problem in words, `detail` says why this request was refused, in the same words the pages use
(the domain's DomainError carries both languages). Validation problems list each field's error.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

from arrears.core.errors import DomainError

CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """Raised by the API's code; the handler turns it into the response."""

    def __init__(self, status: int, code: str, detail: str, *, title: str = "", headers: dict | None = None,
                 errors: list | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.title = status, code, detail, title
        self.headers = headers or {}
        self.errors = errors


def titles() -> dict[int, str]:
    return {
        400: _("请求有误"), 401: _("未认证"), 403: _("无权操作"), 404: _("未找到"), 405: _("不支持的请求方法"),
        409: _("与现有记录冲突"), 413: _("请求体过大"), 422: _("无法处理的请求"), 428: _("缺少幂等键"), 429: _("请求过于频繁"),
        500: _("服务器内部错误"),
    }


def response(request, problem: Problem) -> HttpResponse:
    body = {
        "type": f"urn:arrears:problem:{problem.code}",
        "title": problem.title or titles().get(problem.status, _("请求有误")),
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.path,
        "code": problem.code,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    answer = HttpResponse(json.dumps(body, ensure_ascii=False), status=problem.status, content_type=CONTENT_TYPE)
    for name, value in problem.headers.items():
        answer[name] = value
    return answer


def from_domain(error: DomainError, status: int = 422) -> Problem:
    return Problem(status, error.code, error.localized)


def not_found() -> Problem:
    return Problem(404, "not_found", _("没有这条记录，或不在您的管辖范围内"))


def forbidden() -> Problem:
    return Problem(403, "forbidden", _("您的角色没有这项权限"))


class ApiFallbackMiddleware:
    """What Django and Ninja answer themselves under /api/v1/ as problems too: a path the API does
    not have (a trailing slash, a typo: the staff site's HTML 404 page) and a method a path does not
    take (Ninja's bare text "Method not allowed"; the Allow header is kept)."""

    PREFIX = "/api/v1/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        answer = self.get_response(request)
        if not request.path.startswith(self.PREFIX) or answer.get("Content-Type") == CONTENT_TYPE:
            return answer
        if answer.status_code == 404:
            return response(request, not_found())
        if answer.status_code == 405:
            allowed = answer.get("Allow", "")
            return response(request, Problem(405, "method_not_allowed",
                                             _("这个地址不支持 %(method)s 请求，可用：%(allowed)s")
                                             % {"method": request.method, "allowed": allowed},
                                             headers={"Allow": allowed}))
        return answer
