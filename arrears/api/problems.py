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
        409: _("与现有记录冲突"), 422: _("无法处理的请求"), 428: _("缺少幂等键"), 429: _("请求过于频繁"),
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
