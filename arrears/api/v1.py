"""The REST API, version 1 (`/api/v1/`): thin over the apps' selectors and services.

A token acts as its user: every call sees and writes exactly what that user's pages do (roles by
model permission, communities and buildings by StaffScope). A row outside the scope answers 404,
as on the pages, so ids of other communities cannot be probed.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from arrears.api import problems, tokens
from arrears.api import schemas as s
from arrears.api.problems import Problem
from arrears.core.errors import DomainError
from arrears.core.ratelimit import client_address, hit

DESCRIPTION = """物业费催收系统的开放接口 / The open API of Arrears.

Authenticate with `Authorization: Bearer <token>` (create tokens on the staff site's API token page or
with `arrears api-token USERNAME`). A token acts as its user: it sees and changes exactly what that
user's pages do. Lists are cursor-paginated (`limit`, `cursor` → `next_cursor`). Money is a string
of yuan with two decimals. Errors are RFC 9457 problem details (`application/problem+json`) in the
language of `Accept-Language` (zh-hans by default, en). `POST /payments` needs an `Idempotency-Key`
header: a repeat with the same key and body returns the first answer.
"""


class TokenAuth(HttpBearer):
    """Bearer token → its user; counted against the user's rate limit (all their tokens together: a
    user who makes ten tokens does not get ten times the calls), failures against the caller's address."""

    def authenticate(self, request, token):
        found = tokens.authenticate(token)
        if found is None:
            limit, window = settings.ARREARS_API_AUTH_FAILURES
            if not hit("api-auth", client_address(request), limit=limit, window=window):
                raise _limited(window)
            return None
        limit, window = settings.ARREARS_API_RATE_LIMIT
        if not hit("api", f"user:{found.user_id}", limit=limit, window=window):
            raise _limited(window)
        request.user = found.user
        request.api_token = found
        return found


def _limited(window: int) -> Problem:
    return Problem(429, "rate_limited", _("请求过于频繁，请 %(seconds)s 秒后再试") % {"seconds": window},
                   headers={"Retry-After": str(window)})


PROBLEM_STATUSES = {
    "400": "bad request (body, cursor, limit, Idempotency-Key)", "401": "no valid token", "403": "the role may not do this",
    "404": "no such record in the caller's scope", "409": "conflicts with an earlier record",
    "422": "refused: `detail` says why, `errors` lists invalid fields", "429": "rate limited (Retry-After)",
}
KEY_HEADER = "Idempotency-Key"


def _unique_keys(pairs: list) -> dict:
    keys = [key for key, _value in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key appears twice")
    return dict(pairs)


class JsonBodies(Parser):
    """A body is JSON declared as JSON, each key once.

    Another content type is refused rather than guessed at; a key sent twice is refused rather
    than read as its last value (`{"amount": "1.00", "amount": "400.00"}` means two things to two
    parsers: a proxy or a signature may have checked the first)."""

    def parse_body(self, request):
        kind = request.content_type or ""
        if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
            raise ValueError(f"content type {kind!r} is not JSON")
        return json.loads(request.body, object_pairs_hook=_unique_keys)


class ArrearsAPI(NinjaAPI):
    """Ninja's schema plus what every operation can answer: problem details (RFC 9457)."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = s.ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                # one key per status: ninja's own are ints, JSON would write "400" twice (valid for Python, not YAML/JS)
                responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
                operation["responses"] = responses
                for status, description in PROBLEM_STATUSES.items():
                    responses[status] = {"description": responses.get(status, {}).get("description", description),
                                         "content": problem}
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == KEY_HEADER:
                        parameter["description"] = ("a unique value per write (a UUID): a repeat with the same key "
                                                    "and body returns the first answer")
                        parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 200}
                        parameter["required"] = path.endswith("/payments") and method == "post"
        return schema


api = ArrearsAPI(
    title="Arrears API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    parser=JsonBodies(),
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False}),
)


# ---- problems ----------------------------------------------------------------------------------

_FIELD_MESSAGES = {
    "missing": N_("必填"), "string_pattern_mismatch": N_("格式不正确"), "literal_error": N_("不是允许的值"),
    "int_parsing": N_("应为整数"), "int_type": N_("应为整数"), "date_from_datetime_parsing": N_("日期格式应为 YYYY-MM-DD"),
    "date_parsing": N_("日期格式应为 YYYY-MM-DD"), "date_type": N_("日期格式应为 YYYY-MM-DD"),
    "datetime_parsing": N_("时间格式应为 ISO 8601（含时区）"), "datetime_from_date_parsing": N_("时间格式应为 ISO 8601（含时区）"),
    "string_too_long": N_("太长"), "string_too_short": N_("不能为空"), "string_type": N_("应为字符串"),
    "greater_than_equal": N_("数值太小"), "less_than_equal": N_("数值太大"), "too_long": N_("条目太多"), "list_type": N_("应为列表"),
    "json_invalid": N_("不是有效的 JSON"), "model_attributes_type": N_("应为 JSON 对象"), "bool_parsing": N_("应为 true 或 false"),
    "int_from_float": N_("应为整数"), "date_future": N_("日期不能在未来"),
    "extra_forbidden": N_("没有这个字段"), "null_character": N_("不能包含空字符（NUL）"),
}


def _field_errors(errors) -> list[dict]:
    """Each invalid field: where it is, a stable code, and the message in the caller's language."""
    english = (get_language() or "").startswith("en")
    out = []
    for error in errors:
        kind = str(error.get("type", "invalid"))
        chinese = _FIELD_MESSAGES.get(kind)
        message = _(chinese) if chinese else str(error.get("msg", kind))
        if not english and chinese is None:
            message = f"无效：{error.get('msg', kind)}"
        out.append({"loc": [str(part) for part in error.get("loc", ())], "code": kind, "message": message})
    return out


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return problems.response(request, exc)


@api.exception_handler(DomainError)
def _domain(request, exc: DomainError):
    return problems.response(request, problems.from_domain(exc))


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    return problems.response(request, Problem(422, "validation", _("请求中有字段无效，见 errors"),
                                              errors=_field_errors(exc.errors)))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problems.response(request, Problem(
        401, "unauthenticated", _("缺少有效的 API 令牌：请在 Authorization 头中以 Bearer 方式提供未过期、未吊销的令牌"),
        headers={"WWW-Authenticate": 'Bearer realm="arrears"'}))


@api.exception_handler(Http404)
def _missing(request, exc):
    return problems.response(request, problems.not_found())


@api.exception_handler(PermissionDenied)
def _denied(request, exc):
    return problems.response(request, problems.forbidden())


@api.exception_handler(HttpError)
def _http(request, exc: HttpError):
    if exc.status_code == 400:  # Ninja's one: the body could not be read (in English only)
        return problems.response(request, Problem(
            400, "body", _("请求体须为 JSON 对象（Content-Type: application/json），每个字段只出现一次")))
    return problems.response(request, Problem(exc.status_code, "http_error", str(exc)))


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    return problems.response(request, Problem(413, "too_large", _("请求体过大")))


@api.exception_handler(Exception)
def _crash(request, exc):
    import logging

    logging.getLogger("arrears.api").exception("API call failed")
    return problems.response(request, Problem(500, "server_error", _("服务器内部错误，已记录；请稍后重试或联系管理员")))


from arrears.api import reads, writes  # noqa: E402, F401  (the writes register on the reads' router)

api.add_router("", reads.router)
